package main

import (
	"context"
	"strings"
	"testing"
)

// siteNumber is the number the desk phone's site is registered under at
// the carrier.
const siteNumber = "+3221239000"

// A trunk configured for nomadic use is told the caller's site on an
// emergency call: with pai, P-Asserted-Identity is the site's emergency
// number; with phone_context, the Request-URI names it too; by default,
// the caller's own number. The PIDF-LO goes in every case (a phone's own
// location does not change the site number sent), and a caller without a
// site falls back to the default.
func TestEmergencyCallPresentsSiteToNomadicTrunk(t *testing.T) {
	e := newEmergencyEnv(t)
	ctx := context.Background()
	// The site's number belongs to the tenant; it rings the softphone's
	// user, so the desk phone's own number stays its caller id.
	addNumber(t, e.a, e.ten.ID, siteNumber, map[string]any{"type": "user", "id": e.soft.user.ID})
	apiCall(t, e.a, "PATCH", "/api/v1/tenants/"+e.ten.ID+"/sites/"+e.desk.user.SiteID, map[string]any{"emergency_number": siteNumber}, 200)
	trunks, err := e.a.store.Trunks(ctx)
	if err != nil || len(trunks) != 1 {
		t.Fatalf("trunks %+v, %v", trunks, err)
	}
	desk := newSoftphone(t, e.a, e.desk, "udp")
	soft := newSoftphone(t, e.a, e.soft, "udp")
	if res := registerWithLocation(t, soft, pidfLO("Leuven", "3000")); res.StatusCode != 200 {
		t.Fatalf("register with location: %s", res.StartLine())
	}
	for _, tc := range []struct {
		mode, dialled string
		phone         *softphone
		elsewhere     bool   // the phone registers a location of its own first
		user          string // the Request-URI's user part
		caller        string // the caller's own number, in From
		pai           string // the number in P-Asserted-Identity
		userPhone     bool   // the Request-URI has user=phone
		postalCode    string // of the PIDF-LO sent
	}{
		{"", "112", desk, false, "112", "+3221234201", "+3221234201", false, "1000"},
		{"pai", "112", desk, false, "112", "+3221234201", siteNumber, false, "1000"},
		{"phone_context", "100", desk, false, "100;phone-context=" + siteNumber, "+3221234201", siteNumber, true, "1000"},
		{"phone_context", "112", desk, true, "112;phone-context=" + siteNumber, "+3221234201", siteNumber, true, "9000"},
		{"phone_context", "112", soft, false, "112", "+3221234202", "+3221234202", false, "3000"}, // no site: the default
	} {
		if tc.elsewhere {
			if res := registerWithLocation(t, tc.phone, pidfLO("Gent", "9000")); res.StatusCode != 200 {
				t.Fatalf("register with location: %s", res.StartLine())
			}
		}
		apiCall(t, e.a, "PATCH", "/api/v1/trunks/"+trunks[0].ID, map[string]any{"emergency_site_identity": tc.mode}, 200)
		call := startDial(t, tc.phone, tc.dialled, dialOpt{})
		cc := e.nextAnswered(t)
		loc, _ := emergencyInvite(t, cc.req, tc.user, tc.pai)
		if pai := cc.req.GetHeader("P-Asserted-Identity").Value(); tc.pai == siteNumber && !strings.Contains(pai, "<sip:"+siteNumber+"@acme.test;user=phone>") {
			t.Errorf("%s: P-Asserted-Identity %s", tc.mode, pai)
		}
		if up, _ := cc.req.Recipient.UriParams.Get("user"); (up == "phone") != tc.userPhone {
			t.Errorf("%s: Request-URI %s", tc.mode, cc.req.Recipient.String())
		}
		// The caller's own number stays in From: the call back rings it.
		if from := cc.req.From(); from == nil || from.Address.User != tc.caller {
			t.Errorf("%s: From %v", tc.mode, from)
		}
		if loc.Civic == nil || loc.Civic.PC != tc.postalCode {
			t.Errorf("%s: location %+v", tc.mode, loc.Civic)
		}
		e.hangUp(t, call.wait(t), cc)
	}
}
