package huntgroup

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// fakeClock fires After channels when Advance passes their time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.mu.Unlock()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestQueueServesInOrderThenOverflows(t *testing.T) {
	d := newDir("a")
	d.set("a", func(m *Member) { m.Busy = true })
	clk := &fakeClock{now: time.Unix(1000, 0)}
	h := &Hunt{Dir: d, Clock: clk, Recheck: time.Hour}
	g := Group{ID: "g", Strategy: RingAll, Members: []string{"a"}, Queue: &QueueSpec{MaxWait: 2 * time.Minute, Music: "jazz"}}

	first, second := newCall(), newCall()
	outs := make(chan [2]any, 2)
	run := func(name string, c callctl.Call) {
		out, err := h.Run(context.Background(), c, g)
		outs <- [2]any{name, out}
		_ = err
	}
	go run("first", first)
	waitFor(t, "the first caller to queue", func() bool { return h.Queue("g").Len() == 1 })
	go run("second", second)
	waitFor(t, "the second caller to queue", func() bool { return h.Queue("g").Len() == 2 })

	if !first.InboundLeg().Answered() || first.InboundLeg().Music()[0] != "jazz" {
		t.Fatalf("a queued caller is answered and hears the group's music: %v", first.InboundLeg().Music())
	}
	if len(first.Dials()) != 0 {
		t.Fatal("a busy member was rung")
	}

	// The member frees up: the head of the line (first) is served, not second.
	d.set("a", func(m *Member) { m.Busy = false })
	hangUpWhenBridged(t, first)
	h.Wake()
	select {
	case o := <-outs:
		if o != [2]any{"first", Served} {
			t.Fatalf("got %v, want first served", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("first caller not served after the member freed up")
	}
	if len(second.Dials()) != 0 && len(first.Dials()) != 1 {
		t.Fatalf("dials: first %d second %d", len(first.Dials()), len(second.Dials()))
	}

	// The member is busy with first: second waits until MaxWait.
	waitFor(t, "second to be the head", func() bool { return h.Queue("g").Len() == 1 })
	waitFor(t, "second to wait on the clock", func() bool { clk.mu.Lock(); defer clk.mu.Unlock(); return len(clk.waiters) > 0 })
	clk.Advance(119 * time.Second)
	select {
	case o := <-outs:
		t.Fatalf("second left before MaxWait: %v", o)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(2 * time.Second)
	select {
	case o := <-outs:
		if o != [2]any{"second", Overflow} {
			t.Fatalf("got %v, want second to overflow", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second caller did not overflow after MaxWait")
	}
	if h.Queue("g").Len() != 0 {
		t.Error("the queue keeps a caller who left")
	}
	if m := second.InboundLeg().Music(); m[len(m)-1] != "-" {
		t.Errorf("music not stopped before the overflow: %v", m)
	}
}

func TestQueuedCallerHangsUp(t *testing.T) {
	d := newDir("a")
	d.set("a", func(m *Member) { m.Busy = true })
	h := &Hunt{Dir: d, Clock: &fakeClock{now: time.Unix(0, 0)}, Recheck: time.Hour}
	call := newCall()
	done := make(chan Outcome)
	go func() {
		out, _ := h.Run(context.Background(), call, Group{ID: "g", Strategy: Linear, Members: []string{"a"}, Queue: &QueueSpec{MaxWait: time.Hour}})
		done <- out
	}()
	waitFor(t, "the caller to queue", func() bool { return h.Queue("g").Len() == 1 })
	call.InboundLeg().RemoteHangup(callctl.CauseNormal)
	if out := <-done; out != Gone {
		t.Fatalf("outcome %v", out)
	}
	if h.Queue("g").Len() != 0 {
		t.Error("a caller who hung up is still queued")
	}
}

func TestQueuePositions(t *testing.T) {
	var q Queue
	a, b, c := q.Join(), q.Join(), q.Join()
	if a.Position() != 1 || b.Position() != 2 || c.Position() != 3 {
		t.Fatal("positions are not in order of joining")
	}
	a.Leave()
	if b.Position() != 1 || c.Position() != 2 || a.Position() != 0 {
		t.Fatal("positions after the head left")
	}
	select {
	case <-b.wake:
	default:
		t.Fatal("the new head was not woken when the head left")
	}
}

// prompter names the prompts it gives, so a test can read what was said.
type prompter struct{}

type namedPrompt string

func (namedPrompt) ReadFrame([]int16) error { return io.EOF }

func (prompter) Prompt(lang, id string) media.Source { return namedPrompt(lang + "/" + id) }

func said(plays [][]media.Source) []string {
	var out []string
	for _, p := range plays {
		var ids []string
		for _, s := range p {
			ids = append(ids, string(s.(namedPrompt)))
		}
		out = append(out, strings.Join(ids, " "))
	}
	return out
}

func TestQueueAnnouncesPositions(t *testing.T) {
	d := newDir("a")
	d.set("a", func(m *Member) { m.Busy = true })
	clk := &fakeClock{now: time.Unix(1000, 0)}
	h := &Hunt{Dir: d, Clock: clk, Recheck: time.Hour, Prompts: prompter{}}
	g := Group{ID: "g", Strategy: RingAll, Members: []string{"a"}, Language: "nl",
		Queue: &QueueSpec{MaxWait: time.Hour, AnnouncePosition: true}}
	first, second := newCall(), newCall()
	done := make(chan Outcome, 2)
	go func() { out, _ := h.Run(context.Background(), first, g); done <- out }()
	waitFor(t, "the first caller to queue", func() bool { return h.Queue("g").Len() == 1 })
	go func() { out, _ := h.Run(context.Background(), second, g); done <- out }()
	waitFor(t, "the second caller to hear its place", func() bool { return len(second.InboundLeg().Plays()) == 1 })
	if got := said(second.InboundLeg().Plays()); !slices.Equal(got, []string{"nl/queue-there-are nl/num-1 nl/queue-calls-waiting"}) {
		t.Fatalf("second caller heard %q", got)
	}
	if got := said(first.InboundLeg().Plays()); !slices.Equal(got, []string{"nl/queue-you-are-next"}) {
		t.Fatalf("first caller heard %q", got)
	}
	// The first caller gives up: the second moves up and is told so.
	first.InboundLeg().RemoteHangup(callctl.CauseNormal)
	waitFor(t, "the second caller to hear it is next", func() bool { return len(second.InboundLeg().Plays()) == 2 })
	if got := said(second.InboundLeg().Plays())[1]; got != "nl/queue-you-are-next" {
		t.Fatalf("second caller heard %q", got)
	}
	// Music resumes after each announcement.
	if m := second.InboundLeg().Music(); m[len(m)-1] == "-" {
		t.Fatalf("music not resumed after the announcement: %v", m)
	}
	second.InboundLeg().RemoteHangup(callctl.CauseNormal)
	for range 2 {
		if out := <-done; out != Gone {
			t.Fatalf("outcome %v", out)
		}
	}
}
