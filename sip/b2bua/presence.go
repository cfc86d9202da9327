package b2bua

// The busy lamps of colleagues follow a user's calls: each leg counts for
// the user on its device side (the caller of an inbound leg, the callee of
// an outbound one) as early while it rings or dials and as confirmed once
// answered; Config.UserState hears every change of the resulting state.

// Dialog states of a user, as the dialog event package (RFC 4235) names them.
const (
	UserIdle      = "terminated"
	UserEarly     = "early"
	UserConfirmed = "confirmed"
)

type legPhase int8

const (
	phaseNone legPhase = iota
	phaseEarly
	phaseConfirmed
)

type userLegs struct{ early, confirmed int }

func (u userLegs) state() string {
	switch {
	case u.confirmed > 0:
		return UserConfirmed
	case u.early > 0:
		return UserEarly
	}
	return UserIdle
}

// setPhase moves the leg to phase p for its user's state.
func (l *Leg) setPhase(p legPhase) {
	s := l.svc
	uid := l.remote.UserID
	if uid == "" || s.cfg.UserState == nil {
		return
	}
	s.presMu.Lock()
	defer s.presMu.Unlock()
	if p != phaseNone {
		select {
		case <-l.done:
			return // ended meanwhile: end has set, or will set, phaseNone
		default:
		}
	}
	old := l.phase
	if old == p {
		return
	}
	l.phase = p
	u := s.users[uid]
	before := u.state()
	for _, c := range []struct {
		ph legPhase
		d  int
	}{{old, -1}, {p, +1}} {
		switch c.ph {
		case phaseEarly:
			u.early += c.d
		case phaseConfirmed:
			u.confirmed += c.d
		}
	}
	if u == (userLegs{}) {
		delete(s.users, uid)
	} else {
		s.users[uid] = u
	}
	if after := u.state(); after != before {
		// Under presMu, so that the listener hears the changes of a user
		// in order; it must not call back into the b2bua.
		s.cfg.UserState(uid, after)
	}
}

// UserState returns the current dialog state of a user (UserIdle,
// UserEarly or UserConfirmed).
func (s *Service) UserState(userID string) string {
	s.presMu.Lock()
	defer s.presMu.Unlock()
	return s.users[userID].state()
}
