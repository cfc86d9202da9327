package dialplan

import (
	"context"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// wokenWaker wakes every device at once: each registers again with a
// fresh Contact (as a woken softphone does) before Wake returns.
type wokenWaker struct {
	mu    sync.Mutex
	wakes []Wake
}

func (w *wokenWaker) Wake(_ context.Context, wk Wake, woken func(store.Binding)) {
	w.mu.Lock()
	w.wakes = append(w.wakes, wk)
	w.mu.Unlock()
	for _, b := range wk.Bindings {
		b.Contact = "sip:" + b.DeviceID + "@198.51.100.9:5061;transport=tls"
		b.Push = store.PushParams{}
		woken(b)
	}
}

func TestHuntGroupMemberWokenByPush(t *testing.T) {
	w := &wokenWaker{}
	desk := binding("201", "udp")
	loc := fakeLocator{"u201": {desk, pushBinding("201")}, "u202": {pushBinding("202")}, "u203": {binding("203", "udp")}}
	p := &Plan{Store: newStore(user("201"), user("202"), user("203")), Locator: loc, Waker: w, PushWait: 7 * time.Second}
	dir := directory{p}
	ctx := withTenant(context.Background(), store.Tenant{ID: tenantID, Domain: domain})

	// A member with no sleeping device rings as before, with nothing to wake.
	d, wake, err := dir.Destination(ctx, "u203")
	if err != nil || wake != nil || len(d.Targets) != 1 || d.Targets[0].URI != "sip:203@192.0.2.1:5060" {
		t.Fatalf("u203: %+v wake=%v err=%v", d, wake != nil, err)
	}
	// A desk phone and a sleeping mobile: the desk phone rings at once,
	// the mobile's stale Contact never.
	d, wake, err = dir.Destination(ctx, "u201")
	if err != nil || wake == nil || len(d.Targets) != 1 || d.Targets[0].URI != desk.Contact || d.Tag != "u201" {
		t.Fatalf("u201: %+v wake=%v err=%v", d, wake != nil, err)
	}
	// Only a sleeping mobile: a waiting room holds the member's place.
	room, wake202, err := dir.Destination(ctx, "u202")
	if err != nil || wake202 == nil || len(room.Targets) != 0 || room.Delay != 7*time.Second || room.Tag != "u202" || room.Callee.Number != "202" {
		t.Fatalf("u202: %+v wake=%v err=%v", room, wake202 != nil, err)
	}

	// The group's dial runs; each woken mobile is added to it.
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TenantID: tenantID, Caller: callctl.Party{Number: "+3221234567"}}, "+3229000000")
	call.ScriptDefault(fake.Answer)
	dialing := call.Dial(ctx, callctl.DialSpec{Strategy: callctl.Simultaneous, Destinations: []callctl.Destination{d, room}})
	wake(ctx, call, dialing)()
	wake202(ctx, call, dialing)()
	dests := call.Dials()[0].Destinations
	if len(dests) != 4 {
		t.Fatalf("destinations %+v: want the desk phone, the waiting room and two woken mobiles", dests)
	}
	for i, want := range []struct{ tag, uri string }{{"u201", "sip:d201m@198.51.100.9:5061;transport=tls"}, {"u202", "sip:d202m@198.51.100.9:5061;transport=tls"}} {
		got := dests[2+i]
		if got.Tag != want.tag || len(got.Targets) != 1 || got.Targets[0].URI != want.uri || got.Callee.UserID != want.tag || got.Delay != 0 {
			t.Errorf("woken destination %d: %+v, want %s at %s", i, got, want.tag, want.uri)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.wakes) != 2 || w.wakes[0].CallID != call.ID() || w.wakes[0].Caller.Number != "+3221234567" ||
		len(w.wakes[0].Bindings) != 1 || w.wakes[0].Bindings[0].Push.PRID != "tok201" ||
		len(w.wakes[1].Bindings) != 1 || w.wakes[1].Bindings[0].Push.PRID != "tok202" {
		t.Errorf("wake-ups %+v", w.wakes)
	}
}

// Without a Waker a member's every binding rings, push or not, as before
// push was known.
func TestHuntGroupMemberWithoutWaker(t *testing.T) {
	p := &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp"), pushBinding("201")}}}
	ctx := withTenant(context.Background(), store.Tenant{ID: tenantID, Domain: domain})
	d, wake, err := directory{p}.Destination(ctx, "u201")
	if err != nil || wake != nil || len(d.Targets) != 2 {
		t.Errorf("%+v wake=%v err=%v", d, wake != nil, err)
	}
}
