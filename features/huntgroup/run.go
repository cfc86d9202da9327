package huntgroup

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// Group is a hunt group as its program needs it.
type Group struct {
	ID       string
	Strategy Strategy
	// Members are user ids, in the group's order.
	Members []string
	// MemberTimeout is how long each member rings in the one-after-the-
	// other strategies (default 20 s).
	MemberTimeout time.Duration
	// Timeout is how long the group rings before the overflow, without a
	// queue (default 60 s).
	Timeout time.Duration
	// Queue, when set, makes callers who find every member busy wait.
	Queue *QueueSpec
	// Language of the announcements (the tenant's).
	Language string
}

// Prompter gives system prompts by language and id (package prompts).
type Prompter interface {
	Prompt(lang, id string) media.Source
}

// QueueSpec is how callers wait.
type QueueSpec struct {
	// MaxWait bounds the wait; then the call overflows.
	MaxWait time.Duration
	// Music is the tenant's music class callers hear ("" the default).
	Music string
	// AnnouncePosition tells a caller its place in line when it joins and
	// whenever it moves up.
	AnnouncePosition bool
}

// Directory is what the program reads of members and records of answers.
type Directory interface {
	// Members returns the state of these users, in the same order.
	Members(ctx context.Context, userIDs []string) ([]Member, error)
	// Destination is a member's registered devices, ringing as one.
	// Devices asleep behind a push service (RFC 8599) cannot ring before
	// they wake: wake, when not nil, is started once the dial runs, wakes
	// them and adds each that registers again to the dial. d may then
	// have no target: it holds the member's place while they wake.
	Destination(ctx context.Context, userID string) (d callctl.Destination, wake Wake, err error)
	// LastAnswered is the member who last answered a call of the group.
	LastAnswered(ctx context.Context, groupID string) (string, error)
	// Answered records that userID answered a call of the group.
	Answered(ctx context.Context, groupID, userID string) error
}

// Wake wakes a member's sleeping devices for the call being dialled and
// adds each that wakes to dialing; stop ends the wake-up and waits for it.
type Wake func(ctx context.Context, call callctl.Call, dialing callctl.Dialing) (stop func())

// Outcome is how a call left the group.
type Outcome int

// Outcomes of Run.
const (
	// Served: a member answered; the call is over when Run returns.
	Served Outcome = iota
	// Overflow: nobody answered in time; the caller is still up and goes
	// to the group's overflow destination.
	Overflow
	// Gone: the caller hung up.
	Gone
)

// Hunt runs the groups' calls and keeps their queues.
type Hunt struct {
	Dir Directory
	// Clock times the queue (default the real clock); Recheck is how often
	// the head of a queue looks for a free member unprompted (default 5 s).
	Clock   Clock
	Recheck time.Duration
	// Prompts say queue positions; nil announces nothing.
	Prompts Prompter
	Logger  *slog.Logger
	// Bridged, if set, is told when a member is bridged with the caller
	// (call recording); member's UserID is the member's licence.
	Bridged func(ctx context.Context, call callctl.Call, br callctl.Bridge, groupID string, member callctl.Party)

	mu     sync.Mutex
	queues map[string]*Queue
}

// Queue returns the queue of a group.
func (h *Hunt) Queue(groupID string) *Queue {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.queues == nil {
		h.queues = map[string]*Queue{}
	}
	q := h.queues[groupID]
	if q == nil {
		q = &Queue{}
		h.queues[groupID] = q
	}
	return q
}

// Wake tells every queue that a member may have become free.
func (h *Hunt) Wake() {
	h.mu.Lock()
	qs := make([]*Queue, 0, len(h.queues))
	for _, q := range h.queues {
		qs = append(qs, q)
	}
	h.mu.Unlock()
	for _, q := range qs {
		q.Wake()
	}
}

func (h *Hunt) clock() Clock {
	if h.Clock != nil {
		return h.Clock
	}
	return realClock{}
}

// Run connects the call's caller to a member of g. Without a queue the
// members ring (the caller hears ringback) until g.Timeout; with one the
// caller is answered, hears music and waits its turn until MaxWait.
func (h *Hunt) Run(ctx context.Context, call callctl.Call, g Group) (Outcome, error) {
	caller := call.Inbound()
	if caller == nil {
		return Gone, errors.New("huntgroup: the call has no caller")
	}
	if g.Queue == nil {
		res, err := h.ring(ctx, call, g, caller, orDefault(g.Timeout, 60*time.Second))
		switch {
		case err == nil:
			h.answered(ctx, g, res)
			return h.serve(ctx, call, g, caller, res)
		case gone(caller, err):
			return Gone, nil
		}
		return Overflow, nil
	}
	return h.queue(ctx, call, g, caller)
}

func (h *Hunt) queue(ctx context.Context, call callctl.Call, g Group, caller callctl.Leg) (Outcome, error) {
	if err := caller.Answer(ctx); err != nil {
		return Gone, nil
	}
	clk := h.clock()
	deadline := clk.Now().Add(g.Queue.MaxWait)
	t := h.Queue(g.ID).Join()
	defer t.Leave()
	_ = caller.StartMusic(g.Queue.Music)
	announced := 0
	for {
		remaining := deadline.Sub(clk.Now())
		if remaining <= 0 {
			caller.StopMusic()
			return Overflow, nil
		}
		if pos := t.Position(); g.Queue.AnnouncePosition && pos != announced {
			announced = pos
			h.announce(ctx, caller, g, pos)
		}
		if t.Position() == 1 {
			res, err := h.ring(ctx, call, g, caller, remaining)
			if err == nil {
				// The member is taken before the next caller may look.
				h.answered(ctx, g, res)
				t.Leave()
				caller.StopMusic()
				return h.serve(ctx, call, g, caller, res)
			}
			if gone(caller, err) {
				return Gone, nil
			}
		}
		select {
		case <-t.wake:
		case <-clk.After(min(orDefault(h.Recheck, 5*time.Second), deadline.Sub(clk.Now()))):
		case <-caller.Done():
			return Gone, nil
		case <-ctx.Done():
			return Gone, nil
		}
	}
}

// ring rings the free members once, as the strategy says, for at most
// budget; errNobody when none is free.
func (h *Hunt) ring(ctx context.Context, call callctl.Call, g Group, caller callctl.Leg, budget time.Duration) (callctl.DialResult, error) {
	members, err := h.Dir.Members(ctx, g.Members)
	if err != nil {
		return callctl.DialResult{}, err
	}
	last, _ := h.Dir.LastAnswered(ctx, g.ID)
	spec := callctl.DialSpec{Caller: caller, Timeout: budget, Strategy: callctl.Sequential}
	if g.Strategy == RingAll {
		spec.Strategy = callctl.Simultaneous
	}
	var wakes []Wake
	for _, m := range Order(g.Strategy, members, last, nil) {
		d, wake, err := h.Dir.Destination(ctx, m.UserID)
		if err != nil || (len(d.Targets) == 0 && wake == nil) {
			continue
		}
		if wake != nil {
			wakes = append(wakes, wake)
		}
		d.Tag = m.UserID
		if spec.Strategy == callctl.Sequential {
			d.Timeout = min(orDefault(g.MemberTimeout, 20*time.Second), budget)
		}
		spec.Destinations = append(spec.Destinations, d)
	}
	if len(spec.Destinations) == 0 {
		return callctl.DialResult{}, errNobody
	}
	// Every sleeping device is woken as the dial starts. In the one-
	// after-the-other strategies a woken device joins the end of the
	// line (a dial only appends), and a member with nothing awake is
	// passed over at their turn.
	dialing := call.Dial(ctx, spec)
	stops := make([]func(), 0, len(wakes))
	for _, wake := range wakes {
		stops = append(stops, wake(ctx, call, dialing))
	}
	res, err := dialing.Wait(ctx)
	for _, stop := range stops {
		stop()
	}
	return res, err
}

var errNobody = errors.New("huntgroup: no member is free")

// announce tells a queued caller its place in line, over its music: "you
// are next", or "there are N calls waiting" ahead of it.
func (h *Hunt) announce(ctx context.Context, caller callctl.Leg, g Group, pos int) {
	ids := []string{"queue-you-are-next"}
	if pos > 1 {
		ids = []string{"queue-there-are", "num-" + strconv.Itoa(min(pos-1, 99)), "queue-calls-waiting"}
	}
	srcs := positionPrompts(h.Prompts, g.Language, ids)
	if len(srcs) == 0 {
		return
	}
	caller.StopMusic()
	_ = caller.Play(ctx, srcs...)
	_ = caller.StartMusic(g.Queue.Music)
}

// positionPrompts are the prompts of ids, all or none: half a sentence
// says nothing useful.
func positionPrompts(p Prompter, lang string, ids []string) []media.Source {
	if p == nil {
		return nil
	}
	out := make([]media.Source, 0, len(ids))
	for _, id := range ids {
		src := p.Prompt(lang, id)
		if src == nil {
			return nil
		}
		out = append(out, src)
	}
	return out
}

// answered records who answered, for round robin.
func (h *Hunt) answered(ctx context.Context, g Group, res callctl.DialResult) {
	if err := h.Dir.Answered(ctx, g.ID, res.Tag); err != nil && h.Logger != nil {
		h.Logger.Warn("huntgroup: last answer not recorded", "group", g.ID, "error", err)
	}
}

// serve bridges the caller with the member who answered until either
// hangs up.
func (h *Hunt) serve(ctx context.Context, call callctl.Call, g Group, caller callctl.Leg, res callctl.DialResult) (Outcome, error) {
	if err := caller.Answer(ctx); err != nil {
		res.Leg.Hangup(callctl.CauseNormal)
		return Gone, nil
	}
	call.SetCallee(res.Leg.Remote())
	br, err := call.Bridge(caller, res.Leg, callctl.BridgeOptions{})
	if err != nil {
		res.Leg.Hangup(callctl.CauseNormal)
		return Gone, nil
	}
	if h.Bridged != nil {
		member := res.Leg.Remote()
		member.UserID = res.Tag // members are dialled tagged with their licence
		h.Bridged(ctx, call, br, g.ID, member)
	}
	_, _ = br.Wait(ctx)
	return Served, nil
}

// gone reports whether a failed dial ended because the caller left.
func gone(caller callctl.Leg, err error) bool {
	return caller.State() == callctl.LegEnded || callctl.CauseOf(err) == callctl.CauseCancelled
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
