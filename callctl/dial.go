package callctl

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Target is one SIP contact to ring.
type Target struct {
	// URI is the Request-URI: a device's registered Contact, or a number
	// at a carrier ("sip:+3221234567@sip.carrier.example").
	URI string
	// Via is the host:port the INVITE is sent to (the address a device
	// registered from, behind NAT; a carrier's outbound proxy); empty
	// means wherever URI resolves to.
	Via string
	// Transport is udp, tcp or tls (default udp).
	Transport string
	// SRTP offers RTP/SAVP with SDES keys.
	SRTP bool
	// RouteSet becomes Route headers, in order.
	RouteSet []string
	// Headers are added to the INVITE (P-Asserted-Identity, Privacy,
	// Geolocation, ...); they override ours of the same name.
	Headers []Header
	// Parts are sent beside our SDP in a multipart/mixed body (a PIDF-LO
	// location, RFC 6442).
	Parts []BodyPart
	// Auth answers the target's 401/407 challenge (a carrier trunk).
	Auth *Credentials
	// DeviceID is the device this target rings, if any (busy state, logs).
	DeviceID string
	// ResponseTimeout, when set, abandons the target if it sends no
	// response at all (not even 100 Trying) within it, as if it had
	// answered 408: a carrier that is down fails over in seconds rather
	// than after the INVITE transaction's 32 s.
	ResponseTimeout time.Duration
}

// Header is one SIP header.
type Header struct{ Name, Value string }

// BodyPart is one part of a multipart body.
type BodyPart struct {
	ContentType string
	Headers     []Header // Content-ID, Content-Disposition, ...
	Body        []byte
}

// Credentials answer a digest challenge.
type Credentials struct{ Username, Password string }

// Destination is one member of a dial: its targets ring together and answer
// as one (all the devices of a licence, a carrier's two proxies).
type Destination struct {
	Targets []Target
	// Callee is put in To.
	Callee Party
	// CallerID is presented in From and P-Asserted-Identity (default: the
	// call's caller).
	CallerID *Party
	// Timeout is how long this destination rings (default: the spec's).
	Timeout time.Duration
	// Delay starts this destination that long after the dial (Simultaneous).
	Delay time.Duration
	// Tag names the destination in the result (a user id, a trunk id).
	Tag string
	// Confirm, when set, runs on the answered leg before it wins (a
	// colleague reached on a mobile presses 1 to take the call); false
	// hangs that leg up and the dial goes on without this destination.
	Confirm func(ctx context.Context, leg Leg) bool
}

// Strategy is how a dial rings its destinations.
type Strategy int

const (
	// Simultaneous rings every destination at once (after its Delay); the
	// first to answer wins and the others get CANCEL with
	// Reason: SIP;cause=200;text="Call completed elsewhere".
	Simultaneous Strategy = iota
	// Sequential rings the destinations one after the other, each for its
	// Timeout, until one answers or a final response StopOn accepts.
	Sequential
)

// DialSpec is a dial.
type DialSpec struct {
	Destinations []Destination
	Strategy     Strategy
	// Timeout bounds the whole dial (default 60 s for Simultaneous; none
	// beyond the destinations' own for Sequential) and is each
	// destination's ring time unless it sets its own.
	Timeout time.Duration
	// Caller is the leg waiting for this dial: it is sent 180 when a
	// destination rings, the dial stops when it hangs up, and with
	// EarlyMedia it hears a destination's early media. Default: the
	// call's inbound leg (none for an originated call).
	Caller Leg
	// EarlyMedia relays a destination's early media (183 with SDP) to
	// Caller, which is sent 183 with our SDP first.
	EarlyMedia bool
	// StopOn says which final response ends a Sequential dial instead of
	// moving on to the next destination; nil moves on after every failure
	// (a hunt group). TrunkFailover is the rule for carrier routes.
	StopOn func(status int) bool
}

// TrunkFailover is the StopOn rule of carrier routes: the callee's own
// answers (busy, declined, unknown number, ...) are final; a carrier that
// failed (no response, 408, 5xx but 503 with Retry-After alike) moves on
// to the next route.
func TrunkFailover(status int) bool {
	switch {
	case status == 0, status == 408:
		return false
	case status >= 500 && status < 600:
		return false
	}
	return status >= 400
}

// DialResult names who answered.
type DialResult struct {
	Leg Leg
	// Destination is the index in DialSpec.Destinations (then in the
	// order of Dialing.Add) of the one that answered; Tag is its Tag.
	Destination int
	Tag         string
	// PickedUp: the dial was answered by Dialing.PickUp.
	PickedUp bool
}

// Dialing is a dial under way.
type Dialing interface {
	// Add rings one more destination with this dial (a device that a push
	// notification woke up, registering after the dial started).
	Add(d Destination) error
	// PickUp ends the dial as if leg had answered it (call pickup): every
	// destination gets CANCEL with "Call completed elsewhere".
	PickUp(leg Leg) error
	// Cancel stops the dial; Wait then returns a DialError with cause.
	Cancel(cause Cause)
	// Wait returns who answered, or a *DialError.
	Wait(ctx context.Context) (DialResult, error)
}

// DialError is why a dial reached nobody.
type DialError struct {
	Cause  Cause
	Status int // the deciding SIP final response, 0 if none
}

func (e *DialError) Error() string {
	return fmt.Sprintf("callctl: dial failed: %s (SIP %d)", e.Cause, e.Status)
}

// CauseOf extracts the cause of a dial error (CauseCancelled for a leg
// that ended, CauseFailure for others).
func CauseOf(err error) Cause {
	var de *DialError
	if errors.As(err, &de) {
		return de.Cause
	}
	if errors.Is(err, ErrLegEnded) {
		return CauseCancelled
	}
	return CauseFailure
}

// DialWait dials spec and waits for the result.
func DialWait(ctx context.Context, call Call, spec DialSpec) (DialResult, error) {
	return call.Dial(ctx, spec).Wait(ctx)
}
