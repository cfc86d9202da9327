package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/icholy/digest"

	"pbx/callctl"
)

// dialProgram routes every call to a program that dials spec for the
// inbound leg, bridges the winner and reports the dial's outcome.
func dialProgram(t *testing.T, a *app, spec func() callctl.DialSpec) chan error {
	t.Helper()
	out := make(chan error, 4)
	a.calls.router.setProgram(func(ctx context.Context, call callctl.Call) {
		res, err := call.Dial(ctx, spec()).Wait(ctx)
		out <- err
		if err != nil {
			call.Inbound().Hangup(callctl.CauseOf(err))
			return
		}
		in := call.Inbound()
		if err := in.Answer(ctx); err != nil {
			return
		}
		br, err := call.Bridge(in, res.Leg, callctl.BridgeOptions{})
		if err != nil {
			return
		}
		select {
		case <-br.Done():
		case <-ctx.Done():
		}
	})
	t.Cleanup(func() { a.calls.router.setProgram(nil) })
	return out
}

func dialOutcome(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the dial did not end")
		return nil
	}
}

// A sequential hunt over carrier routes: 503 moves on, 486 stops with
// TrunkFailover (the third route is never rung); without StopOn the hunt
// moves on after the 486 too.
func TestDialSequentialStopsOn486(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	c503 := newCarrier(t, func(cc *carrierCall) { cc.respond(503, "Service Unavailable", nil) })
	c486 := newCarrier(t, func(cc *carrierCall) { cc.respond(486, "Busy Here", nil) })
	c480 := newCarrier(t, func(cc *carrierCall) { cc.respond(480, "Temporarily Unavailable", nil) })
	for _, tc := range []struct {
		name      string
		stopOn    func(int) bool
		thirdRung bool
	}{
		{name: "trunk failover", stopOn: callctl.TrunkFailover},
		{name: "hunt", thirdRung: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcome := dialProgram(t, a, func() callctl.DialSpec {
				return callctl.DialSpec{Strategy: callctl.Sequential, StopOn: tc.stopOn, Timeout: 10 * time.Second, Destinations: []callctl.Destination{
					{Targets: []callctl.Target{c503.target("+3221000001")}, Tag: "a"},
					{Targets: []callctl.Target{c486.target("+3221000001")}, Tag: "b"},
					{Targets: []callctl.Target{c480.target("+3221000001")}, Tag: "c"},
				}}
			})
			_, err := alice.dial(t, "+3221000001", dialOpt{})
			if statusOf(err) != 486 {
				t.Fatalf("caller got %v, want 486", err)
			}
			var de *callctl.DialError
			if derr := dialOutcome(t, outcome); !errors.As(derr, &de) || de.Cause != callctl.CauseBusy || de.Status != 486 {
				t.Fatalf("dial error %v, want busy 486", derr)
			}
			c503.nextInvite(t)
			c486.nextInvite(t)
			if tc.thirdRung {
				c480.nextInvite(t)
			} else {
				c480.noInvite(t, 300*time.Millisecond)
			}
			waitIdle(t, a)
		})
	}
}

// The losers of a simultaneous dial get CANCEL with Reason: SIP;cause=200
// once another destination answered; the result names the winner.
func TestDialLosersCancelledWithReason(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	loser := newCarrier(t, func(cc *carrierCall) { cc.respond(180, "Ringing", nil) })
	answerNow := make(chan struct{})
	winner := newCarrier(t, func(cc *carrierCall) {
		cc.respond(180, "Ringing", nil)
		<-answerNow
		cc.respond(200, "OK", cc.sdp(t))
	})
	results := make(chan callctl.DialResult, 1)
	a.calls.router.setProgram(func(ctx context.Context, call callctl.Call) {
		res, err := call.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{
			{Targets: []callctl.Target{loser.target("100")}, Tag: "loser"},
			{Targets: []callctl.Target{winner.target("100")}, Tag: "winner"},
		}}).Wait(ctx)
		if err != nil {
			t.Errorf("dial: %v", err)
			return
		}
		results <- res
		res.Leg.Hangup(callctl.CauseNormal)
	})
	t.Cleanup(func() { a.calls.router.setProgram(nil) })
	call := startDial(t, alice, "100", dialOpt{})
	loser.nextInvite(t)
	winner.nextInvite(t)
	time.Sleep(50 * time.Millisecond) // let both 180s reach the pbx
	close(answerNow)
	raw := loser.nextCancel(t)
	if got := headerOf(raw, "Reason"); got != `SIP;cause=200;text="Call completed elsewhere"` {
		t.Fatalf("loser's CANCEL Reason %q:\n%s", got, raw)
	}
	select {
	case res := <-results:
		if res.Destination != 1 || res.Tag != "winner" || res.PickedUp {
			t.Fatalf("result %+v, want destination 1 tagged winner", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no dial result")
	}
	_, _ = call.result()
	waitIdle(t, a)
}

// A carrier that challenges the INVITE with 407 gets it again with the
// target's credentials, and answers.
func TestDialCarrierDigestChallenge(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	chal := &digest.Challenge{Realm: "carrier.test", Nonce: "n0nce-" + randomString(8), Algorithm: "MD5"}
	authed := make(chan bool, 4)
	c := newCarrier(t, func(cc *carrierCall) {
		if cc.req.GetHeader("Proxy-Authorization") == nil {
			cc.respond(407, "Proxy Authentication Required", nil, sipHeader("Proxy-Authenticate", chal.String()))
			return
		}
		ok := proxyAuth(cc.req, chal, "trunk1", "s3cret")
		authed <- ok
		if !ok {
			cc.respond(403, "Forbidden", nil)
			return
		}
		cc.respond(200, "OK", cc.sdp(t))
	})
	outcome := dialProgram(t, a, func() callctl.DialSpec {
		tg := c.target("+3221000002")
		tg.Auth = &callctl.Credentials{Username: "trunk1", Password: "s3cret"}
		return callctl.DialSpec{Destinations: []callctl.Destination{{Targets: []callctl.Target{tg}}}}
	})
	out, err := alice.dial(t, "+3221000002", dialOpt{})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if err := dialOutcome(t, outcome); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if ok := <-authed; !ok {
		t.Fatal("the carrier refused the credentials")
	}
	c.nextInvite(t)
	if r := c.nextInvite(t); r.GetHeader("Proxy-Authorization") == nil {
		t.Fatal("second INVITE without Proxy-Authorization")
	}
	out.hangup(t)
	waitIdle(t, a)
}
