package b2bua

// Cause says why a leg or a call ended. The values are written in CDRs.
type Cause string

// Hang-up causes.
const (
	CauseNormal        Cause = "normal_clearing"
	CauseBusy          Cause = "user_busy"
	CauseNoAnswer      Cause = "no_answer"
	CauseUnavailable   Cause = "unavailable"
	CauseNotFound      Cause = "unallocated_number"
	CauseCancelled     Cause = "originator_cancel"
	CauseRejected      Cause = "call_rejected"
	CauseNotAcceptable Cause = "incompatible_destination"
	CauseMediaTimeout  Cause = "media_timeout"
	CauseTransferred   Cause = "transferred"
	CauseShutdown      Cause = "system_shutdown"
	CauseFailure       Cause = "network_failure"
	// CauseCongestion: we had no resource (RTP port) for the call.
	CauseCongestion Cause = "congestion"
)

// SIPStatus is the final response that rejects an unanswered inbound leg
// for this cause.
func (c Cause) SIPStatus() (int, string) {
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
	}
	return CauseFailure
}

// disposition is the CDR disposition of an unanswered call that ended for c.
func (c Cause) disposition() string {
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
