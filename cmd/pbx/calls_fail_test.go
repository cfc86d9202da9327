package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

func TestCallForksToEveryDevice(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	second := addDevice(t, a, accs[1].tenant, accs[1].user)
	alice := newSoftphone(t, a, accs[0], "udp")
	desk, mobile := newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, second, "tls")
	call := startDial(t, alice, "202", dialOpt{})
	d, m := desk.nextIncoming(t), mobile.nextIncoming(t)
	m.answer(t, "0 101")
	d.waitCancelled(t)
	out := call.wait(t)
	requireRelay(t, out, m, 30, 20, "winner received %d of 30 frames")
	endCall(t, a, out, m)
}

func TestCallFailures(t *testing.T) {
	a := testApp(t, t.TempDir(), noVoicemail)
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	second := addDevice(t, a, accs[1].tenant, accs[1].user)
	alice := newSoftphone(t, a, accs[0], "udp")
	b1, b2 := newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, second, "tcp")

	t.Run("404 unknown extension", func(t *testing.T) {
		_, err := alice.dial(t, "299", dialOpt{})
		if statusOf(err) != 404 {
			t.Fatalf("want 404, got %v", err)
		}
	})
	t.Run("480 none registered", func(t *testing.T) {
		_, err := alice.dial(t, "203", dialOpt{})
		if statusOf(err) != 480 {
			t.Fatalf("want 480, got %v", err)
		}
	})
	t.Run("486 all busy", func(t *testing.T) {
		call := startDial(t, alice, "202", dialOpt{})
		b1.nextIncoming(t).reject(486, "Busy Here")
		b2.nextIncoming(t).reject(486, "Busy Here")
		if _, err := call.result(); statusOf(err) != 486 {
			t.Fatalf("want 486, got %v", err)
		}
	})
	t.Run("CANCEL before answer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		call := startDial(t, alice, "202", dialOpt{ctx: ctx})
		i1, i2 := b1.nextIncoming(t), b2.nextIncoming(t)
		cancel()
		i1.waitCancelled(t)
		i2.waitCancelled(t)
		if _, err := call.result(); err == nil {
			t.Fatal("cancelled call was answered")
		}
	})
	t.Run("488 malformed SDP", func(t *testing.T) {
		_, err := alice.dial(t, "202", dialOpt{body: []byte("v=0\r\nthis is not sdp\r\n")})
		if statusOf(err) != 488 {
			t.Fatalf("want 488, got %v", err)
		}
	})
	t.Run("488 no common codec", func(t *testing.T) {
		_, err := alice.dial(t, "202", dialOpt{pts: "18"})
		if statusOf(err) != 488 {
			t.Fatalf("want 488, got %v", err)
		}
		b1.noIncoming(t, 200*time.Millisecond)
	})
	waitIdle(t, a)
	cdrs := waitCDR(t, a, accs[0].tenant.ID, 4)
	want := map[string]string{"299": "failed", "203": "no_answer"}
	seen := map[string]bool{}
	for _, c := range cdrs {
		seen[c.Disposition] = true
		if d, ok := want[c.Callee]; ok && c.Disposition != d && !(c.Callee == "203" && c.Disposition == "failed") {
			t.Fatalf("CDR for %s: %+v", c.Callee, c)
		}
	}
	if !seen["busy"] || !seen["cancelled"] {
		t.Fatalf("CDRs lack busy or cancelled: %+v", cdrs)
	}
}

func TestCallUnauthenticatedGetsChallenge(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	bob := newSoftphone(t, a, accs[1], "udp")
	// An unregistered device that does not know the password.
	stranger := newSoftphone(t, a, accs[0], "udp")
	stranger.register(0, accs[0].password)
	stranger.acc.password = "wrong-password"
	_, err := stranger.dial(t, "202", dialOpt{})
	if statusOf(err) != 407 {
		t.Fatalf("want 407, got %v", err)
	}
	// Without credentials at all.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "202", Host: "127.0.0.1", Port: a.sip.Addr("udp").(*net.UDPAddr).Port})
	req.AppendHeader(&sip.ContactHeader{Address: stranger.contact})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	res, err := stranger.client.Do(ctx, req)
	if err != nil || res.StatusCode != 407 || res.GetHeader("Proxy-Authenticate") == nil {
		t.Fatalf("want a 407 challenge, got %v %v", res, err)
	}
	bob.noIncoming(t, 300*time.Millisecond)
	waitIdle(t, a)
	if cdrs, _ := a.store.CDRs(context.Background(), accs[0].tenant.ID, 10); len(cdrs) != 0 {
		t.Fatalf("an unauthenticated INVITE made a call: %+v", cdrs)
	}
}

func TestCallFromLightLicence(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "202")
	u, err := a.store.CreateUser(context.Background(), store.User{TenantID: accs[0].tenant.ID, FirstName: "Light", LastName: "User", Licence: store.LicenceLight})
	if err != nil {
		t.Fatal(err)
	}
	light := newSoftphone(t, a, addDevice(t, a, accs[0].tenant, u), "udp")
	bob := newSoftphone(t, a, accs[0], "udp")
	out, in := connectWith(t, light, bob, "202", "0 101", dialOpt{}, func(in *pcall) {
		if f := in.invite.From(); f.DisplayName != "Light User" || f.Address.User != "anonymous" {
			t.Fatalf("light licence presented as %q <%s>", f.DisplayName, f.Address.String())
		}
	})
	hangupAndWait(t, out, in)
}

// TestCallOutOfRTPPorts: when the media engine has no port pair left for
// the callee's leg, the caller gets 503 (our capacity), not 480 (the
// callee's absence), and nothing stays allocated.
func TestCallOutOfRTPPorts(t *testing.T) {
	// Three port pairs: the first call takes two, the second call's
	// inbound leg the last one, so its outbound leg finds none.
	lo := freePortWindow(t, 6)
	a := testApp(t, t.TempDir(), func(c *config) { c.RTPMin, c.RTPMax = lo, lo+5 })
	accs := seedTenant(t, a, "Acme", "201", "202", "203", "204")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	carol := newSoftphone(t, a, accs[2], "udp")
	newSoftphone(t, a, accs[3], "udp")
	out, _ := connect(t, alice, bob, "202", "0 101")
	if _, err := carol.dial(t, "204", dialOpt{}); statusOf(err) != 503 {
		t.Fatalf("want 503 with no RTP port left, got %v", err)
	}
	out.hangup(t)
	waitIdle(t, a)
}

// freePortWindow returns the first of n consecutive loopback UDP ports,
// even-aligned, that were all free when probed, in a random window of the
// range the call tests use for RTP (so that another process running the same
// tests is unlikely to want the same ports).
func freePortWindow(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		lo := 2000 + 2*rand.IntN((9999-2000-n)/2)
		var held []net.PacketConn
		for p := lo; p < lo+n; p++ {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if len(held) == n {
			return lo
		}
	}
	t.Fatalf("no %d consecutive free UDP ports", n)
	return 0
}

// TestCallReachesUDPDeviceFromTheSIPPort: after a restart, before the
// device has sent anything, the INVITE to a phone registered over UDP must
// still leave from the SIP port it registered to (its NAT pinhole), not
// from a fresh ephemeral socket.
func TestCallReachesUDPDeviceFromTheSIPPort(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir)
	accs := seedTenant(t, a, "Acme", "201", "202")
	bob := newSoftphone(t, a, accs[1], "udp")
	a.close()
	b := testApp(t, dir)
	alice := newSoftphone(t, b, accs[0], "udp")
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{}, func(in *pcall) {
		if src, want := in.invite.Source(), b.sip.Addr("udp").String(); src != want {
			t.Fatalf("INVITE came from %s, want the SIP port %s", src, want)
		}
	})
	hangupAndWait(t, out, in)
}

// A shutdown (SIGINT/SIGTERM) hangs up the calls in progress: both phones get
// a BYE before the listeners close, and the calls' CDRs are written.
func TestShutdownHangsUpCalls(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir)
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp")
	out, in := connect(t, alice, bob, "202", "0 101")
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	out.waitEnded(t)
	in.waitEnded(t)
	b := testApp(t, dir)
	cdrs := waitCDR(t, b, accs[0].tenant.ID, 1)
	if c := cdrs[0]; c.Disposition != "answered" || c.HangupCause != "system_shutdown" || c.End.IsZero() {
		t.Fatalf("CDR after shutdown: %+v", c)
	}
}

// The callee hangs up after the caller got its 200 OK but before the
// caller's ACK reached the pbx: the caller's dialog is ended with a BYE once
// the ACK confirms it (RFC 3261 §15), not left up with no BYE at all.
func TestCalleeHangsUpBeforeCallerAck(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	got200, sendAck := make(chan *pcall, 1), make(chan struct{})
	call := startDial(t, alice, "202", dialOpt{beforeAck: func(pc *pcall) {
		got200 <- pc
		<-sendAck
	}})
	in := bob.nextIncoming(t)
	in.answer(t, "0 101")
	var out *pcall
	select {
	case out = <-got200:
	case <-time.After(20 * time.Second):
		close(sendAck)
		t.Fatal("the caller got no 200 OK")
	}
	in.hangup(t)
	select {
	case <-out.ended:
		close(sendAck)
		t.Fatal("BYE before the ACK")
	case <-time.After(300 * time.Millisecond):
	}
	close(sendAck)
	call.wait(t)
	out.waitEnded(t)
	waitIdle(t, a)
	if c := waitCDR(t, a, accs[0].tenant.ID, 1)[0]; c.Disposition != "answered" {
		t.Fatalf("CDR %+v", c)
	}
}

// Both parties hang up at the same moment: each BYE is answered (200, or 481
// for the dialog the pbx has already ended), the call ends once, with one
// CDR, and nothing is left behind.
func TestBothHangUpAtOnce(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp")
	for i := 0; i < 5; i++ {
		out, in := connect(t, alice, bob, "202", "0 101")
		errs := make(chan error, 2)
		for _, pc := range []*pcall{out, in} {
			go func() { errs <- pc.bye() }()
		}
		for range 2 {
			if err := <-errs; err != nil && !strings.Contains(err.Error(), "481") {
				t.Fatalf("BYE: %v", err)
			}
		}
		waitIdle(t, a)
	}
	cdrs := waitCDR(t, a, accs[0].tenant.ID, 5)
	if len(cdrs) != 5 {
		t.Fatalf("%d CDRs for 5 calls", len(cdrs))
	}
	for _, c := range cdrs {
		if c.Disposition != "answered" {
			t.Fatalf("CDR %+v", c)
		}
	}
}

// The caller cancels just as the callee answers: whichever wins, nothing is
// left up. A callee whose 200 OK crossed the CANCEL gets ACK then BYE; a
// caller whose 200 OK came first hangs up normally.
func TestCancelCrossesAnswer(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	answeredFirst := 0
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		call := startDial(t, alice, "202", dialOpt{ctx: ctx})
		in := bob.nextIncoming(t)
		in.rtp = newRTPEnd(t)
		answerErr := make(chan error, 1)
		go func() { answerErr <- in.uas.RespondSDP(in.localSDP("0 101", "sendrecv")) }()
		if i%2 == 1 {
			time.Sleep(time.Duration(i) * time.Millisecond)
		}
		cancel()
		out, err := call.result()
		if err == nil {
			answeredFirst++
			out.hangup(t)
		}
		if err := <-answerErr; err == nil {
			// Bob's 200 was acknowledged: the pbx must end his dialog.
			in.waitEnded(t)
		}
		waitIdle(t, a)
	}
	t.Logf("%d of 10 answers won over the CANCEL", answeredFirst)
	if cdrs := waitCDR(t, a, accs[0].tenant.ID, 10); len(cdrs) != 10 {
		t.Fatalf("%d CDRs for 10 calls", len(cdrs))
	}
}
