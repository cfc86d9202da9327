package main

import (
	"testing"
	"time"
)

// TestCarrierAuthenticatesAsTrunk: a carrier calling from an address that
// is no trunk's inbound source answers the 407 with its trunk's username
// and password and is a carrier call (routed by the number); a wrong
// password is challenged again and places no call.
func TestCarrierAuthenticatesAsTrunk(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": trunkCallerAddr, "transport": "udp",
		"inbound_sources": []string{trunkCallerAddr}, "username": "acme-trunk", "password": "s3cret-trunk"}, 201)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": acme[0].user.ID})
	alice := newSoftphone(t, a, acme[0], "udp")

	wrong := newTrunkCallerAt(t, a, "127.0.0.3", "acme-trunk")
	wrong.acc.password = "not-the-password"
	if _, err := wrong.dial(t, "+3221234567", dialOpt{}); statusOf(err) != 407 && statusOf(err) != 403 {
		t.Fatalf("wrong password: %v, want 407 or 403", err)
	}
	alice.noIncoming(t, 300*time.Millisecond)

	carrier := newTrunkCallerAt(t, a, "127.0.0.3", "acme-trunk")
	carrier.acc.password = "s3cret-trunk"
	out, in := connect(t, carrier, alice, "021234567", "0 101")
	requireRelayBoth(t, out, in, 50, 40, "carrier to callee: %d frames", "callee to carrier: %d frames")
	endCall(t, a, out, in)
	waitIdle(t, a)
	cdrs := waitCDR(t, a, acme[0].tenant.ID, 1)
	if r := cdrs[0]; r.Origin != "trunk" || r.Callee != "201" || r.Disposition != "answered" {
		t.Fatalf("CDR %+v, want an answered trunk call to 201", r)
	}
}
