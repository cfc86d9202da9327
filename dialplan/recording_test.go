package dialplan

import (
	"context"
	"sync"
	"testing"

	"pbx/callctl"
	"pbx/features/recording"
	"pbx/store"
)

// recorderSpy notes the bridges the dialplan reports.
type recorderSpy struct {
	mu  sync.Mutex
	got []recording.Bridged
}

func (r *recorderSpy) Bridged(_ context.Context, _ callctl.Call, br callctl.Bridge, b recording.Bridged) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, b)
}

func (r *recorderSpy) only(t *testing.T) recording.Bridged {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 1 {
		t.Fatalf("%d bridges reported, want 1: %+v", len(r.got), r.got)
	}
	return r.got[0]
}

// TestRecorderToldOfBridges: the recorder learns, for each bridge, the
// tenant and the licences, number and hunt group whose policies apply.
func TestRecorderToldOfBridges(t *testing.T) {
	t.Run("extension", func(t *testing.T) {
		spy := &recorderSpy{}
		p := &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp")}}, Recorder: spy}
		route(t, p, deviceCall("201"))
		b := spy.only(t)
		if b.TenantID != tenantID || b.Caller.UserID != "u200" || b.Caller.Number != "200" || b.Callee.UserID != "u201" || b.NumberID != "" || b.HuntGroupID != "" {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("number to a user", func(t *testing.T) {
		spy := &recorderSpy{}
		p, _ := numbersPlan(store.Destination{Type: store.DestUser, ID: "u202"})
		p.Recorder = spy
		route(t, p, trunkCall("+3221234567"))
		b := spy.only(t)
		if b.TenantID != tenantID || b.NumberID != "n1" || b.Callee.UserID != "u202" || b.Caller.Number != "+32470000001" || b.Caller.UserID != "" {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("number to a hunt group", func(t *testing.T) {
		spy := &recorderSpy{}
		p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
		p.Recorder = spy
		r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u201"}}
		route(t, p, trunkCall("+3221234567"))
		b := spy.only(t)
		if b.TenantID != tenantID || b.NumberID != "n1" || b.HuntGroupID != "g1" || b.Callee.UserID != "u201" {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("number to an outside number", func(t *testing.T) {
		spy := &recorderSpy{}
		p, _ := numbersPlan(store.Destination{Type: store.DestExternal, Number: "+32475000000"})
		p.Recorder = spy
		route(t, p, trunkCall("+3221234567"))
		b := spy.only(t)
		if b.TenantID != tenantID || b.NumberID != "n1" || b.Callee.Number != "+32475000000" || b.Callee.UserID != "" {
			t.Fatalf("%+v", b)
		}
	})
}
