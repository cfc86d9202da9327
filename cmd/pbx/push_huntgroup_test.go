package main

import (
	"testing"
	"time"

	"pbx/push/pushtest"
)

// A ring-all hunt group whose member has nothing but a sleeping mobile:
// the other member's desk phone rings at once, the mobile is woken by
// push and, once registered again, rings in the group's dial, answers and
// talks to the caller.
func TestPushHuntGroupWakesMember(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, 30*time.Second)
	accs := seedTenant(t, a, "PushH", "201", "202", "209")
	desk := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "4f2e6a8c0b1d3e5f7a9c", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)
	addTrunk(t, a)
	carrier := newTrunkCaller(t, a, "+32470000001")
	tenant := accs[0].tenant.ID
	group := addGroup(t, a, tenant, map[string]any{"name": "Sales", "strategy": "ring_all", "timeout": 60, "member_timeout": 20,
		"members":  []string{accs[0].user.ID, accs[1].user.ID},
		"overflow": map[string]any{"type": "user", "id": accs[2].user.ID}})
	addNumber(t, a, tenant, "+3221234599", map[string]any{"type": "hunt_group", "id": group})

	call := startDial(t, carrier, "+3221234599", dialOpt{})
	atDesk := desk.nextIncoming(t)
	select {
	case p := <-apns.Pushes():
		if p.Token != pp.prid || p.Body["call-id"] == "" || p.Header.Get("apns-topic") != "be.example.phone.voip" {
			t.Errorf("push to %q: %v %v", p.Token, p.Header, p.Body)
		}
	case <-time.After(pushPatience):
		t.Fatal("no push for the sleeping member's mobile")
	}
	woken := mobile(t, a, accs[1], pp)
	in := woken.nextIncoming(t)
	if v := metricValue(t, a, `pbx_push_woken_total{provider="apns"}`); v != 1 {
		t.Errorf("woken devices counted %v", v)
	}
	in.answer(t, "0 8 101")
	atDesk.waitCancelled(t)
	out := call.wait(t)
	requireRelayBoth(t, out, in, 50, 40, "carrier to the woken mobile: %d frames", "woken mobile to the carrier: %d frames")
	endCall(t, a, out, in)
}
