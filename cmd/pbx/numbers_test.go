package main

import (
	"testing"
	"time"

	"github.com/icholy/digest"
)

// TestCarrierCallsANumber: a carrier calling from its trunk's address
// reaches the user a number leads to, whatever form the number comes in;
// another tenant's number reaches that tenant's user only; an unknown
// number is 404; a stranger's INVITE is challenged.
func TestCarrierCallsANumber(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	other := seedTenant(t, a, "Other", "201")
	addTrunk(t, a)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": acme[0].user.ID})
	addNumber(t, a, other[0].tenant.ID, "+3250123456", map[string]any{"type": "user", "id": other[0].user.ID})
	alice := newSoftphone(t, a, acme[0], "udp")
	olga := newSoftphone(t, a, other[0], "udp")
	carrier := newTrunkCaller(t, a, "+32470000001")

	for _, form := range []string{"021234567", "+3221234567", "003221234567", "3221234567"} {
		out, in := connect(t, carrier, alice, form, "0 101")
		if got := in.invite.From().Address.User; got != "+32470000001" {
			t.Errorf("%s: the callee sees caller %q", form, got)
		}
		requireRelayBoth(t, out, in, 50, 40, form+": carrier to callee: %d frames", form+": callee to carrier: %d frames")
		endCall(t, a, out, in)
	}
	olga.noIncoming(t, 0)

	out, in := connect(t, carrier, olga, "050123456", "0 101")
	requireRelay(t, out, in, 50, 40, "carrier to the other tenant: %d frames")
	endCall(t, a, in, out)
	alice.noIncoming(t, 0)

	// 201 is an extension of both tenants, never a number a carrier reaches.
	for _, n := range []string{"+3221234599", "201"} {
		if _, err := carrier.dial(t, n, dialOpt{}); statusOf(err) != 404 {
			t.Fatalf("unknown number %s: %v, want 404", n, err)
		}
	}
	alice.noIncoming(t, 200*time.Millisecond)
	olga.noIncoming(t, 0)

	// The same INVITE from an address that is no trunk's is challenged.
	stranger := newTrunkCallerAt(t, a, "127.0.0.3", "")
	if _, err := stranger.dial(t, "+3221234567", dialOpt{}); statusOf(err) != 407 {
		t.Fatalf("stranger: %v, want 407", err)
	}
	alice.noIncoming(t, 200*time.Millisecond)
	waitIdle(t, a)

	// Each tenant's records hold its own carrier calls, and only those.
	for _, c := range []struct {
		tenant string
		n      int
	}{{acme[0].tenant.ID, 4}, {other[0].tenant.ID, 1}} {
		cdrs := waitCDR(t, a, c.tenant, c.n)
		for _, r := range cdrs {
			if len(cdrs) != c.n || r.Origin != "trunk" || r.Caller != "+32470000001" || r.Callee != "201" || r.Disposition != "answered" {
				t.Fatalf("tenant %s: %d CDRs, %+v", c.tenant, len(cdrs), r)
			}
		}
	}
}

// TestCarrierCallToAnExternalNumber: a number leading to an external
// number sends the carrier's call back out through its trunk, as a
// generic target at the trunk's host, answering the carrier's 407 with the
// trunk's credentials; the two carrier legs are bridged.
func TestCarrierCallToAnExternalNumber(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	chal := &digest.Challenge{Realm: "carrier.test", Nonce: "n0nce-" + randomString(8), Algorithm: "MD5"}
	answered := make(chan *carrierCall, 1)
	out := newCarrier(t, func(cc *carrierCall) {
		if !proxyAuth(cc.req, chal, "acme-trunk", "s3cret") {
			cc.respond(407, "Proxy Authentication Required", nil, sipHeader("Proxy-Authenticate", chal.String()))
			return
		}
		cc.respond(200, "OK", cc.sdp(t))
		answered <- cc
	})
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": out.addr.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}, "username": "acme-trunk", "password": "s3cret"}, 201)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "external", "number": "050999999"})
	caller := newTrunkCaller(t, a, "+32470000001")

	in, err := caller.dial(t, "021234567", dialOpt{})
	if err != nil {
		t.Fatalf("call to the external number: %v", err)
	}
	var cc *carrierCall
	select {
	case cc = <-answered:
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier was not called with its credentials")
	}
	if u := cc.req.Recipient; u.User != "+3250999999" || u.Host != "127.0.0.2" || u.Port != int(out.addr.Port()) {
		t.Fatalf("the carrier was sent %s", u.String())
	}
	requireRelay(t, in, &pcall{rtp: cc.rtp, remote: cc.offerAddr(t)}, 50, 40, "caller to the external number: %d frames")
	in.hangup(t)
	select {
	case <-cc.dlg.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the external leg was not hung up")
	}
	waitIdle(t, a)
}
