package b2bua

import (
	"time"

	"pbx/callctl"
)

// eventBuffer is how many unread events a leg keeps.
const eventBuffer = 64

// ID is unique among the node's legs.
func (l *Leg) ID() string { return l.id }

// State is where the leg is in its life.
func (l *Leg) State() callctl.LegState {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case legNew:
		return callctl.LegNew
	case legRinging:
		return callctl.LegRinging
	case legEarly:
		return callctl.LegEarly
	case legAnswering, legAnswered:
		return callctl.LegAnswered
	}
	return callctl.LegEnded
}

// Events is the leg's ordered event stream; it is closed after the hang-up
// event. Its buffer is made on the first call: most legs are never asked,
// and their events (a handful) wait in a slice meanwhile.
func (l *Leg) Events() <-chan callctl.Event {
	l.evMu.Lock()
	defer l.evMu.Unlock()
	if l.events == nil {
		l.events = make(chan callctl.Event, eventBuffer)
		for _, ev := range l.evPending {
			l.events <- ev
		}
		l.evPending = nil
		if l.evClosed {
			close(l.events)
		}
	}
	return l.events
}

// emit queues ev on the leg's event stream without ever blocking: a
// program that does not read its events must not stall signalling or
// media. When the buffer is full the oldest event is dropped (the program
// wants what is happening now); the first drop is logged. The hang-up
// event closes the stream, and later events are discarded.
//
// The dial code emits EventRinging and EventProgress of outbound legs
// with it; EventAnswer, EventHangup, hold and DTMF are emitted by the leg.
func (l *Leg) emit(ev callctl.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	l.evMu.Lock()
	defer l.evMu.Unlock()
	if l.evClosed {
		return
	}
	if l.events == nil {
		// Nobody has asked for the stream yet.
		if len(l.evPending) == eventBuffer {
			l.dropped(l.evPending[0])
			l.evPending = append(l.evPending[:0], l.evPending[1:]...)
		}
		l.evPending = append(l.evPending, ev)
		l.evClosed = ev.Kind == callctl.EventHangup
		return
	}
	// Only emit sends, under evMu, so after one receive there is room.
	for {
		select {
		case l.events <- ev:
			if ev.Kind == callctl.EventHangup {
				l.evClosed = true
				close(l.events)
			}
			return
		default:
		}
		select {
		case old := <-l.events:
			l.dropped(old)
		default:
		}
	}
}

// dropped logs the first event dropped unread; l.evMu is held.
func (l *Leg) dropped(old callctl.Event) {
	if !l.evDropped {
		l.evDropped = true
		l.svc.log.Info("leg events unread; dropping the oldest", "leg", l.id, "call_id", l.callID, "dropped", old.Kind.String())
	}
}
