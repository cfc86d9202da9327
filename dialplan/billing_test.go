package dialplan

import (
	"slices"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/media"
	"pbx/prompts"
	"pbx/store"
)

// anyPrompt is a prompt library that knows every prompt.
type anyPrompt struct{}

func (anyPrompt) Prompt(lang, id string) media.Source { return silence{} }

// The billing states: a restricted tenant calls internally but not out
// (an outside number dialled, or its number leading outside, is refused
// with an announcement); a tenant limited to emergency calls neither
// calls (announcement, 403) nor is called (480).
func TestBillingStates(t *testing.T) {
	for _, tc := range []struct {
		billing                        string
		internal, dialled, out, incall callctl.Cause // "" : connected
	}{
		{BillingActive, "", "", "", ""},
		{BillingRestricted, "", callctl.CauseForbidden, callctl.CauseForbidden, ""},
		{BillingServiceMinimum, callctl.CauseForbidden, callctl.CauseForbidden, callctl.CauseUnavailable, callctl.CauseUnavailable},
		{BillingSuspended, callctl.CauseForbidden, callctl.CauseForbidden, callctl.CauseUnavailable, callctl.CauseUnavailable},
	} {
		t.Run(tc.billing, func(t *testing.T) {
			p, _, r := emergencySetup(tc.billing, nil)
			p.Prompts = anyPrompt{}
			st := p.Store.(*fakeStore)
			st.users["201"] = user("201")
			r.trunks = append(r.trunks, store.Trunk{ID: "carrier", Host: "c.carrier.test"}) // the one fakeTrunkCall comes in on
			p.Locator = fakeLocator{"u201": {binding("201", "udp")}}
			r.numbers["+3221234500"] = store.Number{TenantID: tenantID, E164: "+3221234500", Destination: store.Destination{Type: store.DestExternal, Number: "+3250999999"}}
			r.numbers["+3221234501"] = store.Number{TenantID: tenantID, E164: "+3221234501", Destination: store.Destination{Type: store.DestUser, ID: "u201"}}

			check := func(what string, call *fake.Call, want callctl.Cause, announced bool) {
				t.Helper()
				br := route(t, p, call)
				in := call.InboundLeg()
				if want == "" {
					if br == nil {
						t.Fatalf("%s: not connected: %v", what, in.Hangups())
					}
					return
				}
				if br != nil || len(call.Dials()) != 0 || !slices.Equal(in.Hangups(), []callctl.Cause{want}) {
					t.Fatalf("%s: %d dials, hung up with %v; want %s", what, len(call.Dials()), in.Hangups(), want)
				}
				if announced != (in.Progressed() && len(in.Plays()) == 1) || in.Answered() {
					t.Fatalf("%s: announced %v (early media %v), answered %v", what, len(in.Plays()), in.Progressed(), in.Answered())
				}
			}
			check("internal call", deviceCall("201"), tc.internal, true)
			check("an outside number dialled", deviceCall("050999999"), tc.dialled, true)
			check("carrier's call to a number leading outside", fakeTrunkCall("+3221234500"), tc.out, tc.out == callctl.CauseForbidden)
			check("carrier's call to a user", fakeTrunkCall("+3221234501"), tc.incall, false)
			if tc.internal != "" {
				// Policy comes before the voicemail code too.
				p.VoicemailMenu = &fakeMenu{}
				check("voicemail", deviceCall("*98"), tc.internal, true)
			}
		})
	}
}

// The prompts of billing refusals exist in every language.
func TestBillingPromptsExist(t *testing.T) {
	texts, err := prompts.Texts()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{PromptRestricted, PromptServiceMinimum} {
		n := 0
		for _, x := range texts {
			if x.ID == id {
				n++
			}
		}
		if n != len(prompts.Languages) {
			t.Errorf("prompt %s: %d texts", id, n)
		}
	}
}
