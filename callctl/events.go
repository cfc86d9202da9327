package callctl

import "time"

// EventKind names what happened on a leg.
type EventKind int

// Leg events.
const (
	EventDTMF            EventKind = iota + 1 // Digit: RFC 4733 or SIP INFO
	EventHold                                 // the far end put us on hold
	EventUnhold                               // the far end resumed
	EventRinging                              // a dialled leg rings (180)
	EventProgress                             // early media (183 with SDP)
	EventAnswer                               // the leg was answered
	EventTransferRequest                      // Target: the far end sent REFER
	EventHangup                               // Cause: the leg ended; the last event
)

func (k EventKind) String() string {
	switch k {
	case EventDTMF:
		return "dtmf"
	case EventHold:
		return "hold"
	case EventUnhold:
		return "unhold"
	case EventRinging:
		return "ringing"
	case EventProgress:
		return "progress"
	case EventAnswer:
		return "answer"
	case EventTransferRequest:
		return "transfer_request"
	case EventHangup:
		return "hangup"
	}
	return "unknown"
}

// Event is one thing that happened on a leg.
type Event struct {
	Kind   EventKind
	At     time.Time
	Digit  rune   // EventDTMF
	Cause  Cause  // EventHangup
	Target string // EventTransferRequest
}
