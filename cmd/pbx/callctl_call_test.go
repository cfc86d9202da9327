package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// toneSource plays n frames of a square wave.
type toneSource struct{ n int }

func (s *toneSource) ReadFrame(frame []int16) error {
	if s.n == 0 {
		return io.EOF
	}
	s.n--
	for i := range frame {
		frame[i] = 4000
		if i/10%2 == 0 {
			frame[i] = -4000
		}
	}
	return nil
}

var _ media.Source = (*toneSource)(nil)

// An originated call (no inbound leg) reaches a registered device through
// the registrar's bindings, plays it audio the phone receives, ends when
// the device hangs up, and leaves a CDR of origin "originate".
func TestOriginateReachesDevice(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	bob := newSoftphone(t, a, accs[1], "udp")
	ten := accs[1].tenant
	results := make(chan error, 1)
	ended := make(chan struct{})
	spec := callctl.OriginateSpec{Origin: callctl.Origin{TenantID: ten.ID, Domain: ten.Domain, Caller: callctl.Party{Name: "Campaign", Number: "999"}}, Dialled: "202"}
	call, err := a.calls.b2bua.Originate(spec, func(ctx context.Context, call callctl.Call) {
		defer close(ended)
		bs, err := a.regis.Lookup(ctx, accs[1].user.ID)
		if err != nil {
			results <- err
			return
		}
		var tg []callctl.Target
		for _, b := range bs {
			tg = append(tg, callctl.Target{URI: b.Contact, Via: b.Source, Transport: strings.ToLower(b.Transport), DeviceID: b.DeviceID})
		}
		res, err := call.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{
			{Targets: tg, Callee: callctl.Party{Name: "Bob", Number: "202", Domain: ten.Domain}, Tag: "bob"}}}).Wait(ctx)
		if err == nil && res.Tag != "bob" {
			err = io.ErrUnexpectedEOF
		}
		results <- err
		if err == nil {
			_ = res.Leg.Play(ctx, &toneSource{n: 500})
		}
		<-ctx.Done() // the device hangs up: no party is left
	})
	if err != nil {
		t.Fatal(err)
	}
	if call.Inbound() != nil || call.Origin().Kind != callctl.OriginOriginate {
		t.Fatalf("originated call: inbound %v, origin %q", call.Inbound(), call.Origin().Kind)
	}
	in := bob.nextIncoming(t)
	if from := in.invite.From(); from.Address.User != "999" || from.DisplayName != "Campaign" {
		t.Fatalf("From %s, want the origin's caller 999", from.Value())
	}
	in.answer(t, "0 101")
	select {
	case err := <-results:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the originated dial did not end")
	}
	got := 0
	for range 20 {
		if p, err := in.rtp.recv(2 * time.Second); err == nil && len(p.Payload) == 160 {
			got++
		}
	}
	if got < 15 {
		t.Fatalf("the device received %d of 20 frames of the played audio", got)
	}
	in.hangup(t)
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the program's context did not end when the device hung up")
	}
	waitIdle(t, a)
	cdrs, err := a.store.CDRs(context.Background(), ten.ID, 10)
	if err != nil || len(cdrs) != 1 {
		t.Fatalf("CDRs %+v, %v", cdrs, err)
	}
	if c := cdrs[0]; c.Origin != "originate" || c.Caller != "999" || c.Callee != "202" || c.Disposition != "answered" || c.Answer.IsZero() {
		t.Fatalf("CDR %+v", c)
	}
}

// A carrier's 183 announcement is heard by the caller before any answer
// (no 200 sent yet); then the carrier answers and the call is bridged.
func TestDialEarlyMediaFromCarrier(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	announce := bytes.Repeat([]byte{0x55}, 160)
	answerNow, stopRTP := make(chan struct{}), make(chan struct{})
	c := newCarrier(t, func(cc *carrierCall) {
		cc.respond(183, "Session Progress", cc.sdp(t))
		to := cc.offerAddr(t)
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopRTP:
					return
				case <-tick.C:
					_ = cc.rtp.send(to, 0, false, announce, 160)
				}
			}
		}()
		<-answerNow
		cc.respond(200, "OK", cc.sdp(t))
	})
	t.Cleanup(func() { close(stopRTP) })
	outcome := dialProgram(t, a, func() callctl.DialSpec {
		return callctl.DialSpec{EarlyMedia: true, Destinations: []callctl.Destination{{Targets: []callctl.Target{c.target("+3221000003")}}}}
	})
	early := newRTPEnd(t)
	t.Cleanup(early.close)
	tmp := alice.newCall()
	tmp.rtp = early
	call := startDial(t, alice, "+3221000003", dialOpt{body: tmp.localSDP("0 101", "sendrecv")})
	c.nextInvite(t)
	heard := 0
	for range 10 {
		if p, err := early.recv(2 * time.Second); err == nil && bytes.Equal(p.Payload, announce) {
			heard++
		}
	}
	if heard < 8 {
		t.Fatalf("the caller heard %d of 10 frames of the announcement", heard)
	}
	select {
	case r := <-call.ch:
		t.Fatalf("the call was answered (or ended) during early media: %+v", r)
	default:
	}
	close(answerNow)
	out := call.wait(t)
	if err := dialOutcome(t, outcome); err != nil {
		t.Fatalf("dial: %v", err)
	}
	heard = 0
	early.drain()
	for range 10 {
		if p, err := early.recv(2 * time.Second); err == nil && bytes.Equal(p.Payload, announce) {
			heard++
		}
	}
	if heard < 8 {
		t.Fatalf("after answer the caller heard %d of 10 frames of the carrier", heard)
	}
	out.hangup(t)
	waitIdle(t, a)
}

// After answer, the caller hanging up ends Call.Context(): no party is left.
func TestCallContextEndsWhenAnsweredCallerHangsUp(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	done := make(chan error, 1)
	a.calls.router.setProgram(func(ctx context.Context, call callctl.Call) {
		// The caller may hang up as soon as our 200 is out: Answer then
		// reports the leg ended, and the context must end all the same.
		if err := call.Inbound().Answer(ctx); err != nil && !errors.Is(err, callctl.ErrLegEnded) {
			done <- err
			return
		}
		select {
		case <-ctx.Done():
			done <- nil
		case <-time.After(30 * time.Second):
			done <- context.DeadlineExceeded
		}
	})
	t.Cleanup(func() { a.calls.router.setProgram(nil) })
	out, err := alice.dial(t, "500", dialOpt{})
	if err != nil {
		t.Fatal(err)
	}
	out.hangup(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("program: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the call's context did not end")
	}
	waitIdle(t, a)
}
