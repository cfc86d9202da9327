package main

import (
	"testing"
	"time"
)

// TestCarrierAuthenticatesAsTrunk: a carrier calling from an address that
// is no trunk's inbound source answers the 407 with its trunk's username
// and password and is a carrier call (routed by the number); a wrong
// password is challenged again, counts as an authentication failure and
// places no call.
func TestCarrierAuthenticatesAsTrunk(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": trunkCallerAddr, "transport": "udp",
		"inbound_sources": []string{trunkCallerAddr}, "username": "acme-trunk", "password": "s3cret-trunk"}, 201)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": acme[0].user.ID})
	alice := newSoftphone(t, a, acme[0], "udp")

	failures := metricValue(t, a, "pbx_sip_auth_failures_total")
	wrong := newTrunkCallerAt(t, a, "127.0.0.3", "acme-trunk")
	wrong.acc.password = "not-the-password"
	if _, err := wrong.dial(t, "+3221234567", dialOpt{}); statusOf(err) != 407 && statusOf(err) != 403 {
		t.Fatalf("wrong password: %v, want 407 or 403", err)
	}
	alice.noIncoming(t, 300*time.Millisecond)
	// Each wrong answer counts as a device's does (the guard bans on
	// these); sipgo answers a challenge up to twice.
	if got := metricValue(t, a, "pbx_sip_auth_failures_total"); got < failures+1 || got > failures+2 {
		t.Fatalf("authentication failures %v, want %v or %v more", got-failures, 1, 2)
	}

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

// TestTrunkCredentialsBanned: wrong passwords for a trunk's username ban
// the account as they would a device's: then even the right password is
// refused, from another address too.
func TestTrunkCredentialsBanned(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.BanAccount, c.BanSource = 2, 100 })
	acme := seedTenant(t, a, "Acme", "201")
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": trunkCallerAddr, "transport": "udp",
		"inbound_sources": []string{}, "username": "acme-trunk", "password": "s3cret-trunk"}, 201)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": acme[0].user.ID})
	alice := newSoftphone(t, a, acme[0], "udp")

	wrong := newTrunkCallerAt(t, a, "127.0.0.3", "acme-trunk")
	wrong.acc.password = "not-the-password"
	for i := 0; i < 2; i++ {
		if _, err := wrong.dial(t, "+3221234567", dialOpt{}); err == nil {
			t.Fatal("a wrong password placed a call")
		}
	}
	right := newTrunkCallerAt(t, a, "127.0.0.4", "acme-trunk")
	right.acc.password = "s3cret-trunk"
	if _, err := right.dial(t, "+3221234567", dialOpt{}); statusOf(err) != 403 {
		t.Fatalf("banned trunk account: %v, want 403", err)
	}
	alice.noIncoming(t, 300*time.Millisecond)
}
