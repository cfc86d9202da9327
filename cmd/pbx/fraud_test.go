package main

import (
	"testing"
	"time"
)

// TestTollFraudBurstTrips: a tenant with no history forwards its number
// to the United Kingdom; four short calls at 6 euro each pass the 20 euro
// floor in an hour: the guard blocks the tenant's international calls
// (refused, no carrier dialled) while a national one still goes, until
// an administrator lifts the block; the spending before the lift does not
// trip it again.
func TestTollFraudBurstTrips(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	tid := acme[0].tenant.ID
	answered := make(chan *carrierCall, 16)
	out := newCarrier(t, func(cc *carrierCall) {
		cc.respond(200, "OK", cc.sdp(t))
		answered <- cc
	})
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": out.addr.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}}, 201)
	addNumber(t, a, tid, "+3221234567", map[string]any{"type": "external", "number": "+447700900000"})
	addNumber(t, a, tid, "+3221234568", map[string]any{"type": "external", "number": "050999999"})
	apiCall(t, a, "PUT", "/api/v1/rates", []map[string]any{
		{"prefix": "+32", "name": "Belgium", "per_minute": "0.06"},
		{"prefix": "+44", "name": "United Kingdom", "per_minute": "0.50", "setup": "6.00"},
	}, 200)
	caller := newTrunkCaller(t, a, "+32470000001")
	call := func(dialled string) error {
		t.Helper()
		in, err := caller.dial(t, dialled, dialOpt{})
		if err != nil {
			return err
		}
		var cc *carrierCall
		select {
		case cc = <-answered:
		case <-time.After(20 * time.Second):
			t.Fatal("the carrier was not called")
		}
		out.nextInvite(t)
		in.hangup(t)
		select {
		case <-cc.dlg.Context().Done():
		case <-time.After(20 * time.Second):
			t.Fatal("the carrier's leg was not hung up")
		}
		waitIdle(t, a)
		return nil
	}
	blocks := func() int {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			bs, err := a.store.FraudBlocks(t.Context(), tid)
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) > 0 || time.Now().After(deadline) {
				return len(bs)
			}
		}
	}
	for i := range 3 {
		if err := call("021234567"); err != nil {
			t.Fatalf("international call %d: %v", i+1, err)
		}
	}
	if n := blocks(); n != 0 {
		t.Fatalf("blocked after 18 euro: %d blocks", n)
	}
	if err := call("021234567"); err != nil {
		t.Fatalf("fourth international call: %v", err)
	}
	if n := blocks(); n != 1 {
		t.Fatalf("%d blocks after 24 euro in the hour", n)
	}
	if _, err := caller.dial(t, "021234567", dialOpt{}); statusOf(err) != 403 {
		t.Fatalf("international call while blocked: %v, want 403", err)
	}
	out.noInvite(t, 500*time.Millisecond)
	if err := call("021234568"); err != nil {
		t.Fatalf("a national call while blocked: %v", err)
	}
	apiCall(t, a, "DELETE", "/api/v1/tenants/"+tid+"/fraud_block", nil, 204)
	if err := call("021234567"); err != nil {
		t.Fatalf("international call after the lift: %v", err)
	}
	// The guard counts from the lift: one more call does not block again.
	if n := blocks(); n != 0 {
		t.Fatalf("blocked again by the hour before the lift: %d blocks", n)
	}
}
