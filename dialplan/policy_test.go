package dialplan

import (
	"slices"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// The policy step: a suspended or terminated licence, a suspended tenant
// or a caller that vanished is forbidden (403) before any dial; a
// suspension that has expired is not.
func TestRoutePolicy(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	suspend := func(until time.Time) func(*store.User) {
		return func(u *store.User) { u.Status, u.SuspendedUntil = "suspended", until }
	}
	for _, tc := range []struct {
		name    string
		caller  func(*store.User)
		billing string
		noUser  bool
		want    callctl.Cause // "" : routed and bridged
	}{
		{name: "active", want: ""},
		{name: "suspended licence", caller: suspend(now.Add(time.Hour)), want: callctl.CauseForbidden},
		{name: "suspension over", caller: suspend(now.Add(-time.Minute)), want: ""},
		{name: "terminated licence", caller: func(u *store.User) { u.Status = "terminated" }, want: callctl.CauseForbidden},
		{name: "suspended tenant", billing: "suspended", want: callctl.CauseForbidden},
		{name: "restricted tenant still calls", billing: "restricted", want: ""},
		{name: "licence gone", noUser: true, want: callctl.CauseForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(user("201"))
			if tc.caller != nil {
				u := st.users["200"]
				tc.caller(&u)
				st.users["200"] = u
			}
			if tc.noUser {
				delete(st.users, "200")
			}
			if tc.billing != "" {
				ten := st.tenants[tenantID]
				ten.BillingState = tc.billing
				st.tenants[tenantID] = ten
			}
			call := deviceCall("201")
			br := route(t, &Plan{Store: st, Locator: fakeLocator{"u201": {binding("201", "udp")}}, Now: func() time.Time { return now }}, call)
			in := call.InboundLeg()
			if tc.want == "" {
				if br == nil {
					t.Fatalf("not routed: hung up with %v", in.Hangups())
				}
				return
			}
			if br != nil || len(call.Dials()) != 0 || !slices.Equal(in.Hangups(), []callctl.Cause{tc.want}) {
				t.Fatalf("dials %d, hung up with %v; want %q before any dial", len(call.Dials()), in.Hangups(), tc.want)
			}
		})
	}
}

// An emergency call passes policy whatever the caller's licence or
// tenant state, and reaches the emergency branch, which refuses it as
// congestion here only because this plan has no trunk at all; even a
// tenant's own extension 112 does not take it.
func TestRouteEmergencyBypassesPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, number string
		caller       func(*store.User)
		billing      string
	}{
		{"112 from a suspended licence", "112", func(u *store.User) { u.Status, u.SuspendedUntil = "suspended", time.Now().Add(time.Hour) }, ""},
		{"100 from a suspended tenant", "100", nil, "suspended"},
		{"101 from a terminated licence", "101", func(u *store.User) { u.Status = "terminated" }, ""},
		{"poison centre from a suspended tenant", "+32 70 245 245", nil, "suspended"},
		{"112 while an extension 112 exists", "112", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(user("112"))
			if tc.caller != nil {
				u := st.users["200"]
				tc.caller(&u)
				st.users["200"] = u
			}
			if tc.billing != "" {
				ten := st.tenants[tenantID]
				ten.BillingState = tc.billing
				st.tenants[tenantID] = ten
			}
			call := deviceCall(tc.number)
			route(t, &Plan{Store: st, Locator: fakeLocator{"u112": {binding("112", "udp")}}}, call)
			if got := call.InboundLeg().Hangups(); !slices.Equal(got, []callctl.Cause{callctl.CauseCongestion}) || len(call.Dials()) != 0 {
				t.Fatalf("hung up with %v after %d dials; want the emergency branch's %q", got, len(call.Dials()), callctl.CauseCongestion)
			}
		})
	}
}

// A carrier's call is routed by the called number alone; with no number
// table yet, every one is unallocated (404), whatever was dialled.
func TestRouteTrunkCall(t *testing.T) {
	for _, number := range []string{"+3221234567", "201"} {
		call := fakeTrunkCall(number)
		route(t, &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp")}}}, call)
		if got := call.InboundLeg().Hangups(); !slices.Equal(got, []callctl.Cause{callctl.CauseNotFound}) || len(call.Dials()) != 0 {
			t.Fatalf("%s: hung up with %v after %d dials", number, got, len(call.Dials()))
		}
	}
}

// A call of no known origin is refused.
func TestRouteUnknownOrigin(t *testing.T) {
	call := fakeCall(callctl.Origin{TenantID: tenantID, UserID: "u200"}, "201")
	route(t, &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp")}}}, call)
	if got := call.InboundLeg().Hangups(); !slices.Equal(got, []callctl.Cause{callctl.CauseForbidden}) {
		t.Fatalf("hung up with %v", got)
	}
}

func TestEmergency(t *testing.T) {
	for number, want := range map[string]EmergencyClass{
		"112": OnSite, "100": OnSite, "101": OnSite, "110": RemoteHelp, "116000": RemoteHelp, "070 245 245": RemoteHelp,
		"+3270245245": RemoteHelp, "003280032123": RemoteHelp, "1813": RemoteHelp,
		"1733": NotEmergency, "1722": NotEmergency, "201": NotEmergency, "": NotEmergency, "+32112": NotEmergency, "0112": NotEmergency,
	} {
		if got := Emergency(number); got != want {
			t.Errorf("Emergency(%q) = %s, want %s", number, got, want)
		}
	}
}

func fakeCall(o callctl.Origin, dialled string) *fake.Call { return fake.NewCall(o, dialled) }

func fakeTrunkCall(number string) *fake.Call {
	return fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: "carrier", Source: "203.0.113.5:5060",
		Caller: callctl.Party{Number: "+3225550100"}}, number)
}
