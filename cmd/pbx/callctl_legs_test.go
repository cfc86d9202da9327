package main

import (
	"context"
	"errors"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"pbx/callctl"
	"pbx/media"
)

// progCall is the call type of the router's programs; inboundLeg reads
// its inbound leg.
type progCall = callctl.Call

func inboundLeg(c progCall) callctl.Leg { return c.Inbound() }

// sendDigit sends digit event ev (RFC 4733, on payload type pt) from pc,
// as a phone does: a start packet, updates, and the end packet thrice.
func sendDigit(t *testing.T, pc *pcall, pt uint8, ev byte) {
	t.Helper()
	ts := pc.rtp.ts
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		end := byte(0x0a)
		if i >= 3 {
			end = 0x8a
		}
		pc.rtp.ts = ts
		if err := pc.rtp.send(pc.remote, pt, i == 0, []byte{ev, end, byte(dur >> 8), byte(dur)}, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pc.rtp.ts = ts + 640
}

// sendInfoDigit sends digit d in a SIP INFO of content type ct.
func sendInfoDigit(t *testing.T, pc *pcall, ct, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.INFO, pc.remoteContact())
	req.AppendHeader(sip.NewHeader("Content-Type", ct))
	req.SetBody([]byte(body))
	res, err := pc.do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
}

// loud reports whether a PCMU payload carries sound, not silence.
func loud(payload []byte) bool {
	var sum float64
	pcm := g711.DecodeUlaw(payload)
	for i := 0; i+1 < len(pcm); i += 2 {
		v := float64(int16(uint16(pcm[i]) | uint16(pcm[i+1])<<8))
		sum += v * v
	}
	return math.Sqrt(sum/float64(len(pcm)/2)) > 500
}

// hearAudio waits for at least n loud PCMU packets on r.
func hearAudio(t *testing.T, r *rtpEnd, n int, what string) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(10 * time.Second); got < n; {
		p, err := r.recv(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: %d loud packets of %d, then %v", what, got, n, err)
		}
		if p.PayloadType == 0 && loud(p.Payload) {
			got++
		}
	}
}

// audioStops waits for the pbx to stop sending on r: a quiet half second.
func audioStops(t *testing.T, r *rtpEnd, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if _, err := r.recv(500 * time.Millisecond); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			t.Fatal(err)
		}
	}
	t.Fatalf("%s: the audio did not stop", what)
}

type promptOutcome struct {
	res callctl.PromptResult
	err error
}

// promptProgram answers and plays an endless prompt collecting one digit;
// the outcome goes to out, and the call stays up until the phone hangs up.
func promptProgram(out chan<- promptOutcome) func(context.Context, progCall) {
	return func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			out <- promptOutcome{err: err}
			return
		}
		res, err := in.Prompt(ctx, callctl.PromptSpec{Audio: []media.Source{media.NewTone(media.ToneBusy)}, MaxDigits: 1, FirstDigit: 20 * time.Second})
		out <- promptOutcome{res, err}
		<-in.Done()
	}
}

func waitOutcome(t *testing.T, ch <-chan promptOutcome) promptOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(20 * time.Second):
		t.Fatal("the program's prompt did not return")
	}
	return promptOutcome{}
}

func TestPromptBargeInByRFC4733(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	outcome := make(chan promptOutcome, 1)
	a.calls.router.setProgram(promptProgram(outcome))
	out, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	hearAudio(t, out.rtp, 10, "the prompt")
	sendDigit(t, out, 101, 5)
	o := waitOutcome(t, outcome)
	if o.err != nil || o.res.Digits != "5" || o.res.TimedOut {
		t.Fatalf("prompt: %+v, %v", o.res, o.err)
	}
	audioStops(t, out.rtp, "barge-in")
	out.hangup(t)
	waitIdle(t, a)
}

func TestPromptBargeInBySIPInfo(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	outcome := make(chan promptOutcome, 1)
	a.calls.router.setProgram(promptProgram(outcome))
	for _, tc := range []struct{ ct, body, want string }{
		{"application/dtmf-relay", "Signal=7\r\nDuration=160\r\n", "7"},
		{"application/dtmf", "#", "#"},
	} {
		out, err := alice.dial(t, "500", dialOpt{pts: "0"}) // no telephone-event: INFO it is
		if err != nil {
			t.Fatal(err)
		}
		hearAudio(t, out.rtp, 10, "the prompt")
		sendInfoDigit(t, out, tc.ct, tc.body)
		o := waitOutcome(t, outcome)
		if o.err != nil || o.res.Digits != tc.want {
			t.Fatalf("%s: prompt: %+v, %v", tc.ct, o.res, o.err)
		}
		audioStops(t, out.rtp, "barge-in by "+tc.ct)
		out.hangup(t)
		waitIdle(t, a)
	}
}

// TestBridgeHandsBackRemainingLeg: with KeepRemaining, the party left
// when the other hangs up is handed back to the program, which plays it a
// prompt.
func TestBridgeHandsBackRemainingLeg(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	parked := make(chan callctl.Leg, 1)
	type handBack struct {
		same  bool
		state callctl.LegState
		err   error
	}
	back := make(chan handBack, 1)
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			return
		}
		// Told apart by what they dialled, not by the order their
		// answers return in (the second caller's may return first).
		if c.Dialled() == "500" {
			// The first caller waits to be bridged by the second call.
			parked <- in
			<-in.Done()
			return
		}
		br, err := c.Bridge(<-parked, in, callctl.BridgeOptions{KeepRemaining: true})
		if err != nil {
			back <- handBack{err: err}
			return
		}
		rem, err := br.Wait(ctx)
		hb := handBack{same: rem == in, err: err}
		if rem != nil {
			hb.state = rem.State()
		}
		back <- hb
		if rem == nil {
			return
		}
		beeps := make([]media.Source, 8)
		for i := range beeps {
			beeps[i] = media.NewTone(media.ToneBeep)
		}
		_ = rem.Play(ctx, beeps...)
		<-rem.Done()
	})
	aout, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	bout, err := bob.dial(t, "501", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	requireRelayBoth(t, aout, bout, 50, 40, "alice to bob: %d frames", "bob to alice: %d frames")
	aout.hangup(t)
	var hb handBack
	select {
	case hb = <-back:
	case <-time.After(20 * time.Second):
		t.Fatal("Wait did not return")
	}
	if hb.err != nil || !hb.same || hb.state != callctl.LegAnswered {
		t.Fatalf("bridge handed back %+v", hb)
	}
	hearAudio(t, bout.rtp, 20, "the remaining party's prompt")
	select {
	case <-bout.ended:
		t.Fatal("the remaining party was hung up")
	default:
	}
	bout.hangup(t)
	waitIdle(t, a)
}

// earlyInvite places a call from p to 500 whose SDP names r, reporting
// every provisional response on prov; it returns once the call is
// answered.
func earlyInvite(t *testing.T, ctx context.Context, p *softphone, r *rtpEnd, prov chan<- *sip.Response) (*pcall, error) {
	return inviteWith(t, ctx, p, r, "500", nil, prov)
}

// inviteWith is earlyInvite to ext with headers hdrs added; prov may be
// nil.
func inviteWith(t *testing.T, ctx context.Context, p *softphone, r *rtpEnd, ext string, hdrs []sip.Header, prov chan<- *sip.Response) (*pcall, error) {
	pc := p.newCall()
	pc.rtp = r
	host, portStr, _ := net.SplitHostPort(p.target)
	port, _ := strconv.Atoi(portStr)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: p.acc.tenant.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: p.acc.tenant.Domain}, Params: sip.NewParams()})
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(pc.localSDP("0 101", "sendrecv"))
	req.SetTransport("UDP")
	dcs, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	pc.uac, pc.callID = dcs, req.CallID().Value()
	p.track(pc)
	err = dcs.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.acc.device.SIPUsername, Password: p.acc.password,
		OnResponse: func(res *sip.Response) error {
			if prov != nil && res.IsProvisional() && res.StatusCode > 100 {
				prov <- res
			}
			return nil
		}})
	if err != nil {
		return pc, err
	}
	if err := dcs.Ack(context.Background()); err != nil {
		return pc, err
	}
	ans, err := parseTestSDP(string(dcs.InviteResponse.Body()))
	pc.remote = ans.addr
	return pc, err
}

func originLine(sdp []byte) string {
	for _, l := range strings.Split(string(sdp), "\n") {
		if strings.HasPrefix(l, "o=") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestEarlyMediaBeforeAnswer: after Progress, the caller hears what is
// played before any 200; the 200 repeats the 183's SDP. A caller that
// cancels after the 183 ends the leg; Hangup after it sends the final
// response.
func TestEarlyMediaBeforeAnswer(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	answerNow := make(chan struct{}, 1) // a token answers one call
	busyNow := make(chan struct{}, 1)   // a token refuses one call
	progressErr := make(chan error, 2)
	unanswered := make(chan []callctl.Event, 1) // the events of a leg that ended before its answer
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		err := in.Progress(ctx)
		if err == nil && in.State() != callctl.LegEarly {
			err = errors.New("state " + in.State().String() + " after Progress")
		}
		progressErr <- err
		if err != nil {
			return
		}
		go func() { _ = in.Play(ctx, media.NewTone(media.ToneBusy)) }()
		select {
		case <-answerNow:
		case <-busyNow:
			in.Hangup(callctl.CauseBusy)
			return
		case <-in.Done():
			var evs []callctl.Event
			for ev := range in.Events() {
				evs = append(evs, ev)
			}
			unanswered <- evs
			return
		}
		if in.Answer(ctx) == nil {
			<-in.Done()
		}
	})
	type dialed struct {
		pc  *pcall
		err error
	}

	// Answered after early media.
	ictx, icancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer icancel()
	r := newRTPEnd(t)
	prov := make(chan *sip.Response, 8)
	done := make(chan dialed, 1)
	go func() {
		pc, err := earlyInvite(t, ictx, alice, r, prov)
		done <- dialed{pc, err}
	}()
	if err := <-progressErr; err != nil {
		t.Fatal(err)
	}
	var p183 *sip.Response
	for p183 == nil {
		select {
		case res := <-prov:
			if res.StatusCode == 183 {
				p183 = res
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no 183")
		}
	}
	hearAudio(t, r, 10, "early media")
	select {
	case d := <-done:
		t.Fatalf("call answered before the program answered: %v", d.err)
	default:
	}
	answerNow <- struct{}{}
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	if o183, o200 := originLine(p183.Body()), originLine(d.pc.uac.InviteResponse.Body()); o183 == "" || o183 != o200 {
		t.Fatalf("183 %q and 200 %q differ", o183, o200)
	}
	hearAudio(t, r, 10, "after the answer")
	d.pc.hangup(t)
	waitIdle(t, a)

	// Cancelled after early media.
	r = newRTPEnd(t)
	ctx, cancel := context.WithCancel(ictx)
	defer cancel()
	go func() {
		pc, err := earlyInvite(t, ctx, alice, r, prov)
		done <- dialed{pc, err}
	}()
	if err := <-progressErr; err != nil {
		t.Fatal(err)
	}
	hearAudio(t, r, 5, "early media")
	cancel()
	d = <-done
	if d.err == nil {
		t.Fatal("cancelled call was answered")
	}
	select {
	case evs := <-unanswered:
		if last := evs[len(evs)-1]; last.Kind != callctl.EventHangup || last.Cause != callctl.CauseCancelled {
			t.Fatalf("cancelled leg's events: %+v", evs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the cancelled leg did not end")
	}
	waitIdle(t, a)

	// Refused after early media: the final response follows the 183.
	r = newRTPEnd(t)
	go func() {
		pc, err := earlyInvite(t, ictx, alice, r, prov)
		done <- dialed{pc, err}
	}()
	if err := <-progressErr; err != nil {
		t.Fatal(err)
	}
	hearAudio(t, r, 5, "early media")
	busyNow <- struct{}{}
	if d = <-done; statusOf(d.err) != 486 {
		t.Fatalf("refused after 183: %v", d.err)
	}
	waitIdle(t, a)
}

// TestLegEventsAndAnswerContext: Answer with an ended context answers
// nothing; the leg's event stream then tells, in order, its answer, the
// far end's hold and resume, a digit and the hang-up, and is closed.
func TestLegEventsAndAnswerContext(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	type report struct {
		answerErr error
		state     callctl.LegState
		answered  error // the second Answer, with the call's context
		events    []callctl.Event
	}
	reports := make(chan report, 1)
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		var r report
		gone, cancel := context.WithCancel(ctx)
		cancel()
		r.answerErr = in.Answer(gone)
		in.Ring()
		r.state = in.State()
		if r.answered = in.Answer(ctx); r.answered != nil {
			reports <- r
			return
		}
		for ev := range in.Events() {
			r.events = append(r.events, ev)
		}
		reports <- r
	})
	out, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	out.reinvite(t, "sendonly")
	out.reinvite(t, "sendrecv")
	sendInfoDigit(t, out, "application/dtmf-relay", "Signal=4\r\nDuration=100\r\n")
	out.hangup(t)
	var r report
	select {
	case r = <-reports:
	case <-time.After(20 * time.Second):
		t.Fatal("the event stream was not closed")
	}
	if !errors.Is(r.answerErr, context.Canceled) || r.state != callctl.LegRinging {
		t.Fatalf("Answer with an ended context: %v, then state %s", r.answerErr, r.state)
	}
	if r.answered != nil {
		t.Fatalf("Answer with the call's context: %v", r.answered)
	}
	var kinds []string
	for _, ev := range r.events {
		k := ev.Kind.String()
		if ev.Kind == callctl.EventDTMF {
			k += ":" + string(ev.Digit)
		}
		if ev.Kind == callctl.EventHangup {
			k += ":" + string(ev.Cause)
		}
		kinds = append(kinds, k)
	}
	if got := strings.Join(kinds, " "); got != "answer hold unhold dtmf:4 hangup:normal_clearing" {
		t.Fatalf("events: %s", got)
	}
	waitIdle(t, a)
}
