package callctl

import (
	"context"
	"io"
	"time"

	"pbx/media"
)

// Router routes inbound calls. Route runs for the whole life of the call:
// when it returns, every leg the call still owns is hung up and the CDR is
// written.
type Router interface {
	Route(ctx context.Context, call Call)
}

// TransferRouter reaches the target of a blind transfer (REFER without
// Replaces). It must end with t.Complete or t.Fail.
type TransferRouter interface {
	BlindTransfer(ctx context.Context, t Transfer)
}

// Program is what a call does: a Router's Route, or the body of an
// originated call.
type Program func(ctx context.Context, call Call)

// Controller starts calls that no party placed, and tells whether the node
// takes new calls.
type Controller interface {
	// Originate starts a call with no inbound leg, running program on its
	// own goroutine; it returns at once. The program dials (with no
	// Caller) and bridges as a routed call does; when it returns, the
	// call's legs are hung up and the CDR (with origin "originate") is
	// written. It fails with ErrDraining while the node drains.
	Originate(spec OriginateSpec, program Program) (Call, error)
}

// OriginateSpec describes an originated call.
type OriginateSpec struct {
	// Origin names the tenant and the identity the call presents
	// (Origin.Caller); Kind is set to OriginOriginate.
	Origin Origin
	// Dialled is what the CDR names as callee until SetCallee.
	Dialled string
}

// Call is what a program does with its legs: the inbound leg of a routed
// call (none for an originated one), and the legs it dials.
type Call interface {
	// ID identifies the call (the inbound leg's Call-ID, or a generated id).
	ID() string
	// Origin is who placed the call, as admission found it.
	Origin() Origin
	// Dialled is what the caller dialled: the user part of the
	// Request-URI (of To when it has none), as received.
	Dialled() string
	// Inbound is the leg that called; nil for an originated call.
	Inbound() Leg
	// Context ends when no party is left in the call (its inbound leg has
	// ended and no dialled leg is up, or every leg has ended), or when the
	// node shuts down.
	Context() context.Context
	// Dial starts ringing spec's destinations and returns a handle on the
	// dial at once; its Wait says who answered.
	Dial(ctx context.Context, spec DialSpec) Dialing
	// Bridge joins two answered legs (or a caller in early media with an
	// answered leg): their media flows between them. Legs of other calls
	// become this call's own.
	Bridge(a, b Leg, opts BridgeOptions) (Bridge, error)
	// SetTenant makes the call the tenant's, for a trunk call once its
	// number is routed (CDR, hold music).
	SetTenant(tenantID, domain string)
	// SetCallee names the callee in the CDR (default: what was dialled).
	SetCallee(p Party)
}

// LegState is where a leg is in its life.
type LegState int

// Leg states.
const (
	LegNew      LegState = iota // created, nothing sent
	LegRinging                  // inbound: 180 sent; outbound: ringing
	LegEarly                    // early media: 183 with SDP sent or received
	LegAnswered                 // 2xx sent or received
	LegEnded
)

func (s LegState) String() string {
	switch s {
	case LegNew:
		return "new"
	case LegRinging:
		return "ringing"
	case LegEarly:
		return "early"
	case LegAnswered:
		return "answered"
	case LegEnded:
		return "ended"
	}
	return "unknown"
}

// Leg is one party: one dialog and its media.
type Leg interface {
	// ID is unique among the node's legs.
	ID() string
	Inbound() bool
	// Remote is the identity of the far end.
	Remote() Party
	// Secure reports whether the leg's media is SRTP.
	Secure() bool
	State() LegState
	AnsweredAt() time.Time
	// Done is closed when the leg has ended; Cause then says why.
	Done() <-chan struct{}
	Cause() Cause
	// Events is the leg's ordered event stream (DTMF, hold, unhold,
	// progress, answer, transfer request, hang-up). It holds the last 64
	// unread events (older ones are dropped, counted in the log) and is
	// closed after the hang-up event, so a program may range over it.
	Events() <-chan Event

	// Ring sends 180 Ringing on an unanswered inbound leg.
	Ring()
	// Progress sends 183 Session Progress with our SDP on an unanswered
	// inbound leg: from then on Play, Prompt and bridges are heard by the
	// caller before (and without) any answer.
	Progress(ctx context.Context) error
	// Answer answers an inbound leg and waits for its ACK or ctx.
	Answer(ctx context.Context) error
	// Hangup ends the leg: BYE when answered, CANCEL while a dialled leg
	// rings, a final response from cause on an unanswered inbound leg.
	Hangup(cause Cause)

	// Play plays srcs in order and returns when they have been played,
	// when ctx ends (the playback is stopped) or when the leg ends.
	// Digits typed meanwhile are kept for the next Prompt.
	Play(ctx context.Context, srcs ...media.Source) error
	// Prompt plays spec.Audio and collects digits (see PromptSpec).
	Prompt(ctx context.Context, spec PromptSpec) (PromptResult, error)
	// StartMusic makes the far end hear the tenant's music class (""
	// for its default class) until StopMusic, a bridge or a Play.
	StartMusic(class string) error
	StopMusic()
	// SendDTMF sends digits to the far end as RFC 4733 events.
	SendDTMF(ctx context.Context, digits string) error
	// Record writes what the far end says to w as a WAV file (8 kHz mono,
	// 16-bit) until spec stops it, ctx ends or the leg ends.
	Record(ctx context.Context, w io.WriteSeeker, spec RecordSpec) (RecordResult, error)
}

// BridgeOptions tune a bridge.
type BridgeOptions struct {
	// KeepRemaining: when one leg ends, the bridge ends and the other leg
	// stays up and is handed back by Wait, instead of being hung up.
	KeepRemaining bool
}

// Bridge joins the media of two legs. When one leg ends, the other is hung
// up with the same cause (or handed back, with KeepRemaining). While a
// leg's far end holds, the other leg hears the tenant's hold music.
type Bridge interface {
	Legs() (Leg, Leg)
	Done() <-chan struct{}
	// Wait returns when the bridge has ended; remaining is the leg still
	// up with KeepRemaining (nil otherwise, or if both ended).
	Wait(ctx context.Context) (remaining Leg, err error)
	// Unbridge ends the bridge and leaves both legs up.
	Unbridge()
	// Replace puts leg n in the place of old (a transfer started by the
	// program); old leaves the bridge and stays up.
	Replace(old, n Leg) error
	// Record records both parties as a stereo WAV (left: the first leg's
	// far end, right: the second's), time-aligned, until ctx ends, the
	// recording is stopped or the bridge ends. It survives Replace.
	Record(ctx context.Context, w io.WriteSeeker, spec RecordSpec) (Recording, error)
}

// Recording is a recording under way.
type Recording interface {
	// Stop ends the recording (the file is complete when it returns).
	Stop() RecordResult
	Done() <-chan struct{}
	// Result is valid once Done is closed.
	Result() RecordResult
}

// Transfer is a blind transfer in progress: the far end of Transferor
// asked (REFER) that Transferee be connected to Target instead of itself.
type Transfer interface {
	Call() Call
	Transferor() Leg
	Transferee() Leg
	// Target is the user part of the Refer-To URI (a number to route).
	Target() string
	// Complete bridges the transferee with leg and hangs the transferor up.
	Complete(leg Leg) error
	// Fail reports to the transferor that the target was not reached.
	Fail(cause Cause)
}
