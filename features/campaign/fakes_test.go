package campaign

import (
	"context"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/features/huntgroup"
	"pbx/media"
)

// The scheduler's tests run it on a real store (SQLite), the fake call
// control and a scripted network, with a clock moved by hand: Step is
// called by the test, never by a timer.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *clock) After(time.Duration) <-chan time.Time { return nil }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
func (c *clock) add(d time.Duration) { c.set(c.Now().Add(d)) }

// controller originates fake calls and runs their programs.
type controller struct {
	mu    sync.Mutex
	calls []*fake.Call
}

func (c *controller) Originate(spec callctl.OriginateSpec, program callctl.Program) (callctl.Call, error) {
	call := fake.NewOriginated(spec.Origin, spec.Dialled)
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
	go func() {
		program(call.Context(), call)
		call.End()
	}()
	return call, nil
}

// network answers each number as scripted, attempt by attempt (the last
// outcome repeats); held numbers' calls wait in DialPublic until let go.
type network struct {
	mu       sync.Mutex
	script   map[string][]fake.Outcome
	press    map[string]string // digits the contact types once answered
	dials    map[string]int
	hold     bool
	held     []chan struct{}
	dialling int           // calls in DialPublic
	live     []callctl.Leg // answered legs, until they are seen ended
	peak     int
	agents   *agents
}

func newNetwork() *network {
	return &network{script: map[string][]fake.Outcome{}, press: map[string]string{}, dials: map[string]int{}}
}

func (n *network) DialPublic(ctx context.Context, call callctl.Call, tenantID, number, callerID string, ring time.Duration) (callctl.Leg, callctl.Cause) {
	n.mu.Lock()
	i := n.dials[number]
	n.dials[number]++
	o := fake.Answer
	if s := n.script[number]; len(s) > 0 {
		o = s[min(i, len(s)-1)]
	}
	n.dialling++
	// Ended legs are pruned as they are found ended, not when a goroutine
	// gets to it: the count never lags behind the calls.
	live := n.live[:0]
	for _, l := range n.live {
		if l.State() != callctl.LegEnded {
			live = append(live, l)
		}
	}
	n.live = live
	n.peak = max(n.peak, n.dialling+len(n.live))
	var gate chan struct{}
	if n.hold {
		gate = make(chan struct{})
		n.held = append(n.held, gate)
	}
	press := n.press[number]
	n.mu.Unlock()
	if gate != nil {
		<-gate
	}
	fc := call.(*fake.Call)
	fc.Script(number, o)
	res, err := callctl.DialWait(ctx, call, callctl.DialSpec{Destinations: []callctl.Destination{{Targets: []callctl.Target{{URI: "sip:" + number + "@carrier.test"}}, Tag: number}}})
	n.mu.Lock()
	n.dialling--
	if err == nil {
		n.live = append(n.live, res.Leg)
	}
	n.mu.Unlock()
	if err != nil {
		return nil, callctl.CauseOf(err)
	}
	if press != "" {
		res.Leg.(*fake.Leg).Type(press)
	}
	return res.Leg, ""
}

// peakUp is the most calls that were up at once.
func (n *network) peakUp() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peak
}

// release lets every held call go on.
func (n *network) release() {
	n.mu.Lock()
	for _, g := range n.held {
		close(g)
	}
	n.held = nil
	n.mu.Unlock()
}

func (n *network) heldCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.held)
}

func (n *network) dialled(number string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[number]
}

func (n *network) Agents(ctx context.Context, tenantID, domain string) (context.Context, huntgroup.Directory) {
	return ctx, n.agents
}

// agents is a hunt group directory whose members are free unless the
// test says otherwise or they are in one of our bridges.
type agents struct {
	mu     sync.Mutex
	away   map[string]bool
	inCall map[string]bool
}

func (a *agents) Members(_ context.Context, ids []string) ([]huntgroup.Member, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []huntgroup.Member
	for _, id := range ids {
		out = append(out, huntgroup.Member{UserID: id, Registered: !a.away[id], Busy: a.inCall[id]})
	}
	return out, nil
}

func (a *agents) Destination(_ context.Context, uid string) (callctl.Destination, huntgroup.Wake, error) {
	return callctl.Destination{Targets: []callctl.Target{{URI: "sip:" + uid + "@phone.test"}}, Tag: uid, Callee: callctl.Party{UserID: uid}}, nil, nil
}
func (a *agents) LastAnswered(context.Context, string) (string, error) { return "", nil }
func (a *agents) Answered(context.Context, string, string) error       { return nil }

type audio struct{}

func (audio) Open(context.Context, string, string) (media.Source, error) { return nil, nil }

type notes struct {
	mu     sync.Mutex
	events []string
}

func (n *notes) Send(_ context.Context, _, ev string, _ any) error {
	n.mu.Lock()
	n.events = append(n.events, ev)
	n.mu.Unlock()
	return nil
}

func (n *notes) has(ev string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.events {
		if e == ev {
			return true
		}
	}
	return false
}
