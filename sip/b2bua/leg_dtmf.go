package b2bua

import (
	"strings"
	"unicode"

	"pbx/callctl"
)

// digitBuffer bounds a leg's type-ahead: digits received and not yet
// read by a Prompt (the oldest go first when it is full).
const digitBuffer = 64

// OnDTMF registers fn to be told of every digit received from the far end
// (RFC 4733 or SIP INFO; fn must not block); nil removes it.
func (l *Leg) OnDTMF(fn func(digit rune)) {
	l.mu.Lock()
	l.onDTMF = fn
	l.mu.Unlock()
}

// dtmf takes in a digit from the far end, from either transport: it goes
// to the type-ahead buffer and to the event stream.
func (l *Leg) dtmf(d rune) {
	l.mu.Lock()
	fn := l.onDTMF
	l.mu.Unlock()
	if fn != nil {
		fn(d)
	}
	l.digitMu.Lock()
	for {
		select {
		case l.digits <- d:
		default:
			select {
			case <-l.digits:
			default:
			}
			continue
		}
		break
	}
	l.digitMu.Unlock()
	l.emit(callctl.Event{Kind: callctl.EventDTMF, Digit: d})
}

// unreadDigit puts d back at the head of the type-ahead (a digit that
// skipped an announcement is meant for the next prompt).
func (l *Leg) unreadDigit(d rune) {
	l.digitMu.Lock()
	defer l.digitMu.Unlock()
	rest := make([]rune, 0, len(l.digits))
	for len(l.digits) > 0 {
		rest = append(rest, <-l.digits)
	}
	if len(rest) == cap(l.digits) {
		rest = rest[:len(rest)-1] // full: the newest makes room
	}
	l.digits <- d
	for _, r := range rest {
		l.digits <- r
	}
}

// flushDigits discards the type-ahead.
func (l *Leg) flushDigits() {
	for {
		select {
		case <-l.digits:
		default:
			return
		}
	}
}

// infoDigit reads the digit of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5"). ok is false for
// other bodies.
func infoDigit(contentType string, body []byte) (rune, bool) {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	var v string
	switch strings.TrimSpace(ct) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, val, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(val)
				break
			}
		}
	case "application/dtmf":
		v = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	if len(v) != 1 {
		// RFC 4733 event numbers: 10 is *, 11 is #.
		switch v {
		case "10":
			return '*', true
		case "11":
			return '#', true
		}
		return 0, false
	}
	d := unicode.ToUpper(rune(v[0]))
	switch {
	case d >= '0' && d <= '9', d == '*', d == '#', d >= 'A' && d <= 'D':
		return d, true
	}
	return 0, false
}
