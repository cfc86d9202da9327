package main

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"

	"pbx/store"
)

// stream sends frames from one phone to the pbx while the other phone
// collects what it receives with payload type pt.
func stream(t *testing.T, from, to *pcall, sendPT, recvPT uint8, frames [][]byte) [][]byte {
	t.Helper()
	to.rtp.drain()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, f := range frames {
			if err := from.rtp.send(from.remote, sendPT, false, f, 160); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var got [][]byte
	deadline := time.Now().Add(time.Duration(len(frames))*5*time.Millisecond + 3*time.Second)
	settled := false
	for time.Now().Before(deadline) {
		p, err := to.rtp.recv(time.Until(deadline))
		if err != nil {
			break
		}
		if p.PayloadType == recvPT {
			got = append(got, append([]byte(nil), p.Payload...))
		}
		if len(got) >= len(frames) && !settled {
			// Enough has arrived: once the sender is done, a short quiet
			// period catches what it sent last.
			<-done
			settled = true
			deadline = time.Now().Add(200 * time.Millisecond)
		}
	}
	<-done
	return got
}

func randomFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		f := make([]byte, 160)
		for j := range f {
			f[j] = byte(rand.IntN(256))
		}
		out[i] = f
	}
	return out
}

// isSent reports whether g is exactly one of the sent frames.
func isSent(sent [][]byte, g []byte) bool {
	for _, s := range sent {
		if bytes.Equal(g, s) {
			return true
		}
	}
	return false
}

// matchExact counts received frames that are exactly a sent frame and
// fails on any received frame that is not.
func matchExact(t *testing.T, sent, got [][]byte) int {
	t.Helper()
	n := 0
	for _, g := range got {
		if !isSent(sent, g) {
			t.Fatalf("received a frame that was never sent (not bit-exact): % x", g[:8])
		}
		n++
	}
	return n
}

func waitCDR(t *testing.T, a *app, tenantID string, n int) []store.CDR {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cdrs, err := a.store.CDRs(context.Background(), tenantID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(cdrs) >= n {
			return cdrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d CDRs, have %d: %+v", n, len(cdrs), cdrs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitIdle waits until the pbx holds no call, leg or media session.
func waitIdle(t *testing.T, a *app) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ms := a.calls.b2bua.Stats(), a.calls.engine.Stats()
		if st.Calls == 0 && st.Legs == 0 && ms.Sessions == 0 && ms.PortsInUse == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not idle: b2bua %+v media %+v", st, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCallRelayAndBye(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp")
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{}, func(in *pcall) {
		// A true B2BUA: nothing of the caller's dialog leaks to the callee.
		inv := in.invite
		if from := inv.From(); from.DisplayName != "User 201" || from.Address.User != "201" || from.Address.Host != "acme.test" {
			t.Fatalf("caller presented as %q <%s>", from.DisplayName, from.Address.String())
		}
		if pai := inv.GetHeader("P-Asserted-Identity"); pai == nil || !strings.Contains(pai.Value(), "sip:201@acme.test") {
			t.Fatalf("P-Asserted-Identity: %v", pai)
		}
		if inv.GetHeader("X-Secret-Leak") != nil || strings.Contains(inv.String(), accs[0].device.SIPUsername) {
			t.Fatalf("caller's headers leaked into the B leg:\n%s", inv.String())
		}
		if len(inv.GetHeaders("Via")) != 1 {
			t.Fatalf("B leg has %d Via headers", len(inv.GetHeaders("Via")))
		}
	})
	if out.callID == in.callID {
		t.Fatal("both legs share a Call-ID")
	}
	// Bit-exact relay in both directions.
	requireRelayBoth(t, out, in, 50, 40, "callee received %d of 50 frames", "caller received %d of 50 frames")
	hangupAndWait(t, out, in)
	cdrs := waitCDR(t, a, accs[0].tenant.ID, 1)
	c := cdrs[0]
	if c.Disposition != "answered" || c.Caller != "201" || c.Callee != "202" || c.Answer.IsZero() || c.HangupCause != "normal_clearing" {
		t.Fatalf("CDR %+v", c)
	}
	waitIdle(t, a)

	// BYE from the callee ends the caller's leg too.
	out, in = connect(t, alice, bob, "202", "0 8 101")
	endCall(t, a, in, out)
}

func TestCallTranscodesPCMUToPCMA(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "8 101")
	if ans, _ := parseTestSDP(out.peerSDP); len(ans.pts) == 0 || ans.pts[0] != "0" {
		t.Fatalf("caller's answer should keep PCMU: %q", out.peerSDP)
	}
	// Frames of a sine whose amplitude names the frame.
	var pcm [][]int16
	var frames [][]byte
	for i := 0; i < 50; i++ {
		amp := 500.0 + float64(i)*150
		s := make([]int16, 160)
		f := make([]byte, 160)
		for j := range s {
			s[j] = int16(amp * math.Sin(2*math.Pi*float64(j)/40))
			f[j] = g711.EncodeUlawFrame(s[j])
		}
		pcm, frames = append(pcm, s), append(frames, f)
	}
	got := stream(t, out, in, 0, 8, frames)
	if len(got) < 40 {
		t.Fatalf("callee received %d PCMA frames of 50", len(got))
	}
	for _, g := range got {
		dec := make([]int16, len(g))
		for j, b := range g {
			dec[j] = g711.DecodeAlawFrame(b)
		}
		best := math.MaxFloat64
		for _, s := range pcm {
			worst := 0.0
			for j := range s {
				tol := math.Max(64, math.Abs(float64(s[j]))/12)
				worst = math.Max(worst, math.Abs(float64(dec[j])-float64(s[j]))/tol)
			}
			best = math.Min(best, worst)
		}
		if best > 1 {
			t.Fatalf("transcoded frame outside G.711 error (%.2f of tolerance)", best)
		}
	}
	endCall(t, a, in, out)
}

// metricLine returns the value of the /metrics line that starts with prefix
// (a name with its labels), or -1 when there is none.
func metricLine(t *testing.T, a *app, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(metricsText(t, a), "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, prefix)), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return -1
}

func TestCallMetrics(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	// Pairs another process holds rest like released ones (other test
	// binaries may share the range), so free and resting count together.
	available := func() float64 { return metricLine(t, a, "pbx_rtp_ports_free") + metricLine(t, a, "pbx_rtp_ports_resting") }
	free := available()
	out, in := connect(t, alice, bob, "202", "0 101")
	for name, want := range map[string]float64{"pbx_calls_active": 1, "pbx_call_legs_active": 2, "pbx_media_sessions_active": 2,
		"pbx_rtp_ports_in_use": 4} {
		if got := metricLine(t, a, name); got != want {
			t.Errorf("during the call: %s = %v, want %v", name, got, want)
		}
	}
	if got := available(); got != free-4 {
		t.Errorf("during the call: free + resting = %v, want %v", got, free-4)
	}
	endCall(t, a, out, in)
	waitCDR(t, a, accs[0].tenant.ID, 1)
	for name, want := range map[string]float64{"pbx_calls_active": 0, "pbx_call_legs_active": 0, "pbx_media_sessions_active": 0, "pbx_rtp_ports_in_use": 0,
		`pbx_calls_total{cause="normal_clearing",disposition="answered"}`: 1} {
		if got := metricLine(t, a, name); got != want {
			t.Errorf("after the call: %s = %v, want %v", name, got, want)
		}
	}
	if got := available(); got != free {
		t.Errorf("resting + free = %v, want %v", got, free)
	}
}

// A fax device offering T.38 (m=image) next to its audio gets its call, in
// audio: the image stream is refused in the answer and not offered onwards.
func TestCallOfferWithImageStream(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	withImage := func(b []byte) []byte {
		s := string(b)
		i := strings.Index(s, "m=audio")
		return []byte(s[:i] + "m=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n" + s[i:])
	}
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{edit: withImage}, func(in *pcall) {
		if strings.Contains(in.peerSDP, "m=image") {
			t.Errorf("the image stream was offered to the callee:\n%s", in.peerSDP)
		}
	})
	if !strings.Contains(out.peerSDP, "m=image 0 udptl t38\r\n") {
		t.Fatalf("answer to the caller does not refuse the image stream:\n%s", out.peerSDP)
	}
	requireRelayBoth(t, out, in, 20, 15, "callee received %d of 20 frames", "caller received %d of 20 frames")
	endCall(t, a, out, in)
}

// A caller that sends its INVITE without SDP (a delayed offer) gets the
// pbx's offer in the 200 and answers in the ACK; the call then carries
// audio like any other. An ACK without a usable answer ends the call.
func TestCallDelayedOffer(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connectWith(t, alice, bob, "202", "8 101", dialOpt{noSDP: true, pts: "0 101"}, nil)
	if offer, _ := parseTestSDP(out.peerSDP); strings.Join(offer.pts, " ") != "0 8 101" {
		t.Fatalf("the pbx's offer in the 200 lists %v", offer.pts)
	}
	// Alice answered PCMU, Bob took PCMA: transcoded both ways.
	frames := randomFrames(30)
	if got := stream(t, out, in, 0, 8, frames); len(got) < 20 {
		t.Fatalf("bob received %d of 30 frames", len(got))
	}
	if got := stream(t, in, out, 8, 0, frames); len(got) < 20 {
		t.Fatalf("alice received %d of 30 frames", len(got))
	}
	endCall(t, a, out, in)

	// No answer in the ACK: the pbx hangs up both sides.
	call := startDial(t, alice, "202", dialOpt{noSDP: true, ackBody: []byte{}})
	in = bob.nextIncoming(t)
	in.answer(t, "0 101")
	out = call.wait(t)
	out.waitEnded(t)
	in.waitEnded(t)
	waitIdle(t, a)
}
