package b2bua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// recordTick extends a recording with silence while nobody sends, and
// runs its silence detection then.
const recordTick = 100 * time.Millisecond

// Record writes what the far end says to w as a mono WAV file until spec
// stops it, ctx ends or the leg ends. With spec.Beep a beep is played to
// the far end first. Digits typed before the recording starts are
// discarded; during it, a digit of spec.StopDigits stops it and other
// digits are dropped. The trailing silence that stops it is kept.
func (l *Leg) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
	if l.ended() {
		return callctl.RecordResult{Stop: callctl.RecordHangup}, ErrLegEnded
	}
	if spec.Beep {
		if err := l.Play(ctx, media.NewTone(media.ToneBeep)); err != nil {
			return callctl.RecordResult{Stop: stopOf(err), Err: err}, err
		}
	}
	silent := make(chan struct{}, 1)
	rec, err := media.NewRecorder(w, 1, media.RecorderOptions{SilenceAfter: spec.Silence, OnSilence: func() {
		select {
		case silent <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		return callctl.RecordResult{Err: err}, err
	}
	eng := l.svc.cfg.Engine
	rec.Start(eng.Now())
	remove := rec.Tap(l.sess, 0, media.Inbound)
	var digits <-chan rune
	if spec.StopDigits != "" {
		l.flushDigits()
		digits = l.digits
	}
	var max <-chan time.Time
	if spec.Max > 0 {
		t := time.NewTimer(spec.Max)
		defer t.Stop()
		max = t.C
	}
	tick := time.NewTicker(recordTick)
	defer tick.Stop()
	var res callctl.RecordResult
	for res.Stop == "" {
		select {
		case <-ctx.Done():
			res.Stop = callctl.RecordCancelled
		case <-l.done:
			res.Stop = callctl.RecordHangup
		case <-max:
			res.Stop = callctl.RecordMax
		case <-silent:
			res.Stop = callctl.RecordSilence
		case d := <-digits:
			if strings.ContainsRune(spec.StopDigits, d) {
				res.Stop, res.Digit = callctl.RecordDigit, d
			}
		case <-tick.C:
			rec.Advance(eng.Now())
		}
	}
	remove()
	rec.Advance(eng.Now())
	res.Err = rec.Close()
	res.Duration = rec.Duration()
	switch {
	case res.Err != nil:
		return res, res.Err
	case res.Stop == callctl.RecordCancelled:
		return res, ctx.Err()
	case res.Stop == callctl.RecordHangup:
		return res, ErrLegEnded
	}
	return res, nil
}

func stopOf(err error) callctl.RecordStop {
	if errors.Is(err, ErrLegEnded) {
		return callctl.RecordHangup
	}
	return callctl.RecordCancelled
}

// bridgeRecording records a bridge in stereo: channel i is what leg i of
// the bridge hears from its far end. Its taps are guarded by the
// bridge's mu, which Replace holds while it moves one to the new leg.
type bridgeRecording struct {
	br     *Bridge
	rec    *media.Recorder
	remove [2]func()
	stop   chan struct{}
	once   sync.Once
	done   chan struct{}
	result callctl.RecordResult
}

// Record records both parties as a stereo WAV (left: the first leg's far
// end, right: the second's), time-aligned, until ctx ends, Stop, spec's
// Max or Silence, or the end of the bridge. After Replace the new leg is
// recorded on the channel of the leg it replaced. A bridge recording plays
// no beep and watches no digits (spec.Beep and spec.StopDigits are for
// Leg.Record).
func (br *Bridge) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.Recording, error) {
	r := &bridgeRecording{br: br, stop: make(chan struct{}), done: make(chan struct{})}
	silent := make(chan struct{}, 1)
	rec, err := media.NewRecorder(w, 2, media.RecorderOptions{SilenceAfter: spec.Silence, OnSilence: func() {
		select {
		case silent <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		return nil, err
	}
	r.rec = rec
	eng := br.call.svc.cfg.Engine
	rec.Start(eng.Now())
	br.mu.Lock()
	if br.ended {
		br.mu.Unlock()
		_ = rec.Close()
		return nil, fmt.Errorf("b2bua: record: %w", ErrLegEnded)
	}
	for i, l := range br.legs {
		r.remove[i] = rec.Tap(l.sess, i, media.Inbound)
	}
	br.recs = append(br.recs, r)
	br.mu.Unlock()
	br.call.svc.spawn(func() { r.run(ctx, spec, silent) })
	return r, nil
}

func (r *bridgeRecording) run(ctx context.Context, spec callctl.RecordSpec, silent <-chan struct{}) {
	defer close(r.done)
	eng := r.br.call.svc.cfg.Engine
	var max <-chan time.Time
	if spec.Max > 0 {
		t := time.NewTimer(spec.Max)
		defer t.Stop()
		max = t.C
	}
	tick := time.NewTicker(recordTick)
	defer tick.Stop()
	var stop callctl.RecordStop
	for stop == "" {
		select {
		case <-ctx.Done():
			stop = callctl.RecordCancelled
		case <-r.stop:
			stop = callctl.RecordCancelled
		case <-r.br.done:
			stop = callctl.RecordHangup
			if a, b := r.br.pair(); !a.ended() && !b.ended() {
				stop = callctl.RecordCancelled // unbridged
			}
		case <-max:
			stop = callctl.RecordMax
		case <-silent:
			stop = callctl.RecordSilence
		case <-tick.C:
			r.rec.Advance(eng.Now())
		}
	}
	r.br.mu.Lock()
	for _, rm := range r.remove {
		rm()
	}
	for i, x := range r.br.recs {
		if x == r {
			r.br.recs = append(r.br.recs[:i], r.br.recs[i+1:]...)
			break
		}
	}
	r.br.mu.Unlock()
	err := r.rec.Close()
	r.result = callctl.RecordResult{Duration: r.rec.Duration(), Stop: stop, Err: err}
}

// moveRecordings moves the recordings' tap on leg idx to leg n. br.mu is
// held.
func (br *Bridge) moveRecordings(idx int, n *Leg) {
	for _, r := range br.recs {
		r.remove[idx]()
		r.remove[idx] = r.rec.Tap(n.sess, idx, media.Inbound)
	}
}

// Stop ends the recording; the file is complete when it returns.
func (r *bridgeRecording) Stop() callctl.RecordResult {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return r.result
}

// Done is closed when the recording has ended.
func (r *bridgeRecording) Done() <-chan struct{} { return r.done }

// Result is valid once Done is closed.
func (r *bridgeRecording) Result() callctl.RecordResult {
	select {
	case <-r.done:
		return r.result
	default:
		return callctl.RecordResult{}
	}
}
