package campaign

import (
	"context"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// Progressive dialling: never more calls up than idle agents; each
// answered contact is bridged to an agent, who is taken until the call
// ends.
func TestAgentsProgressive(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u1, err := r.st.CreateUser(ctx, store.User{TenantID: r.tenant.ID, FirstName: "A", Licence: store.LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := r.st.CreateUser(ctx, store.User{TenantID: r.tenant.ID, FirstName: "B", Licence: store.LicenceFull, Extension: "202"})
	if err != nil {
		t.Fatal(err)
	}
	u3, err := r.st.CreateUser(ctx, store.User{TenantID: r.tenant.ID, FirstName: "C", Licence: store.LicenceFull, Extension: "203"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.st.CreateHuntGroup(ctx, store.HuntGroup{TenantID: r.tenant.ID, Name: "Sales", Extension: "600", Strategy: "ring_all", Members: []string{u1.ID, u2.ID, u3.ID}})
	if err != nil {
		t.Fatal(err)
	}
	r.keep = true
	r.net.agents.away[u3.ID] = true // not registered: not idle
	c := r.campaign(store.Campaign{Mode: Agents, HuntGroupID: g.ID, MaxConcurrent: 10}, "+3221000001", "+3221000002", "+3221000003", "+3221000004")
	r.step()
	bridges := func() []*fake.Bridge {
		var out []*fake.Bridge
		r.ctl.mu.Lock()
		defer r.ctl.mu.Unlock()
		for _, call := range r.ctl.calls {
			out = append(out, call.Bridges()...)
		}
		return out
	}
	eventually(t, "two contacts with agents", func() bool { return len(bridges()) == 2 })
	r.step()
	r.step()
	if n := r.net.peakUp(); n != 2 {
		t.Fatalf("%d calls up with 2 idle agents", n)
	}
	agents := map[string]bool{}
	for _, br := range bridges() {
		_, b := br.Legs()
		agents[b.Remote().UserID] = true
	}
	if !agents[u1.ID] || !agents[u2.ID] {
		t.Fatalf("agents bridged: %v", agents)
	}
	// One contact hangs up: its agent is idle again and one more contact
	// is dialled.
	first, _ := bridges()[0].Legs()
	first.(*fake.Leg).RemoteHangup(callctl.CauseNormal)
	eventually(t, "the first call's result", func() bool { return r.progress(c).Answered == 1 })
	r.step()
	eventually(t, "a third bridge", func() bool { return len(bridges()) == 3 })
	if n := r.net.peakUp(); n != 2 {
		t.Fatalf("%d calls up with 2 idle agents", n)
	}
	for _, br := range bridges() {
		a, _ := br.Legs()
		a.(*fake.Leg).RemoteHangup(callctl.CauseNormal)
	}
	eventually(t, "three answered", func() bool { return r.progress(c).Answered == 3 })
	r.step()
	eventually(t, "a fourth bridge", func() bool { return len(bridges()) == 4 })
	a, _ := bridges()[3].Legs()
	a.(*fake.Leg).RemoteHangup(callctl.CauseNormal)
	r.s.calls.Wait()
	got := r.results(c)
	for n, ct := range got {
		if ct.Status != store.ContactAnswered || (ct.Agent != u1.ID && ct.Agent != u2.ID) {
			t.Errorf("%s: %+v", n, ct)
		}
	}
	if r.net.peakUp() > 2 {
		t.Fatalf("%d calls up with 2 idle agents", r.net.peakUp())
	}
}
