package media

import "time"

// inactivityWatch is the state of OnInactive. It costs a runtime timer and
// no goroutine until it fires.
type inactivityWatch struct {
	d     time.Duration
	fn    func()
	timer *time.Timer
	base  int64 // engine-monotonic ns: start of the current watch period
}

// OnInactive calls fn once, on its own goroutine, when no valid RTP packet
// has been received for d while media is expected (see SetExpectMedia). The
// watch starts now. A new call replaces the previous watch; d <= 0 or a nil
// fn removes it.
func (s *Session) OnInactive(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.watch; w != nil {
		w.timer.Stop()
		s.watch = nil
	}
	if d <= 0 || fn == nil || s.closed.Load() {
		return
	}
	w := &inactivityWatch{d: d, fn: fn, base: s.eng.now()}
	s.watch = w
	w.timer = time.AfterFunc(d, func() { s.checkInactive(w) })
	if !s.expect {
		w.timer.Stop()
	}
}

// SetExpectMedia tells whether the far end is supposed to send: false while
// it holds the call (a=sendonly or inactive from its side), true again
// when it resumes. The inactivity watch is suspended meanwhile and
// restarts its full period on resume. Media is expected by default.
func (s *Session) SetExpectMedia(expect bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if expect == s.expect {
		return
	}
	s.expect = expect
	w := s.watch
	if w == nil {
		return
	}
	if expect {
		w.base = s.eng.now()
		w.timer.Reset(w.d)
	} else {
		w.timer.Stop()
	}
}

func (s *Session) checkInactive(w *inactivityWatch) {
	s.mu.Lock()
	if s.watch != w || s.closed.Load() || !s.expect {
		s.mu.Unlock()
		return
	}
	last := max(s.lastRx.Load(), w.base)
	if idle := time.Duration(s.eng.now() - last); idle < w.d {
		w.timer.Reset(w.d - idle)
		s.mu.Unlock()
		return
	}
	s.watch = nil
	s.mu.Unlock()
	w.fn()
}
