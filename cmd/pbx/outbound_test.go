package main

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// outboundSetup is tenant Acme (alice 201 on +3221234567, bob 202, the
// main number +3221234500) with two carriers behind the default route:
// one (Diversion for forwards; its address is also the inbound trunk's)
// and two (P-Asserted-Identity for forwards).
type outboundSetup struct {
	a          *app
	tenantID   string
	alice, bob *softphone
	aliceID    string
	c1, c2     *outCarrier
	t1, t2     string
}

func newOutboundSetup(t *testing.T) *outboundSetup {
	t.Helper()
	a := outboundApp(t)
	acme := seedTenant(t, a, "Acme", "201", "202")
	s := &outboundSetup{a: a, tenantID: acme[0].tenant.ID, aliceID: acme[0].user.ID, c1: newOutCarrier(t), c2: newOutCarrier(t)}
	s.t1 = addOutTrunk(t, a, "one", int(s.c1.addr.Port()), map[string]any{"inbound_sources": []string{"127.0.0.2"}})
	s.t2 = addOutTrunk(t, a, "two", int(s.c2.addr.Port()), map[string]any{"forward_identity": "pai"})
	apiCall(t, a, "POST", "/api/v1/routes", map[string]any{"prefix": "", "trunks": []string{s.t1, s.t2}}, 201)
	main := addNumber(t, a, s.tenantID, "+3221234500", map[string]any{"type": "user", "id": acme[1].user.ID})
	addNumber(t, a, s.tenantID, "+3221234567", map[string]any{"type": "user", "id": s.aliceID})
	apiCall(t, a, "PATCH", "/api/v1/tenants/"+s.tenantID+"/calling", map[string]any{"main_number_id": main}, 200)
	s.alice = newSoftphone(t, a, acme[0], "udp")
	s.bob = newSoftphone(t, a, acme[1], "udp")
	return s
}

func (s *outboundSetup) patchUser(t *testing.T, body map[string]any) {
	t.Helper()
	apiCall(t, s.a, "PATCH", "/api/v1/tenants/"+s.tenantID+"/users/"+s.aliceID, body, 200)
}

// callOut has from dial dialled and waits for carrier c to answer it.
func callOut(t *testing.T, from *softphone, dialled string, c *outCarrier) (*pcall, *carrierCall) {
	t.Helper()
	out, err := from.dial(t, dialled, dialOpt{})
	if err != nil {
		t.Fatalf("%s: %v", dialled, err)
	}
	return out, c.nextAnswered(t)
}

// hangUp ends an outbound call from the caller's side.
func hangUp(t *testing.T, out *pcall, cc *carrierCall) {
	t.Helper()
	out.hangup(t)
	cc.waitGone(t)
}

func hdr(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// TestOutboundNumberForms: what a user dials, in every Belgian form, goes
// to the carrier in E.164 (short numbers as dialled), with the tenant's
// main number in From and P-Asserted-Identity, and media flows; a user's
// own chosen number replaces the main number.
func TestOutboundNumberForms(t *testing.T) {
	s := newOutboundSetup(t)
	for i, c := range []struct{ dialled, want string }{
		{"021234599", "+3221234599"},
		{"0470123456", "+32470123456"},
		{"+3221234599", "+3221234599"},
		{"003221234599", "+3221234599"},
		{"0033123456789", "+33123456789"},
		{"+33123456789", "+33123456789"},
		{"1207", "1207"},
		{"080012345", "+3280012345"},
		{"070123456", "+3270123456"},
	} {
		out, cc := callOut(t, s.alice, c.dialled, s.c1)
		req := cc.req
		if req.Recipient.User != c.want || req.Recipient.Port != int(s.c1.addr.Port()) {
			t.Errorf("%s: the carrier was sent %s, want %s", c.dialled, req.Recipient.String(), c.want)
		}
		if u := req.From().Address.User; u != "+3221234500" {
			t.Errorf("%s: From %q, want the main number", c.dialled, u)
		}
		if pai := hdr(req, "P-Asserted-Identity"); !strings.Contains(pai, "<sip:+3221234500@acme.test>") || hdr(req, "Privacy") != "" {
			t.Errorf("%s: P-Asserted-Identity %q, Privacy %q", c.dialled, pai, hdr(req, "Privacy"))
		}
		if i == 0 {
			requireRelayBoth(t, out, &pcall{rtp: cc.rtp, remote: cc.offerAddr(t)}, 50, 40, "caller to carrier: %d frames", "carrier to caller: %d frames")
		}
		hangUp(t, out, cc)
	}
	// Alice chooses her own number.
	aliceNum := numberID(t, s.a, s.tenantID, "+3221234567")
	s.patchUser(t, map[string]any{"caller_id_number_id": aliceNum})
	out, cc := callOut(t, s.alice, "021112233", s.c1)
	if pai := hdr(cc.req, "P-Asserted-Identity"); cc.req.From().Address.User != "+3221234567" || !strings.Contains(pai, "+3221234567@") {
		t.Errorf("own number: From %s, PAI %q", cc.req.From().Address.User, pai)
	}
	hangUp(t, out, cc)
	s.c2.noInvite(t, 0)
	waitIdle(t, s.a)
}

// numberID finds the id of a tenant's number.
func numberID(t *testing.T, a *app, tenantID, e164 string) string {
	t.Helper()
	n, err := a.store.NumberByE164(t.Context(), e164)
	if err != nil || n.TenantID != tenantID {
		t.Fatalf("number %s: %+v, %v", e164, n, err)
	}
	return n.ID
}

// TestOutboundInboundToAUser: a carrier's call to a user's number rings
// the user, who sees the caller's number.
func TestOutboundInboundToAUser(t *testing.T) {
	s := newOutboundSetup(t)
	caller := newTrunkCaller(t, s.a, "+32470000001")
	out, in := connect(t, caller, s.alice, "+3221234567", "0 101")
	if got := in.invite.From().Address.User; got != "+32470000001" {
		t.Errorf("alice sees caller %q", got)
	}
	requireRelayBoth(t, out, in, 50, 40, "carrier to alice: %d frames", "alice to carrier: %d frames")
	endCall(t, s.a, out, in)
}

// TestOutboundFailover: a route's first carrier answering 503, or not
// answering at all within its response timeout, passes the call to the
// second; a carrier's busy is final.
func TestOutboundFailover(t *testing.T) {
	s := newOutboundSetup(t)
	s.c1.answer(503)
	out, cc := callOut(t, s.alice, "021112233", s.c2)
	s.c1.nextInvite(t)
	if cc.req.Recipient.User != "+3221112233" {
		t.Errorf("second carrier sent %s", cc.req.Recipient.String())
	}
	requireRelay(t, out, &pcall{rtp: cc.rtp, remote: cc.offerAddr(t)}, 50, 40, "caller to the second carrier: %d frames")
	hangUp(t, out, cc)
	s.c2.nextInvite(t) // that call's

	s.c1.answer(486)
	if _, err := s.alice.dial(t, "021112233", dialOpt{}); statusOf(err) != 486 {
		t.Fatalf("busy at the first carrier: %v, want 486", err)
	}
	s.c2.noInvite(t, 300*time.Millisecond)

	// The first carrier is down: nothing answers its INVITE.
	silent := newSilentCarrier(t)
	apiCall(t, s.a, "PATCH", "/api/v1/trunks/"+s.t1, map[string]any{"port": silent.port(), "response_timeout_ms": 1000}, 200)
	out, cc = callOut(t, s.alice, "021112233", s.c2)
	select {
	case <-silent.invites:
	default:
		t.Fatal("the silent carrier was never tried")
	}
	hangUp(t, out, cc)
	waitIdle(t, s.a)
}

// TestOutboundCLIR: a number withheld per call (*31*) or per user goes
// out with an anonymous From and Privacy: id, the carrier still getting
// the number in P-Asserted-Identity.
func TestOutboundCLIR(t *testing.T) {
	s := newOutboundSetup(t)
	check := func(how string, cc *carrierCall) {
		t.Helper()
		req := cc.req
		if req.Recipient.User != "+3221112233" || req.From().Address.User != "anonymous" || req.From().Address.Host != "anonymous.invalid" ||
			hdr(req, "Privacy") != "id" || !strings.Contains(hdr(req, "P-Asserted-Identity"), "<sip:+3221234500@acme.test>") {
			t.Errorf("%s: sent %s From %s Privacy %q PAI %q", how, req.Recipient.String(), req.From().Value(), hdr(req, "Privacy"), hdr(req, "P-Asserted-Identity"))
		}
	}
	out, cc := callOut(t, s.alice, "*31*021112233", s.c1)
	check("*31*", cc)
	hangUp(t, out, cc)
	// Bob's next call shows his number again.
	out, cc = callOut(t, s.bob, "021112233", s.c1)
	if cc.req.From().Address.User != "+3221234500" || hdr(cc.req, "Privacy") != "" {
		t.Errorf("after *31*: From %s Privacy %q", cc.req.From().Value(), hdr(cc.req, "Privacy"))
	}
	hangUp(t, out, cc)

	s.patchUser(t, map[string]any{"clir": true})
	out, cc = callOut(t, s.alice, "021112233", s.c1)
	check("user setting", cc)
	hangUp(t, out, cc)
	waitIdle(t, s.a)
}

// TestOutboundAnonymousRejection: a user who refuses withheld numbers
// has them hear an announcement, then 433; a caller with a number rings.
func TestOutboundAnonymousRejection(t *testing.T) {
	s := newOutboundSetup(t)
	s.patchUser(t, map[string]any{"reject_anonymous": true})
	anon := newTrunkCaller(t, s.a, "anonymous")
	pc, err := anon.dial(t, "+3221234567", dialOpt{})
	if statusOf(err) != 433 {
		t.Fatalf("anonymous caller: %v, want 433", err)
	}
	heardAnnouncement(t, pc)
	s.alice.noIncoming(t, 200*time.Millisecond)

	caller := newTrunkCaller(t, s.a, "+32470000001")
	out, in := connect(t, caller, s.alice, "+3221234567", "0 101")
	endCall(t, s.a, out, in)
}
