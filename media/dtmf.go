package media

// dtmfState folds the packets of RFC 4733 events into one notification per
// event. All packets of an event share its RTP timestamp; the end packet is
// sent three times. Owned by the receive goroutine.
type dtmfState struct {
	active bool
	ended  bool
	ts     uint32
	event  uint8
}

// dtmfDigits maps RFC 4733 event codes 0-16 to runes.
const dtmfDigits = "0123456789*#ABCD!"

func (s *Session) observeDTMF(p []byte, ts uint32) {
	if len(p) < 4 {
		return
	}
	event, end := p[0], p[1]&0x80 != 0
	d := &s.dtmf
	if !d.active || ts != d.ts {
		if d.active && !d.ended {
			s.fireDTMF(d.event) // its end packets were lost
		}
		*d = dtmfState{active: true, ts: ts, event: event}
	}
	if end && !d.ended {
		d.ended = true
		s.fireDTMF(event)
	}
}

func (s *Session) fireDTMF(event uint8) {
	fn := s.onDTMF.Load()
	if fn == nil || int(event) >= len(dtmfDigits) {
		return
	}
	s.inCallback.Store(true)
	defer s.inCallback.Store(false)
	(*fn)(rune(dtmfDigits[event]))
}
