package campaign

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"pbx/store"
)

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
