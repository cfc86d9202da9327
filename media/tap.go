package media

import "time"

// TimedTap receives decoded audio of a session with its time: at is the
// engine time (see Engine.Now) the packet was received, for Inbound, or
// sent, for Outbound. samples is only valid during the call: copy what you
// keep. A tap runs on the media path (the receive goroutine for Inbound,
// the sending goroutine for Outbound, with the session's send lock held):
// it must be quick and must not call methods of the session.
type TimedTap func(dir Direction, at time.Duration, samples []int16)

// tapEntry gives a tap an identity, so that remove finds it (functions are
// not comparable).
type tapEntry struct{ fn TimedTap }

// AddTap registers fn to receive the session's decoded audio in both
// directions, besides any other tap. Calling remove (idempotent) takes it
// away. The list is an immutable slice behind an atomic pointer: a session
// without taps does no extra work per packet.
func (s *Session) AddTap(fn TimedTap) (remove func()) {
	if fn == nil {
		return func() {}
	}
	e := &tapEntry{fn: fn}
	s.tapMu.Lock()
	var l []*tapEntry
	if old := s.taps.Load(); old != nil {
		l = append(l, *old...)
	}
	l = append(l, e)
	s.taps.Store(&l)
	s.tapMu.Unlock()
	return func() { s.removeTap(e) }
}

func (s *Session) removeTap(e *tapEntry) {
	s.tapMu.Lock()
	defer s.tapMu.Unlock()
	old := s.taps.Load()
	if old == nil {
		return
	}
	l := make([]*tapEntry, 0, len(*old))
	for _, x := range *old {
		if x != e {
			l = append(l, x)
		}
	}
	if len(l) == 0 {
		s.taps.Store(nil)
		return
	}
	s.taps.Store(&l)
}

// runTaps hands samples to every tap; ns is engine-monotonic nanoseconds
// as returned by Engine.now.
func runTaps(l []*tapEntry, dir Direction, ns int64, samples []int16) {
	at := time.Duration(ns - 1)
	for _, e := range l {
		e.fn(dir, at, samples)
	}
}

// TapFunc receives decoded audio of a session, without its time. See
// TimedTap.
type TapFunc func(dir Direction, samples []int16)

// SetTap registers fn as the session's one untimed tap, replacing the
// previous one set this way; nil removes it. Taps added with AddTap are not
// affected.
func (s *Session) SetTap(fn TapFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setTapRemove != nil {
		s.setTapRemove()
		s.setTapRemove = nil
	}
	if fn != nil {
		s.setTapRemove = s.AddTap(func(dir Direction, _ time.Duration, samples []int16) { fn(dir, samples) })
	}
}

// Now returns the engine's monotonic time: the time since it started. Tap
// times are on this clock.
func (e *Engine) Now() time.Duration { return time.Since(e.epoch) }
