package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOutboundForwardToExternal: a user's forward to an outside number
// leaves through the routes; the carrier taking Diversion sees the
// original caller in From, the user's number in P-Asserted-Identity and
// Diversion; the one taking PAI sees the original caller in both.
func TestOutboundForwardToExternal(t *testing.T) {
	s := newOutboundSetup(t)
	s.patchUser(t, map[string]any{"forward_always": "0470998877", "caller_id_number_id": numberID(t, s.a, s.tenantID, "+3221234567")})
	caller := newTrunkCaller(t, s.a, "+32470000001")

	in, err := caller.dial(t, "+3221234567", dialOpt{})
	if err != nil {
		t.Fatalf("forwarded call: %v", err)
	}
	cc := s.c1.nextAnswered(t)
	req := cc.req
	if req.Recipient.User != "+32470998877" || req.From().Address.User != "+32470000001" ||
		!strings.Contains(hdr(req, "P-Asserted-Identity"), "<sip:+3221234567@acme.test>") ||
		!strings.Contains(hdr(req, "Diversion"), "<sip:+3221234567@acme.test>") || !strings.Contains(hdr(req, "Diversion"), "reason=unconditional") {
		t.Errorf("Diversion carrier: sent %s From %s PAI %q Diversion %q", req.Recipient.String(), req.From().Value(), hdr(req, "P-Asserted-Identity"), hdr(req, "Diversion"))
	}
	requireRelay(t, in, &pcall{rtp: cc.rtp, remote: cc.offerAddr(t)}, 50, 40, "caller to the forward's carrier: %d frames")
	hangUp(t, in, cc)
	s.alice.noIncoming(t, 0)

	s.c1.answer(503)
	if in, err = caller.dial(t, "+3221234567", dialOpt{}); err != nil {
		t.Fatalf("forwarded call: %v", err)
	}
	cc = s.c2.nextAnswered(t)
	req = cc.req
	if req.From().Address.User != "+32470000001" || !strings.Contains(hdr(req, "P-Asserted-Identity"), "+32470000001@") || hdr(req, "Diversion") != "" {
		t.Errorf("PAI carrier: From %s PAI %q Diversion %q", req.From().Value(), hdr(req, "P-Asserted-Identity"), hdr(req, "Diversion"))
	}
	hangUp(t, in, cc)
	waitIdle(t, s.a)
}

// TestOutboundBarring: premium-rate numbers, Belgian and foreign, are
// refused with an announcement and 403 until an admin lifts the barring;
// international calls are barred per tenant and per user.
func TestOutboundBarring(t *testing.T) {
	s := newOutboundSetup(t)
	calling := "/api/v1/tenants/" + s.tenantID + "/calling"
	barred := func(who *softphone, dialled string) {
		t.Helper()
		pc, err := who.dial(t, dialled, dialOpt{})
		if statusOf(err) != 403 {
			t.Fatalf("%s: %v, want 403", dialled, err)
		}
		heardAnnouncement(t, pc)
	}
	barred(s.alice, "090012345")
	barred(s.alice, "090912345")
	barred(s.alice, "0097912345678")
	s.c1.noInvite(t, 0)
	s.c2.noInvite(t, 0)

	// International calls: allowed by default, then barred for the tenant.
	out, cc := callOut(t, s.alice, "0033123456789", s.c1)
	hangUp(t, out, cc)
	apiCall(t, s.a, "PATCH", calling, map[string]any{"bar_international": true}, 200)
	barred(s.bob, "0033123456789")
	out, cc = callOut(t, s.bob, "021112233", s.c1) // national calls go on
	hangUp(t, out, cc)

	// Lifted for the tenant, barred for alice alone.
	apiCall(t, s.a, "PATCH", calling, map[string]any{"bar_international": false}, 200)
	s.patchUser(t, map[string]any{"bar_international": true})
	barred(s.alice, "+33123456789")
	out, cc = callOut(t, s.bob, "+33123456789", s.c1)
	hangUp(t, out, cc)

	// Premium lifted by the admin.
	apiCall(t, s.a, "PATCH", calling, map[string]any{"bar_premium": false}, 200)
	out, cc = callOut(t, s.bob, "090012345", s.c1)
	if cc.req.Recipient.User != "+3290012345" {
		t.Errorf("premium sent as %s", cc.req.Recipient.String())
	}
	hangUp(t, out, cc)
	waitIdle(t, s.a)
}

// TestOutboundRoutesRefuseBadInput: malformed prefixes, unknown trunks
// and a route without trunks are 422s naming the field.
func TestOutboundRoutesRefuseBadInput(t *testing.T) {
	a := testApp(t, t.TempDir())
	tr := addOutTrunk(t, a, "one", 5060, nil)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"prefix": "0032", "trunks": []string{tr}}, `"field":"prefix"`},
		{map[string]any{"prefix": "+32", "trunks": []string{"trk_unknown"}}, `"field":"trunks[0]"`},
		{map[string]any{"prefix": "+32", "trunks": []string{}}, `"field":"trunks"`},
	} {
		out := apiCall(t, a, "POST", "/api/v1/routes", c.body, 422)
		if raw, _ := json.Marshal(out); !strings.Contains(string(raw), c.field) {
			t.Errorf("%v: %s, want %s", c.body, raw, c.field)
		}
	}
}
