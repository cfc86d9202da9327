package main

import (
	"testing"
	"time"
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
}
