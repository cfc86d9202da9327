package callctl

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock fires its timers only when the test advances it; created
// tells the test of each timer made, with its duration.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Duration
	timers  []*fakeTimer
	created chan time.Duration
}

type fakeTimer struct {
	c        chan time.Time
	deadline time.Duration
	stopped  bool
}

func newFakeClock() *fakeClock { return &fakeClock{created: make(chan time.Duration, 16)} }

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{c: make(chan time.Time, 1), deadline: c.now + d}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.created <- d
	return &fakeTimerHandle{c: c, t: t}
}

type fakeTimerHandle struct {
	c *fakeClock
	t *fakeTimer
}

func (h *fakeTimerHandle) C() <-chan time.Time { return h.t.c }
func (h *fakeTimerHandle) Stop() bool {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	was := !h.t.stopped
	h.t.stopped = true
	return was
}

// advance moves time on and reports how many timers fired.
func (c *fakeClock) advance(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	fired := 0
	for _, t := range c.timers {
		if !t.stopped && t.deadline <= c.now {
			t.stopped = true
			t.c <- time.Time{}
			fired++
		}
	}
	return fired
}

// audio is a prompt's audio under the test's control.
type audio struct {
	started chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newAudio() *audio {
	return &audio{started: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
}

func (a *audio) play(context.Context) (<-chan struct{}, func()) {
	a.started <- struct{}{}
	return a.done, func() { a.once.Do(func() { close(a.stopped) }) }
}

func (a *audio) finish() { close(a.done) }

type run struct {
	res PromptResult
	err error
}

type harness struct {
	clk    *fakeClock
	au     *audio
	digits chan rune
	ended  chan struct{}
	out    chan run
	cancel context.CancelFunc
}

func start(t *testing.T, spec PromptSpec, typeahead string, withAudio bool) *harness {
	t.Helper()
	h := &harness{clk: newFakeClock(), au: newAudio(), digits: make(chan rune, 64), ended: make(chan struct{}), out: make(chan run, 1)}
	for _, d := range typeahead {
		h.digits <- d
	}
	io := PromptIO{Clock: h.clk, Digits: h.digits, Ended: h.ended,
		Unread: func(d rune) { h.digits <- d },
		Flush: func() {
			for len(h.digits) > 0 {
				<-h.digits
			}
		}}
	if withAudio {
		io.Play = h.au.play
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	t.Cleanup(cancel)
	go func() {
		res, err := RunPrompt(ctx, io, spec)
		h.out <- run{res, err}
	}()
	return h
}

const wait = 10 * time.Second

func (h *harness) result(t *testing.T) run {
	t.Helper()
	select {
	case r := <-h.out:
		return r
	case <-time.After(wait):
		t.Fatal("prompt did not return")
	}
	return run{}
}

func (h *harness) timer(t *testing.T, want time.Duration) {
	t.Helper()
	select {
	case d := <-h.clk.created:
		if d != want {
			t.Fatalf("timer of %v, want %v", d, want)
		}
	case <-time.After(wait):
		t.Fatalf("no timer of %v started", want)
	}
}

func (h *harness) noTimer(t *testing.T) {
	t.Helper()
	select {
	case d := <-h.clk.created:
		t.Fatalf("unexpected timer of %v", d)
	default:
	}
}

func (h *harness) playing(t *testing.T) {
	t.Helper()
	select {
	case <-h.au.started:
	case <-time.After(wait):
		t.Fatal("audio not started")
	}
}

func stopped(a *audio) bool {
	select {
	case <-a.stopped:
		return true
	default:
		return false
	}
}

var spec3 = PromptSpec{MaxDigits: 3, Terminators: "#", FirstDigit: 5 * time.Second, InterDigit: 2 * time.Second}

func TestPromptBargeInStopsAudioAndCounts(t *testing.T) {
	h := start(t, spec3, "", true)
	h.playing(t)
	h.digits <- '4'
	h.timer(t, 2*time.Second) // inter-digit, once the digit stopped the audio
	if !stopped(h.au) {
		t.Fatal("audio still playing after barge-in")
	}
	h.digits <- '2'
	h.timer(t, 2*time.Second)
	h.digits <- '#'
	r := h.result(t)
	if r.err != nil || r.res.Digits != "42" || r.res.Terminator != '#' || r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

func TestPromptTypeAheadConsumedFirst(t *testing.T) {
	h := start(t, spec3, "123", true)
	r := h.result(t)
	if r.err != nil || r.res.Digits != "123" {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
	select {
	case <-h.au.started:
		t.Fatal("audio played although the type-ahead completed the prompt")
	default:
	}
}

func TestPromptTypeAheadThenMore(t *testing.T) {
	h := start(t, spec3, "1", true)
	h.timer(t, 2*time.Second) // a digit is in: the inter-digit timer, no audio
	h.digits <- '5'
	h.timer(t, 2*time.Second)
	if h.clk.advance(2*time.Second) != 1 {
		t.Fatal("inter-digit timer did not fire")
	}
	r := h.result(t)
	if r.err != nil || r.res.Digits != "15" || !r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
	select {
	case <-h.au.started:
		t.Fatal("audio played over type-ahead")
	default:
	}
}

func TestPromptFlushDiscardsTypeAhead(t *testing.T) {
	s := spec3
	s.Flush = true
	h := start(t, s, "99", true)
	h.playing(t)
	h.au.finish()
	h.timer(t, 5*time.Second)
	h.clk.advance(5 * time.Second)
	r := h.result(t)
	if r.err != nil || r.res.Digits != "" || !r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

func TestPromptFirstDigitTimerStartsWhenAudioEnds(t *testing.T) {
	h := start(t, spec3, "", true)
	h.playing(t)
	// However long the audio plays, no timer runs.
	if h.clk.advance(time.Minute) != 0 {
		t.Fatal("a timer fired while the audio played")
	}
	h.noTimer(t)
	h.au.finish()
	h.timer(t, 5*time.Second)
	if h.clk.advance(5*time.Second-time.Millisecond) != 0 {
		t.Fatal("first-digit timer fired early")
	}
	h.digits <- '7'
	h.timer(t, 2*time.Second)
	h.digits <- '8'
	h.timer(t, 2*time.Second)
	h.digits <- '9'
	r := h.result(t)
	if r.err != nil || r.res.Digits != "789" || r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

func TestPromptFirstDigitTimeout(t *testing.T) {
	h := start(t, spec3, "", false)
	h.timer(t, 5*time.Second)
	h.clk.advance(5 * time.Second)
	r := h.result(t)
	if r.err != nil || r.res.Digits != "" || !r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

func TestPromptDefaults(t *testing.T) {
	h := start(t, PromptSpec{MaxDigits: 2}, "", false)
	h.timer(t, DefaultFirstDigit)
	h.digits <- '1'
	h.timer(t, DefaultInterDigit)
	h.clk.advance(DefaultInterDigit)
	if r := h.result(t); r.res.Digits != "1" || !r.res.TimedOut {
		t.Fatalf("got %+v", r.res)
	}
}

func TestPromptNoBargeIn(t *testing.T) {
	s := spec3
	s.NoBargeIn = true
	h := start(t, s, "", true)
	h.playing(t)
	h.digits <- '1'
	h.digits <- '2'
	h.noTimerWhile(t)
	if stopped(h.au) {
		t.Fatal("a digit stopped audio with NoBargeIn")
	}
	h.au.finish()
	h.timer(t, 2*time.Second) // digits are in: inter-digit
	h.digits <- '3'
	r := h.result(t)
	if r.err != nil || r.res.Digits != "123" {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

// noTimerWhile checks that no timer starts while the audio plays, after
// the digits sent so far were taken.
func (h *harness) noTimerWhile(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(h.digits) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	h.noTimer(t)
}

func TestPromptNoBargeInCompleteWaitsForAudio(t *testing.T) {
	s := PromptSpec{MaxDigits: 1, NoBargeIn: true}
	h := start(t, s, "", true)
	h.playing(t)
	h.digits <- '5'
	h.noTimerWhile(t)
	select {
	case r := <-h.out:
		t.Fatalf("returned %+v before the audio ended", r.res)
	default:
	}
	h.au.finish()
	if r := h.result(t); r.err != nil || r.res.Digits != "5" {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

func TestPromptMaxDigitsZeroBargeInLeavesDigit(t *testing.T) {
	h := start(t, PromptSpec{}, "", true)
	h.playing(t)
	h.digits <- '3'
	r := h.result(t)
	if r.err != nil || r.res.Digits != "" || !stopped(h.au) {
		t.Fatalf("got %+v, %v, stopped %v", r.res, r.err, stopped(h.au))
	}
	if d := <-h.digits; d != '3' {
		t.Fatalf("digit %q not left for the next prompt", d)
	}
}

func TestPromptMaxDigitsZeroPlaysToEnd(t *testing.T) {
	h := start(t, PromptSpec{}, "", true)
	h.playing(t)
	h.au.finish()
	if r := h.result(t); r.err != nil || r.res.TimedOut {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
	h.noTimer(t)
}

func TestPromptContextCancel(t *testing.T) {
	h := start(t, spec3, "", true)
	h.playing(t)
	h.cancel()
	r := h.result(t)
	if !errors.Is(r.err, context.Canceled) || !stopped(h.au) {
		t.Fatalf("got %v, stopped %v", r.err, stopped(h.au))
	}
}

func TestPromptLegEnded(t *testing.T) {
	h := start(t, spec3, "", true)
	h.playing(t)
	h.digits <- '1'
	h.timer(t, 2*time.Second)
	close(h.ended)
	r := h.result(t)
	if !errors.Is(r.err, ErrLegEnded) || r.res.Digits != "1" {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}
