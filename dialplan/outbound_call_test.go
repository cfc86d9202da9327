package dialplan

import (
	"slices"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/media"
	"pbx/store"
)

// outboundPlan is numbersPlan with two carriers behind the default route
// and a main number for the tenant.
func outboundPlan(t *testing.T) (*Plan, *fakeRoutes, *fakeStore) {
	t.Helper()
	p, r := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
	r.trunks = []store.Trunk{{ID: "tr1", Host: "one.example", Port: 5060, Transport: "udp"},
		{ID: "tr2", Host: "two.example", Port: 5060, Transport: "udp", ForwardIdentity: store.ForwardPAI}}
	r.outbound = []store.OutboundRoute{{Prefix: "", Trunks: []string{"tr1", "tr2"}}}
	r.calling = map[string]store.TenantCalling{tenantID: {TenantID: tenantID, MainNumber: "+3221234500", BarPremium: true}}
	r.callerID = map[string]store.Number{}
	st := p.Store.(*fakeStore)
	ten := st.tenants[tenantID]
	ten.Language = "nl" // users without one hear the tenant's
	st.tenants[tenantID] = ten
	return p, r, st
}

// header is the value of the named header of a target ("" if absent).
func header(tg callctl.Target, name string) string {
	for _, h := range tg.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func TestDeviceCallNormalizedToE164(t *testing.T) {
	for dialled, want := range map[string]string{
		"02 123 45 67":      "+3221234567",
		"0470123456":        "+32470123456",
		"+33123456789":      "+33123456789",
		"0033123456789":     "+33123456789",
		"1207":              "1207",
		"080012345":         "+3280012345",
		"070 12 34 56":      "+3270123456",
		"+32 (0)2 123 4567": "+3221234567",
	} {
		t.Run(dialled, func(t *testing.T) {
			p, _, _ := outboundPlan(t)
			call := deviceCall(dialled)
			bridgedTo(t, route(t, p, call), want)
			ds := call.Dials()
			if len(ds) != 1 || len(ds[0].Destinations) != 2 || ds[0].Strategy != callctl.Sequential || ds[0].StopOn == nil || !ds[0].EarlyMedia {
				t.Fatalf("dials %+v", ds)
			}
			d := ds[0].Destinations[0]
			if tg := d.Targets[0]; tg.URI != "sip:"+want+"@one.example:5060" || tg.ResponseTimeout != DefaultTrunkResponseTimeout {
				t.Fatalf("target %+v", tg)
			}
			// The tenant's main number, in From and (by the b2bua) PAI.
			if d.CallerID == nil || d.CallerID.Number != "+3221234500" || d.CallerID.Domain != domain || header(d.Targets[0], "Privacy") != "" {
				t.Fatalf("caller id %+v, headers %+v", d.CallerID, d.Targets[0].Headers)
			}
		})
	}
}

func TestExtensionsWinOverPublicNumbers(t *testing.T) {
	p, _, st := outboundPlan(t)
	st.users["1207"] = user("1207")
	p.Locator.(fakeLocator)["u1207"] = []store.Binding{binding("1207", "udp")}
	call := deviceCall("1207")
	bridgedTo(t, route(t, p, call), "1207")
	if ds := call.Dials(); len(ds) != 1 || ds[0].Destinations[0].Tag != "u1207" {
		t.Fatalf("dials %+v", ds)
	}
}

func TestCallerIDChosenByTheUser(t *testing.T) {
	p, r, _ := outboundPlan(t)
	r.callerID["u200"] = store.Number{TenantID: tenantID, E164: "+3221234599"}
	call := deviceCall("021112233")
	route(t, p, call)
	if d := call.Dials()[0].Destinations[1]; d.CallerID == nil || d.CallerID.Number != "+3221234599" {
		t.Fatalf("caller id %+v", d.CallerID)
	}
	// A freephone number may not be shown: the main number instead.
	r.callerID["u200"] = store.Number{TenantID: tenantID, E164: "+3280012345"}
	call = deviceCall("021112233")
	route(t, p, call)
	if d := call.Dials()[0].Destinations[0]; d.CallerID.Number != "+3221234500" {
		t.Fatalf("caller id with a freephone number chosen: %+v", d.CallerID)
	}
	// Another tenant's number is never shown: the main number instead.
	r.callerID["u200"] = store.Number{TenantID: tenant2, E164: "+3299999999"}
	call = deviceCall("021112233")
	route(t, p, call)
	if d := call.Dials()[0].Destinations[0]; d.CallerID.Number != "+3221234500" {
		t.Fatalf("caller id %+v", d.CallerID)
	}
}

func TestCLIR(t *testing.T) {
	check := func(t *testing.T, call *fake.Call) {
		t.Helper()
		d := call.Dials()[0].Destinations[0]
		tg := d.Targets[0]
		if d.CallerID == nil || d.CallerID.Number != "anonymous" || d.CallerID.Domain != "anonymous.invalid" ||
			header(tg, "Privacy") != "id" || header(tg, "P-Asserted-Identity") != "<sip:+3221234500@"+domain+">" {
			t.Fatalf("caller id %+v, headers %+v", d.CallerID, tg.Headers)
		}
	}
	t.Run("per call", func(t *testing.T) {
		p, _, _ := outboundPlan(t)
		call := deviceCall("*31*021112233")
		bridgedTo(t, route(t, p, call), "+3221112233")
		check(t, call)
	})
	t.Run("per user", func(t *testing.T) {
		p, _, st := outboundPlan(t)
		u := st.users["200"]
		u.CLIR = true
		st.users["200"] = u
		call := deviceCall("021112233")
		bridgedTo(t, route(t, p, call), "+3221112233")
		check(t, call)
	})
}

// prompter records the prompts asked for.
type prompter struct{ ids []string }

func (p *prompter) Prompt(lang, id string) media.Source {
	p.ids = append(p.ids, lang+"/"+id)
	return silence{}
}

func TestBarring(t *testing.T) {
	for _, tc := range []struct {
		name, dialled string
		setup         func(r *fakeRoutes, st *fakeStore)
		barred        bool
	}{
		{name: "premium by default", dialled: "0900 12 345", barred: true},
		{name: "premium 0909", dialled: "090912345", barred: true},
		{name: "international premium", dialled: "+979 1234 5678", barred: true},
		{name: "premium lifted", dialled: "0900 12 345", setup: func(r *fakeRoutes, _ *fakeStore) {
			r.calling[tenantID] = store.TenantCalling{TenantID: tenantID}
		}},
		{name: "international allowed by default", dialled: "+33123456789"},
		{name: "international barred for the tenant", dialled: "+33123456789", barred: true, setup: func(r *fakeRoutes, _ *fakeStore) {
			r.calling[tenantID] = store.TenantCalling{TenantID: tenantID, BarPremium: true, BarInternational: true}
		}},
		{name: "international barred for the user", dialled: "0033123456789", barred: true, setup: func(_ *fakeRoutes, st *fakeStore) {
			u := st.users["200"]
			u.BarInternational = true
			st.users["200"] = u
		}},
		{name: "national calls despite international barring", dialled: "021112233", setup: func(r *fakeRoutes, st *fakeStore) {
			r.calling[tenantID] = store.TenantCalling{TenantID: tenantID, BarPremium: true, BarInternational: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r, st := outboundPlan(t)
			pr := &prompter{}
			p.Prompts = pr
			if tc.setup != nil {
				tc.setup(r, st)
			}
			call := deviceCall(tc.dialled)
			br := route(t, p, call)
			if !tc.barred {
				if br == nil || len(pr.ids) != 0 {
					t.Fatalf("bridged %v, prompts %v; want the call placed", br != nil, pr.ids)
				}
				return
			}
			rejected(t, call, br, callctl.CauseForbidden)
			if len(call.Dials()) != 0 {
				t.Fatalf("a barred call was dialled: %+v", call.Dials())
			}
			in := call.InboundLeg()
			if !slices.Equal(pr.ids, []string{"nl/" + PromptBarred}) || !in.Progressed() || len(in.Plays()) != 1 {
				t.Fatalf("prompts %v, progressed %v, plays %d; want the announcement as early media", pr.ids, in.Progressed(), len(in.Plays()))
			}
		})
	}
}

func TestTrunkFailoverSpec(t *testing.T) {
	p, r, _ := outboundPlan(t)
	r.trunks[1].ResponseTimeout = 2 * DefaultTrunkResponseTimeout
	call := deviceCall("021112233")
	call.Script("tr1", fake.Outcome{Cause: callctl.CauseFailure, Status: 503})
	bridgedTo(t, route(t, p, call), "+3221112233")
	ds := call.Dials()
	if len(ds) != 1 {
		t.Fatalf("dials %+v", ds)
	}
	spec := ds[0]
	if spec.StopOn(503) || spec.StopOn(408) || spec.StopOn(0) || !spec.StopOn(486) || !spec.StopOn(404) {
		t.Fatal("StopOn is not the trunk fail-over rule")
	}
	if got := spec.Destinations[1].Targets[0].ResponseTimeout; got != 2*DefaultTrunkResponseTimeout {
		t.Fatalf("second trunk's response timeout %v", got)
	}
	// The callee's busy is final: the second trunk is not tried.
	call = deviceCall("021112233")
	call.Script("tr1", fake.Busy)
	call.Script("tr2", fake.Answer)
	rejected(t, call, route(t, p, call), callctl.CauseBusy)
}

func TestNoRouteIsNotFound(t *testing.T) {
	p, r, _ := outboundPlan(t)
	r.outbound = []store.OutboundRoute{{Prefix: "+33", Trunks: []string{"tr1"}}}
	call := deviceCall("021112233")
	rejected(t, call, route(t, p, call), callctl.CauseNotFound)
	call = deviceCall("0212")
	rejected(t, call, route(t, p, call), callctl.CauseNotFound)
}

func TestForwardToExternal(t *testing.T) {
	p, r, st := outboundPlan(t)
	r.callerID["u201"] = store.Number{TenantID: tenantID, E164: "+3221234567"}
	u := st.users["201"]
	u.ForwardAlways = "0470 99 88 77"
	st.users["201"] = u
	// A carrier's caller reaches 201's number and is forwarded.
	call := trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "+32470998877")
	ds := call.Dials()
	if len(ds) != 1 || len(ds[0].Destinations) != 2 {
		t.Fatalf("dials %+v", ds)
	}
	div, pai := ds[0].Destinations[0], ds[0].Destinations[1]
	// Trunk 1 takes Diversion: the caller in From, 201's number in PAI
	// and Diversion.
	if div.CallerID == nil || div.CallerID.Number != "+32470000001" ||
		header(div.Targets[0], "P-Asserted-Identity") != "<sip:+3221234567@"+domain+">" ||
		header(div.Targets[0], "Diversion") != "<sip:+3221234567@"+domain+">;reason=unconditional;counter=1" {
		t.Fatalf("diversion trunk: %+v %+v", div.CallerID, div.Targets[0].Headers)
	}
	// Trunk 2 takes PAI: the caller in From and PAI (the b2bua puts it there).
	if pai.CallerID == nil || pai.CallerID.Number != "+32470000001" || len(pai.Targets[0].Headers) != 0 {
		t.Fatalf("PAI trunk: %+v %+v", pai.CallerID, pai.Targets[0].Headers)
	}
}

func TestForwardToExternalIsBarredLikeACall(t *testing.T) {
	p, _, st := outboundPlan(t)
	u := st.users["201"]
	u.ForwardAlways, u.BarInternational = "+33123456789", true
	st.users["201"] = u
	call := trunkCall("+3221234567")
	rejected(t, call, route(t, p, call), callctl.CauseForbidden)
}

func TestAnonymousRejection(t *testing.T) {
	p, _, st := outboundPlan(t)
	pr := &prompter{}
	p.Prompts = pr
	u := st.users["201"]
	u.RejectAnonymous, u.Language = true, "fr"
	st.users["201"] = u
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: "tr1", Caller: anonymous}, "+3221234567")
	rejected(t, call, route(t, p, call), callctl.CauseAnonymityDisallowed)
	if !slices.Equal(pr.ids, []string{"fr/" + PromptAnonymousRejected}) || len(call.Dials()) != 0 {
		t.Fatalf("prompts %v, dials %d", pr.ids, len(call.Dials()))
	}
	// A caller who shows a number gets through; so do colleagues.
	bridgedTo(t, route(t, p, trunkCall("+3221234567")), "201")
	bridgedTo(t, route(t, p, deviceCall("201")), "201")
}
