package b2bua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// Play plays srcs in order to the far end and returns when they have been
// played, when ctx ends (the playback is stopped) or when the leg ends.
// While it plays it replaces what a bridge sends the leg; it ends music.
// Digits typed meanwhile stay in the type-ahead for the next Prompt.
// Sources that are io.Closers are closed once played or stopped.
func (l *Leg) Play(ctx context.Context, srcs ...media.Source) error {
	if len(srcs) == 0 {
		return nil
	}
	done, stop, errp := l.startAudio(srcs)
	select {
	case <-done:
		if l.ended() {
			return ErrLegEnded
		}
		return *errp
	case <-ctx.Done():
		stop()
		return ctx.Err()
	case <-l.done:
		stop()
		return ErrLegEnded
	}
}

// startAudio plays srcs in sequence (media.Sequence) on a goroutine of
// its own; done is closed when they have been played, the leg ended or
// stop (which waits for done) was called. The sources that are io.Closers
// are closed by then. *err is set before done is closed.
func (l *Leg) startAudio(srcs []media.Source) (done <-chan struct{}, stop func(), err *error) {
	l.sess.StopMusic()
	d := make(chan struct{})
	quit := make(chan struct{})
	var once sync.Once
	var perr error
	seq := media.Sequence(srcs...)
	pb, perr := l.sess.Play(seq)
	if perr != nil {
		_ = seq.(io.Closer).Close()
		perr = fmt.Errorf("b2bua: play: %w", perr)
		close(d)
	} else {
		l.svc.spawn(func() {
			defer close(d)
			select {
			case <-pb.Done():
			case <-quit:
				pb.Stop()
				<-pb.Done()
			case <-l.done:
			}
			_ = seq.(io.Closer).Close()
		})
	}
	return d, func() {
		once.Do(func() { close(quit) })
		<-d
	}, &perr
}

// Prompt plays spec.Audio and collects digits (see callctl.PromptSpec and
// callctl.RunPrompt).
func (l *Leg) Prompt(ctx context.Context, spec callctl.PromptSpec) (callctl.PromptResult, error) {
	if l.ended() {
		return callctl.PromptResult{}, ErrLegEnded
	}
	io := callctl.PromptIO{Clock: callctl.RealClock, Digits: l.digits, Unread: l.unreadDigit, Flush: l.flushDigits, Ended: l.done}
	if len(spec.Audio) > 0 {
		io.Play = func(context.Context) (<-chan struct{}, func()) {
			done, stop, _ := l.startAudio(spec.Audio)
			return done, stop
		}
	}
	return callctl.RunPrompt(ctx, io, spec)
}

// StartMusic makes the far end hear the tenant's music class ("" for the
// tenant's hold music) until StopMusic, a bridge or a Play.
func (l *Leg) StartMusic(class string) error {
	if l.ended() {
		return ErrLegEnded
	}
	tenant := ""
	if c := l.owner(); c != nil {
		tenant = c.tenantID()
	}
	mc := l.svc.musicClass(tenant, class)
	if mc == nil {
		return fmt.Errorf("b2bua: no music class %q", class)
	}
	if err := l.sess.StartMusic(mc); err != nil {
		if errors.Is(err, media.ErrClosed) {
			return ErrLegEnded
		}
		return err
	}
	return nil
}

// StopMusic stops what StartMusic started.
func (l *Leg) StopMusic() { l.sess.StopMusic() }

// dtmfGap separates the digits SendDTMF sends.
const dtmfGap = 60 * time.Millisecond

// SendDTMF sends digits to the far end as RFC 4733 events, one after the
// other; it fails when the far end did not negotiate telephone-event.
func (l *Leg) SendDTMF(ctx context.Context, digits string) error {
	for i, d := range digits {
		if i > 0 {
			select {
			case <-time.After(dtmfGap):
			case <-ctx.Done():
				return ctx.Err()
			case <-l.done:
				return ErrLegEnded
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.sess.SendDTMF(d, 0); err != nil {
			if l.ended() {
				return ErrLegEnded
			}
			return fmt.Errorf("b2bua: send dtmf: %w", err)
		}
	}
	return nil
}

func (l *Leg) ended() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// owner is the call the leg belongs to, or nil.
func (l *Leg) owner() *Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.call
}
