package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// brussels is a local time in Brussels.
func brussels(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// officeFlow: office hours on weekdays (Christmas closed) lead to a menu,
// 1 for the sales group, 2 for support (203); outside them, the night
// phone (209).
func officeFlow(prompt, group, support, night string) string {
	return fmt.Sprintf(`{"name":"office","start":"hours","nodes":{
		"hours":{"type":"schedule","hours":[{"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"}],
			"exceptions":[{"date":"2026-12-25","closed":true}],"open":"menu","closed":"night"},
		"menu":{"type":"menu","prompt":%q,"options":{"1":"sales","2":"support"},"timeout":10,"retries":1,"invalid":"night"},
		"sales":{"type":"hunt_group","id":%q},
		"support":{"type":"user","id":%q},
		"night":{"type":"user","id":%q}}}`, prompt, group, support, night)
}

// TestCarrierCallThroughAFlow: a carrier calls a number leading to a call
// flow; the schedule (read from the dialplan's clock) sends office-hours
// calls to a menu, answered with an RFC 4733 digit, and the others
// (evening, Christmas) to the night phone. The menu's 1 rings the sales
// group (ring all), its 2 the support user.
func TestCarrierCallThroughAFlow(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203", "209")
	ten := accs[0].tenant.ID
	addTrunk(t, a)
	prompt := addAudio(t, a, ten, 2*time.Second)
	group := addGroup(t, a, ten, map[string]any{"name": "Sales", "strategy": "ring_all", "members": []string{accs[0].user.ID, accs[1].user.ID},
		"member_timeout": 10, "timeout": 20, "overflow": map[string]any{"type": "voicemail", "id": accs[3].user.ID}})
	flow := addFlow(t, a, ten, officeFlow(prompt, group, accs[2].user.ID, accs[3].user.ID))
	addNumber(t, a, ten, "+3221234567", map[string]any{"type": "call_flow", "id": flow})
	p201, p202 := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	p203, p209 := newSoftphone(t, a, accs[2], "udp"), newSoftphone(t, a, accs[3], "udp")
	carrier := newTrunkCaller(t, a, "+32470000001")

	t.Run("open, menu 1: the group rings", func(t *testing.T) {
		setClock(t, a, brussels(t, "2026-12-03 10:00")) // a Thursday
		out, err := carrier.dial(t, "021234567", dialOpt{})
		if err != nil {
			t.Fatalf("the menu did not answer: %v", err)
		}
		rtpArrives(t, out, 5*time.Second, "the menu's prompt")
		sendDigit(t, out, 101, 1)
		r201, r202 := p201.nextIncoming(t), p202.nextIncoming(t)
		r202.answer(t, "0 101")
		r201.waitCancelled(t)
		requireRelayBoth(t, out, r202, 50, 40, "carrier to 202: %d frames", "202 to carrier: %d frames")
		endCall(t, a, out, r202)
		p203.noIncoming(t, 0)
		p209.noIncoming(t, 0)
	})
	t.Run("open, menu 2: support rings", func(t *testing.T) {
		setClock(t, a, brussels(t, "2026-12-04 17:59")) // a Friday
		out, err := carrier.dial(t, "+3221234567", dialOpt{})
		if err != nil {
			t.Fatal(err)
		}
		sendDigit(t, out, 101, 2)
		in := p203.nextIncoming(t)
		in.answer(t, "0 101")
		requireRelay(t, in, out, 50, 40, "203 to carrier: %d frames")
		endCall(t, a, in, out)
		p201.noIncoming(t, 0)
		p209.noIncoming(t, 0)
	})
	for _, closed := range []string{"2026-12-03 18:00", "2026-12-05 10:00", "2026-12-25 10:00"} { // evening, Saturday, Christmas (a Friday)
		t.Run("closed "+closed, func(t *testing.T) {
			setClock(t, a, brussels(t, closed))
			out, in := connect(t, carrier, p209, "003221234567", "0 101")
			requireRelay(t, out, in, 50, 40, "carrier to the night phone: %d frames")
			endCall(t, a, out, in)
			p201.noIncoming(t, 0)
			p203.noIncoming(t, 0)
		})
	}
}

// TestFlowEditWhileCallsAreInside publishes a new version of a flow while
// 50 carrier calls are inside the old one: every one of them finishes on
// the version it started with (an announcement, a menu, hang-up on 1),
// none is sent where the new version leads (the night phone), and the
// next call takes the new version.
func TestFlowEditWhileCallsAreInside(t *testing.T) {
	const calls = 50
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "209")
	ten := accs[0].tenant.ID
	addTrunk(t, a)
	welcome := addAudio(t, a, ten, 2*time.Second)
	v1 := fmt.Sprintf(`{"name":"v1","start":"welcome","nodes":{
		"welcome":{"type":"play","audio":%q,"next":"menu"},
		"menu":{"type":"menu","options":{"1":"bye"},"timeout":60,"invalid":"night"},
		"bye":{"type":"hangup"},
		"night":{"type":"user","id":%q}}}`, welcome, accs[0].user.ID)
	flow := addFlow(t, a, ten, v1)
	addNumber(t, a, ten, "+3221234567", map[string]any{"type": "call_flow", "id": flow})
	night := newSoftphone(t, a, accs[0], "udp")
	carriers := []*softphone{newTrunkCaller(t, a, "+32470000001"), newTrunkCaller(t, a, "+32470000002")}

	dials := make([]*dialing, calls)
	for i := range dials {
		dials[i] = startDial(t, carriers[i%len(carriers)], "021234567", dialOpt{})
	}
	outs := make([]*pcall, calls)
	for i, d := range dials {
		outs[i] = d.wait(t) // answered by the flow's announcement
	}
	v2 := fmt.Sprintf(`{"name":"v2","start":"night","nodes":{"night":{"type":"user","id":%q}}}`, accs[0].user.ID)
	var g any
	if err := json.Unmarshal([]byte(v2), &g); err != nil {
		t.Fatal(err)
	}
	if out := apiCall(t, a, "PUT", "/api/v1/tenants/"+ten+"/call_flows/"+flow, g, 200); out["version"] != float64(2) {
		t.Fatalf("PUT answered %v", out)
	}
	for _, out := range outs {
		sendDigit(t, out, 101, 1)
	}
	for _, out := range outs {
		out.waitEnded(t) // the pbx hangs up: v1's "bye"
	}
	night.noIncoming(t, 0)
	waitIdle(t, a)

	// A new call takes version 2.
	out, in := connect(t, carriers[0], night, "+3221234567", "0 101")
	endCall(t, a, out, in)
}
