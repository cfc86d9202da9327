package main

import (
	"context"
	"testing"
	"time"

	"pbx/location"
)

// A desk phone's emergency call goes to the carrier with the caller's
// public number and its site's civic address as a PIDF-LO beside the SDP;
// media flows; the call is logged with the location sent.
func TestEmergencyCallFromDeskPhoneCarriesSiteAddress(t *testing.T) {
	e := newEmergencyEnv(t)
	desk := newSoftphone(t, e.a, e.desk, "udp")
	call := startDial(t, desk, "112", dialOpt{})
	cc := e.nextAnswered(t)
	loc, offer := emergencyInvite(t, cc.req, "112", "+3221234201")
	want := location.Civic{Country: "BE", A3: "Brussel", RD: "Wetstraat", HNO: "16", PC: "1000", LOC: "HQ"}
	if loc.Civic == nil || *loc.Civic != want {
		t.Fatalf("civic address %+v, want %+v", loc.Civic, want)
	}
	pc := call.wait(t)
	requireRelayBoth(t, pc, carrierLeg(t, cc, offer), 50, 40, "caller to the emergency service: %d frames", "emergency service to the caller: %d frames")
	e.hangUp(t, pc, cc)
	e.a.calls.plan.Emergency.Wait()
	calls, err := e.a.store.EmergencyCalls(context.Background(), e.ten.ID, 10)
	if err != nil || len(calls) != 1 || calls[0].Number != "112" || calls[0].LocationSource != "site" || calls[0].UserID != e.desk.user.ID ||
		calls[0].DeviceID != e.desk.device.ID || calls[0].Caller != "+3221234201" {
		t.Fatalf("logged %+v, %v", calls, err)
	}
}

// A softphone away from any site sends its location: the one it
// registered goes with its emergency call, and the one its INVITE
// carries wins over it.
func TestEmergencyCallFromSoftphoneCarriesItsLocation(t *testing.T) {
	e := newEmergencyEnv(t)
	soft := newSoftphone(t, e.a, e.soft, "udp")
	if res := registerWithLocation(t, soft, pidfLO("Leuven", "3000")); res.StatusCode != 200 {
		t.Fatalf("register with location: %s", res.StartLine())
	}
	call := startDial(t, soft, "112", dialOpt{})
	cc := e.nextAnswered(t)
	loc, _ := emergencyInvite(t, cc.req, "112", "+3221234202")
	if loc.Civic == nil || loc.Civic.A3 != "Leuven" || loc.Civic.PC != "3000" || loc.Civic.RD != "Markt" {
		t.Fatalf("registered location not sent: %+v", loc.Civic)
	}
	e.hangUp(t, call.wait(t), cc)

	type result struct {
		pc  *pcall
		err error
	}
	done := make(chan result, 1)
	go func() {
		pc, err := dialWithLocation(t, soft, "101", pidfLO("Gent", "9000"))
		done <- result{pc, err}
	}()
	cc = e.nextAnswered(t)
	loc, offer := emergencyInvite(t, cc.req, "101", "+3221234202")
	if loc.Civic == nil || loc.Civic.A3 != "Gent" || loc.Civic.PC != "9000" {
		t.Fatalf("the INVITE's location not sent: %+v", loc.Civic)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("emergency call with a multipart INVITE: %v", r.err)
	}
	requireRelay(t, r.pc, carrierLeg(t, cc, offer), 50, 40, "caller to the emergency service: %d frames")
	e.hangUp(t, r.pc, cc)
	e.a.calls.plan.Emergency.Wait()
	calls, err := e.a.store.EmergencyCalls(context.Background(), e.ten.ID, 10)
	if err != nil || len(calls) != 2 || calls[0].LocationSource != "invite" || calls[1].LocationSource != "register" {
		t.Fatalf("logged %+v, %v", calls, err)
	}
}

// waitStatus waits for a refused dial and returns its SIP status.
func waitStatus(t *testing.T, d *dialing) int {
	t.Helper()
	select {
	case r := <-d.ch:
		if r.err == nil {
			t.Fatalf("call to %s answered", d.ext)
		}
		return statusOf(r.err)
	case <-time.After(40 * time.Second):
		t.Fatalf("call to %s: no final answer", d.ext)
		return 0
	}
}
