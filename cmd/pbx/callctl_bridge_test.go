package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pbx/callctl"
)

// parkThenBridge is a program for two calls: the first caller is answered
// and waits; the second is handled by second, given the first's leg.
func parkThenBridge(second func(ctx context.Context, c progCall, first callctl.Leg)) func(context.Context, progCall) {
	parked := make(chan callctl.Leg, 1)
	var n atomic.Int32
	return func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if n.Add(1) == 1 {
			if err := in.Answer(ctx); err != nil {
				return
			}
			parked <- in
			<-in.Done()
			return
		}
		second(ctx, c, <-parked)
	}
}

// TestBridgeEarlyCallerWithAnsweredLeg: a caller in early media (183, not
// answered) bridged with an answered leg talks both ways before its
// answer (alice to bob: bob's phone has no address of the pbx to send to
// until it reads the answer), and both ways after it.
func TestBridgeEarlyCallerWithAnsweredLeg(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	answerNow := make(chan struct{})
	bridged := make(chan error, 1)
	a.calls.router.setProgram(parkThenBridge(func(ctx context.Context, c progCall, first callctl.Leg) {
		in := inboundLeg(c)
		if err := in.Progress(ctx); err != nil {
			bridged <- err
			return
		}
		br, err := c.Bridge(in, first, callctl.BridgeOptions{})
		bridged <- err
		if err != nil {
			return
		}
		select {
		case <-answerNow:
		case <-ctx.Done():
			return
		}
		if in.Answer(ctx) == nil {
			<-br.Done()
		}
	}))
	aout, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	r := newRTPEnd(t)
	ictx, icancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer icancel()
	done := make(chan error, 1)
	var bout *pcall
	go func() {
		var err error
		bout, err = earlyInvite(t, ictx, bob, r, nil)
		done <- err
	}()
	if err := <-bridged; err != nil {
		t.Fatal(err)
	}
	// Before the answer, bob's phone hears alice.
	early := &pcall{rtp: r}
	requireRelay(t, aout, early, 40, 30, "alice to bob in early media: %d frames")
	select {
	case err := <-done:
		t.Fatalf("answered before the program answered: %v", err)
	default:
	}
	close(answerNow)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	requireRelayBoth(t, aout, bout, 40, 30, "alice to bob: %d frames", "bob to alice: %d frames")
	hangupAndWait(t, bout, aout)
	waitIdle(t, a)
}

// TestTransferRequestEvent: a REFER from a bridged party shows on its
// leg's events as a transfer request naming the target, before the
// hang-up that completes the transfer.
func TestTransferRequestEvent(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	events := make(chan []string, 1)
	a.calls.router.setProgram(parkThenBridge(func(ctx context.Context, c progCall, first callctl.Leg) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			return
		}
		br, err := c.Bridge(first, in, callctl.BridgeOptions{})
		if err != nil {
			return
		}
		var got []string
		for ev := range in.Events() {
			s := ev.Kind.String()
			switch ev.Kind {
			case callctl.EventTransferRequest:
				s += ":" + ev.Target
			case callctl.EventHangup:
				s += ":" + string(ev.Cause)
			}
			got = append(got, s)
		}
		events <- got
		<-br.Done()
		<-first.Done()
	}))
	aout, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	bout, err := bob.dial(t, "501", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	requireRelay(t, aout, bout, 30, 20, "alice to bob: %d frames")
	bout.refer(t, "<sip:203@acme.test>")
	toCarol := carol.nextIncoming(t)
	toCarol.answer(t, "0 101")
	bout.waitNotify(t, "200 OK")
	bout.waitEnded(t)
	var got []string
	select {
	case got = <-events:
	case <-time.After(20 * time.Second):
		t.Fatal("the transferor's events did not end")
	}
	if s := strings.Join(got, " "); s != "answer transfer_request:203 hangup:transferred" {
		t.Fatalf("transferor's events: %s", s)
	}
	requireRelayBoth(t, aout, toCarol, 40, 30, "alice to carol: %d frames", "carol to alice: %d frames")
	endCall(t, a, aout, toCarol)
}
