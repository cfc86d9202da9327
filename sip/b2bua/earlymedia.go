package b2bua

import (
	"sync"

	"pbx/media"
	"pbx/media/sdp"
)

// earlyRelay lets the caller of a dial with EarlyMedia hear the early media
// of one destination (a carrier's announcement, a callee's ringback) before
// any answer: the first destination that sends 183 with SDP has its answer
// applied to its leg, the caller is sent 183 with our SDP, and the two
// sessions are bridged. When that leg wins, the bridge stays until the
// program's Bridge replaces it; when it fails, the caller's session goes
// back to what it played before (its playback or music, else silence).
type earlyRelay struct {
	mu       sync.Mutex
	leg      *Leg
	mb       *media.Bridge
	progress bool // the caller was sent 183
}

// relayEarly starts relaying l's early media (body: the 183's SDP) to the
// caller; it reports whether it did.
func (d *Dialing) relayEarly(l *Leg, body []byte) bool {
	caller := d.caller
	if caller == nil || !caller.inbound || caller.Bridge() != nil {
		return false
	}
	e := &d.early
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leg != nil {
		return e.leg == l
	}
	ans, err := sdp.Parse(body)
	if err == nil {
		err = l.applyAnswer(ans)
	}
	if err != nil {
		d.c.svc.log.Info("early media refused", "call_id", l.callID, "error", err)
		return false
	}
	if !e.progress {
		if err := caller.Progress(d.ctx); err != nil {
			d.c.svc.log.Info("early media: no 183 to the caller", "call_id", caller.callID, "error", err)
			return false
		}
		e.progress = true
	}
	mb, err := media.NewBridge(caller.sess, l.sess)
	if err != nil {
		return false
	}
	e.leg, e.mb = l, mb
	return true
}

// stop ends the relay if l (any leg, when nil) is the one relayed.
func (e *earlyRelay) stop(l *Leg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leg == nil || (l != nil && e.leg != l) {
		return
	}
	_ = e.mb.Close()
	e.leg, e.mb = nil, nil
}

func (e *earlyRelay) current() *Leg {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leg
}

func (e *earlyRelay) progressed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.progress
}
