package b2bua

import "pbx/callctl"

// Cause says why a leg or a call ended (callctl.Cause); the names below
// keep the package's own spelling.
type Cause = callctl.Cause

// Hang-up causes.
const (
	CauseNormal            = callctl.CauseNormal
	CauseBusy              = callctl.CauseBusy
	CauseNoAnswer          = callctl.CauseNoAnswer
	CauseUnavailable       = callctl.CauseUnavailable
	CauseNotFound          = callctl.CauseNotFound
	CauseCancelled         = callctl.CauseCancelled
	CauseRejected          = callctl.CauseRejected
	CauseNotAcceptable     = callctl.CauseNotAcceptable
	CauseMediaTimeout      = callctl.CauseMediaTimeout
	CauseTransferred       = callctl.CauseTransferred
	CauseShutdown          = callctl.CauseShutdown
	CauseFailure           = callctl.CauseFailure
	CauseCongestion        = callctl.CauseCongestion
	CauseForbidden         = callctl.CauseForbidden
	CauseAnsweredElsewhere = callctl.CauseAnsweredElsewhere
)

// SIPStatus is the final response that rejects an unanswered inbound leg
// for cause c.
func SIPStatus(c Cause) (int, string) {
	switch c {
	case CauseBusy:
		return 486, "Busy Here"
	case CauseNoAnswer:
		return 480, "Temporarily Unavailable"
	case CauseUnavailable:
		return 480, "Temporarily Unavailable"
	case CauseNotFound:
		return 404, "Not Found"
	case CauseCancelled:
		return 487, "Request Terminated"
	case CauseRejected:
		return 603, "Decline"
	case CauseForbidden:
		return 403, "Forbidden"
	case callctl.CauseAnonymityDisallowed:
		return 433, "Anonymity Disallowed"
	case CauseNotAcceptable:
		return 488, "Not Acceptable Here"
	case CauseShutdown, CauseCongestion:
		return 503, "Service Unavailable"
	case CauseFailure, CauseMediaTimeout:
		return 500, "Server Internal Error"
	}
	return 480, "Temporarily Unavailable"
}

// causeOfStatus maps a final response of a dialled leg to a cause.
func causeOfStatus(code int) Cause {
	switch {
	case code == 486 || code == 600:
		return CauseBusy
	case code == 404 || code == 604:
		return CauseNotFound
	case code == 408 || code == 480:
		return CauseNoAnswer
	case code == 487:
		return CauseCancelled
	case code == 488 || code == 606:
		return CauseNotAcceptable
	case code == 403 || code == 603:
		return CauseRejected
	case code == 433:
		return callctl.CauseAnonymityDisallowed
	}
	return CauseFailure
}

// disposition is the CDR disposition of an unanswered call that ended for c.
func disposition(c Cause) string {
	switch c {
	case CauseBusy:
		return "busy"
	case CauseNoAnswer:
		return "no_answer"
	case CauseCancelled:
		return "cancelled"
	}
	return "failed"
}
