package b2bua

import (
	"context"
	"strings"
	"time"
)

// OnDTMF registers fn to be told of every RFC 4733 digit received from the
// far end (fn must not block); nil removes it.
func (l *Leg) OnDTMF(fn func(digit rune)) {
	l.mu.Lock()
	l.onDTMF = fn
	l.mu.Unlock()
}

func (l *Leg) dtmf(d rune) {
	l.mu.Lock()
	fn := l.onDTMF
	l.mu.Unlock()
	if fn != nil {
		fn(d)
	}
	select {
	case l.digits <- d:
	default:
	}
}

// CollectDigits gathers up to max digits, stopping early at one of the
// terminator runes (not included), when no digit came for interDigit, or
// when ctx ends. Digits received before the call are discarded.
func (l *Leg) CollectDigits(ctx context.Context, max int, terminators string, interDigit time.Duration) (string, error) {
	for drained := false; !drained; {
		select {
		case <-l.digits:
		default:
			drained = true
		}
	}
	var b strings.Builder
	t := time.NewTimer(interDigit)
	defer t.Stop()
	for b.Len() < max {
		select {
		case d := <-l.digits:
			if strings.ContainsRune(terminators, d) {
				return b.String(), nil
			}
			b.WriteRune(d)
			t.Reset(interDigit)
		case <-t.C:
			return b.String(), nil
		case <-l.done:
			return b.String(), ErrLegEnded
		case <-ctx.Done():
			return b.String(), ctx.Err()
		}
	}
	return b.String(), nil
}
