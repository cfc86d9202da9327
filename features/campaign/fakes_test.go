package campaign

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/features/huntgroup"
	"pbx/media"
	"pbx/store"
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
	up, peak int
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
	n.up++
	n.peak = max(n.peak, n.up)
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
	if err != nil {
		n.down()
		return nil, callctl.CauseOf(err)
	}
	if press != "" {
		res.Leg.(*fake.Leg).Type(press)
	}
	go func() { <-res.Leg.Done(); n.down() }()
	return res.Leg, ""
}

func (n *network) down() {
	n.mu.Lock()
	n.up--
	n.mu.Unlock()
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

func (a *agents) Destination(_ context.Context, uid string) (callctl.Destination, error) {
	return callctl.Destination{Targets: []callctl.Target{{URI: "sip:" + uid + "@phone.test"}}, Tag: uid, Callee: callctl.Party{UserID: uid}}, nil
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

type rig struct {
	t      *testing.T
	st     *store.Store
	s      *Scheduler
	clk    *clock
	net    *network
	ctl    *controller
	notes  *notes
	tenant store.Tenant
	// keep: calls stay up after a step (bridged to agents).
	keep bool
}

// monday10 is a Monday at 10:00 in Brussels.
var monday10 = time.Date(2026, 3, 2, 10, 0, 0, 0, mustZone("Europe/Brussels"))

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(context.Background(), store.Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, st: st, clk: &clock{now: monday10}, net: newNetwork(), ctl: &controller{}, notes: &notes{}, tenant: ten}
	r.net.agents = &agents{away: map[string]bool{}, inCall: map[string]bool{}}
	r.s = &Scheduler{Store: st, Calls: r.ctl, Network: r.net, Audio: audio{}, Notify: r.notes, Clock: r.clk}
	return r
}

// weekdays9to17 is the usual window.
var weekdays9to17 = Window{TimeZone: "Europe/Brussels", Hours: []Hours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}}}

// campaign creates a campaign of numbers and starts it.
func (r *rig) campaign(c store.Campaign, numbers ...string) store.Campaign {
	r.t.Helper()
	ctx := context.Background()
	c.TenantID, c.Name, c.TimeZone, c.Hours = r.tenant.ID, "Test", weekdays9to17.TimeZone, weekdays9to17.EncodeHours()
	if c.Mode == "" {
		c.Mode = Broadcast
	}
	c.MaxConcurrent, c.CallsPerMinute = or(c.MaxConcurrent, 100), or(c.CallsPerMinute, 1000)
	c.MaxAttempts = or(c.MaxAttempts, 1)
	c, err := r.st.CreateCampaign(ctx, c)
	if err != nil {
		r.t.Fatal(err)
	}
	var cs []store.CampaignContact
	for _, n := range numbers {
		cs = append(cs, store.CampaignContact{Number: n})
	}
	if err := r.st.AddCampaignContacts(ctx, c.ID, cs); err != nil {
		r.t.Fatal(err)
	}
	if c, err = r.s.Start(ctx, r.tenant.ID, c.ID); err != nil {
		r.t.Fatal(err)
	}
	return c
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// step runs one pass of the scheduler and waits for the calls it placed
// to end (unless they are held).
func (r *rig) step() {
	r.t.Helper()
	if err := r.s.Step(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	if !r.net.hold && !r.keep {
		r.s.calls.Wait()
	}
}

func (r *rig) results(c store.Campaign) map[string]store.CampaignContact {
	r.t.Helper()
	cs, err := r.st.CampaignContacts(context.Background(), c.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]store.CampaignContact{}
	for _, ct := range cs {
		out[ct.Number] = ct
	}
	return out
}

func (r *rig) state(c store.Campaign) string {
	r.t.Helper()
	got, err := r.st.Campaign(context.Background(), r.tenant.ID, c.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return got.State
}

// eventually waits (in real time, generously) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
