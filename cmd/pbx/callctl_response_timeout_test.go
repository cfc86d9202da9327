package main

import (
	"fmt"
	"testing"
	"time"

	"pbx/callctl"
)

// A target silent past its ResponseTimeout is passed over as a 408 (a
// carrier route's next trunk rings); one that answered anything, even a
// provisional response, keeps ringing past it.
func TestDialResponseTimeout(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	silent := newSilentCarrier(t)
	const timeout = 500 * time.Millisecond
	answered := make(chan *carrierCall, 1)
	slow := newCarrier(t, func(cc *carrierCall) {
		cc.respond(180, "Ringing", nil)
		time.Sleep(3 * timeout) // rings past the response timeout
		cc.respond(200, "OK", cc.sdp(t))
		answered <- cc
	})
	outcome := dialProgram(t, a, func() callctl.DialSpec {
		return callctl.DialSpec{Strategy: callctl.Sequential, StopOn: callctl.TrunkFailover, Timeout: 20 * time.Second, Destinations: []callctl.Destination{
			{Targets: []callctl.Target{{URI: fmt.Sprintf("sip:+3221000001@127.0.0.2:%d", silent.port()), Transport: "udp", ResponseTimeout: timeout}}, Tag: "silent"},
			{Targets: []callctl.Target{{URI: fmt.Sprintf("sip:+3221000001@%s", slow.addr), Transport: "udp", ResponseTimeout: timeout}}, Tag: "slow"},
		}}
	})
	out, err := alice.dial(t, "+3221000001", dialOpt{})
	if err != nil {
		t.Fatalf("caller: %v", err)
	}
	if err := dialOutcome(t, outcome); err != nil {
		t.Fatalf("dial: %v", err)
	}
	select {
	case <-silent.invites:
	default:
		t.Fatal("the silent target was never tried")
	}
	select {
	case cc := <-answered:
		hangUp(t, out, cc)
	case <-time.After(20 * time.Second):
		t.Fatal("the slow target did not answer")
	}
	waitIdle(t, a)
}
