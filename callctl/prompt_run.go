package callctl

import (
	"context"
	"strings"
	"time"
)

// Clock makes timers; prompts take one so that their timing is tested
// with a fake clock.
type Clock interface {
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// Prompt defaults.
const (
	DefaultFirstDigit = 5 * time.Second
	DefaultInterDigit = 3 * time.Second
)

// PromptIO is what RunPrompt works with: a leg's audio and digits.
type PromptIO struct {
	Clock Clock
	// Play starts the prompt's audio; done is closed when it has been
	// played (or could not be), stop ends it early. Nil: no audio.
	Play func(ctx context.Context) (done <-chan struct{}, stop func())
	// Digits delivers the far end's digits, type-ahead first.
	Digits <-chan rune
	// Unread puts a digit back at the head of the type-ahead: a digit
	// that barged into a prompt collecting none (MaxDigits 0) is left for
	// the next one. May be nil (the digit is then dropped).
	Unread func(d rune)
	// Flush discards the type-ahead (PromptSpec.Flush).
	Flush func()
	// Ended is closed when the leg has ended.
	Ended <-chan struct{}
}

// RunPrompt plays a prompt and collects digits as spec says (see
// PromptSpec): digits typed before it (type-ahead) count first unless
// spec.Flush; a digit stops the audio unless spec.NoBargeIn; the
// first-digit timer starts only once the audio has ended, the inter-digit
// timer after each digit once no audio plays. It returns what was
// collected, with ctx.Err() when ctx ended and ErrLegEnded when the leg
// did (the audio is stopped in both cases).
func RunPrompt(ctx context.Context, io PromptIO, spec PromptSpec) (PromptResult, error) {
	if spec.Flush && io.Flush != nil {
		io.Flush()
	}
	first, inter := spec.FirstDigit, spec.InterDigit
	if first <= 0 {
		first = DefaultFirstDigit
	}
	if inter <= 0 {
		inter = DefaultInterDigit
	}
	var (
		res     PromptResult
		n       int
		playing <-chan struct{} // nil when no audio plays
		stop    = func() {}
		timer   Timer
		timeout <-chan time.Time
	)
	defer func() {
		stop()
		if timer != nil {
			timer.Stop()
		}
	}()
	arm := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		timer = io.Clock.NewTimer(d)
		timeout = timer.C()
	}
	// take handles one digit; it reports whether collection is over.
	take := func(d rune) bool {
		if spec.MaxDigits == 0 {
			if io.Unread != nil {
				io.Unread(d)
			}
			return true
		}
		if strings.ContainsRune(spec.Terminators, d) {
			res.Terminator = d
			return true
		}
		res.Digits += string(d)
		n++
		return n >= spec.MaxDigits
	}
	finished := false
	// A type-ahead digit that would barge in is taken before the audio
	// starts, so that a caller who dials through a menu hears none of it.
	if !spec.NoBargeIn {
	typeahead:
		for !finished {
			select {
			case d := <-io.Digits:
				finished = take(d)
				if spec.MaxDigits == 0 {
					return res, nil
				}
			default:
				break typeahead
			}
		}
		if finished {
			return res, nil
		}
	}
	if io.Play != nil && (n == 0 || spec.NoBargeIn) {
		var done <-chan struct{}
		done, stop = io.Play(ctx)
		playing = done
	}
	if playing == nil {
		if spec.MaxDigits == 0 {
			return res, nil
		}
		if n == 0 {
			arm(first)
		} else {
			arm(inter)
		}
	}
	digits := io.Digits
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-io.Ended:
			return res, ErrLegEnded
		case <-playing:
			playing = nil
			stop = func() {}
			if finished || spec.MaxDigits == 0 {
				return res, nil
			}
			if n == 0 {
				arm(first)
			} else {
				arm(inter)
			}
		case <-timeout:
			res.TimedOut = true
			return res, nil
		case d := <-digits:
			finished = take(d)
			if playing != nil && spec.NoBargeIn {
				if finished {
					digits = nil // collected: wait for the end of the audio
				}
				continue
			}
			if finished {
				return res, nil
			}
			if playing != nil {
				stop()
				stop, playing = func() {}, nil
			}
			arm(inter)
		}
	}
}
