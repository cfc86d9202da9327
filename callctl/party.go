package callctl

import "errors"

// ErrLegEnded is returned by operations on a leg that has ended.
var ErrLegEnded = errors.New("callctl: leg ended")

// ErrDraining is returned by Originate while the node refuses new calls.
var ErrDraining = errors.New("callctl: draining, no new calls")

// Party is one end's identity as presented in signalling.
type Party struct {
	Name   string // display name
	Number string // extension, E.164 number or SIP user; empty when withheld
	Domain string // SIP domain (the tenant's)
	UserID string // the licence, when the party is one of ours
}

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
	// CauseCongestion: no resource (RTP port, trunk capacity) for the call.
	CauseCongestion Cause = "congestion"
	// CauseForbidden: policy refused the call (suspended licence or
	// tenant, barring, service minimum).
	CauseForbidden Cause = "forbidden"
	// CauseAnonymityDisallowed: the callee refuses callers who withhold
	// their number (SIP 433, RFC 5079).
	CauseAnonymityDisallowed Cause = "anonymity_disallowed"
	// CauseAnsweredElsewhere: another destination of the same dial
	// answered (the losers' CANCEL says "Call completed elsewhere").
	CauseAnsweredElsewhere Cause = "answered_elsewhere"
)

// OriginKind says what kind of party placed a call.
type OriginKind string

// Origins of calls.
const (
	// OriginDevice: a registered device of a tenant, authenticated.
	OriginDevice OriginKind = "device"
	// OriginTrunk: a carrier trunk, recognised by its source address or
	// its credentials; the tenant is found from the called number.
	OriginTrunk OriginKind = "trunk"
	// OriginOriginate: a call the platform started itself (campaign,
	// click-to-call, callback); it has no inbound leg.
	OriginOriginate OriginKind = "originate"
)

// Origin is who placed a call, as admission established it. Policy (licence
// and billing state, barring) is the dialplan's business, not admission's:
// an emergency call from a suspended licence must reach the dialplan.
type Origin struct {
	Kind     OriginKind
	TenantID string // the caller's tenant; empty for a trunk until routed
	Domain   string // the tenant's SIP domain
	UserID   string // device: the licence
	DeviceID string // device: the device
	TrunkID  string // trunk: the trunk
	Source   string // host:port the request came from
	// Caller is the identity presented to callees: the licence's name and
	// extension for a device, the From of a trunk call.
	Caller Party
}
