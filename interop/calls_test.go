package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pbx/interop/loadgen"
)

// sippPCAP is the G.711 A-law recording uac_call.xml plays (Debian's
// sip-tester package).
const sippPCAP = "/usr/share/sip-tester/g711a.pcap"

// TestSIPpCallWithRTP: SIPp callers call SIPp callees through the pbx. The
// callers authenticate their INVITE (407) and play a G.711 recording; the
// callees registered first and echo the RTP they receive (-rtp_echo). The
// pbx hangs up a leg that receives no RTP for 3 s, so a call survives its
// seven seconds only if the caller's audio reaches the pbx and the relayed
// audio reaches the callee and comes back; each ends with the caller's BYE.
func TestSIPpCallWithRTP(t *testing.T) {
	requireTool(t, "sipp", "sip-tester")
	if _, err := os.Stat(sippPCAP); err != nil {
		t.Fatalf("the SIPp recording %s is missing (Debian package sip-tester): %v", sippPCAP, err)
	}
	srv := startServer(t, append(sippArgs, "--rtp-timeout", "3s")...)
	ctx := testContext(t, 3*time.Minute)
	api := srv.API()
	const calls = 4
	tenant, accs, err := api.CreateCallAccounts(ctx, "Interop SIPp calls", 2*calls, 4, callNaming)
	if err != nil {
		t.Fatal(err)
	}
	callers, callees := accs[:calls], accs[calls:]
	dir := t.TempDir()
	port, err := FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	registerFromPort(t, ctx, srv, dir, callees, port)
	inf := filepath.Join(dir, "calls.csv")
	if err := WriteCallInjection(inf, callers, callees); err != nil {
		t.Fatal(err)
	}
	run, err := runSIPpCalls(ctx, srv, dir, "uac_call.xml", inf, port, calls, 2, 90*time.Second, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("caller: %s", run.UAC.Summary())
	if run.UASErr != nil {
		t.Fatalf("callee SIPp: %v", run.UASErr)
	}
	t.Logf("callee: %s", run.UAS.Summary())
	if !run.UAC.Clean(calls) {
		t.Fatalf("caller SIPp: want %d successful calls and none failed, got %s\n%s\n--- callee ---\n%s",
			calls, run.UAC.Summary(), run.UAC.Diagnostics(), run.UAS.Diagnostics())
	}
	if !run.UAS.Clean(calls) {
		t.Fatalf("callee SIPp: want %d successful calls and none failed, got %s\n%s", calls, run.UAS.Summary(), run.UAS.Diagnostics())
	}
	cdrs, err := waitCDRs(ctx, api, tenant.ID, calls)
	if err != nil {
		t.Fatal(err)
	}
	// Seven seconds of call, answered; hung up by the caller.
	if n := answered(cdrs, 6); n != calls {
		t.Fatalf("want %d answered CDRs with at least 6 billable seconds, got %d:\n%s", calls, n, cdrSummary(cdrs))
	}
	for _, c := range cdrs {
		if c.HangupCause != "normal_clearing" {
			t.Errorf("CDR %s -> %s ended with %q, want normal_clearing (a media timeout would say so)", c.Caller, c.Callee, c.HangupCause)
		}
	}
}

// TestLoadgenCalls is the small load test of the Go load generator: 20
// concurrent calls with G.711 audio both ways for a few seconds and DTMF
// from every caller. On loopback nothing may be lost, every digit must
// arrive intact at the callee, and the estimated MOS must stay above 4.
func TestLoadgenCalls(t *testing.T) {
	const calls = 20
	srv := startServer(t, "--ban-source-failures", "0")
	ctx := testContext(t, 3*time.Minute)
	api := srv.API()
	tenant, accs, err := api.CreateCallAccounts(ctx, "Interop loadgen", 2*calls, 4, callNaming)
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadgen.New(loadgen.Config{Server: srv.SIPAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	pairs := make([][2]loadgen.Account, calls)
	callees := make([]loadgen.Account, calls)
	for i := range calls {
		pairs[i] = [2]loadgen.Account{accs[i].Loadgen(), accs[calls+i].Loadgen()}
		callees[i] = pairs[i][1]
	}
	if err := g.RegisterAll(ctx, callees, 8); err != nil {
		t.Fatal(err)
	}
	established, err := g.DialAll(ctx, pairs, 10)
	defer func() {
		// Every path hangs up what was established.
		hctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		loadgen.HangupAll(hctx, g.Calls(), 20)
	}()
	if err != nil {
		t.Fatalf("%d of %d calls up: %v", len(established), calls, err)
	}
	const digits = "159#*0ABCD"
	time.Sleep(time.Second)
	for _, c := range established {
		c.SendDTMF(digits)
	}
	// 10 digits take 10 * (140 + 60) ms; a few seconds of audio after.
	time.Sleep(4 * time.Second)
	stats := make([]loadgen.CallStats, len(established))
	for i, c := range established {
		stats[i] = c.Stats()
	}
	failed, err := loadgen.HangupAll(ctx, established, 20)
	if err != nil {
		t.Errorf("%d hang-ups failed: %v", failed, err)
	}
	lag := g.Lag()
	t.Logf("scheduler: %+v", lag)
	for i, st := range stats {
		for _, s := range []struct {
			dir string
			st  loadgen.StreamStats
		}{{"caller->callee", st.Up}, {"callee->caller", st.Down}} {
			loss := loadgen.LossRatio(s.st.Expected, s.st.Lost())
			mos := loadgen.MOS(loss, s.st.Jitter)
			if i == 0 {
				t.Logf("call 0 %s: %+v, MOS %.2f", s.dir, s.st, mos)
			}
			// 4 s of 20 ms frames: at least 150 packets arrived.
			if s.st.Received < 150 || s.st.Lost() != 0 || s.st.Other != 0 || s.st.Restarts != 0 {
				t.Errorf("call %d %s: %+v: want a steady stream with nothing lost", i, s.dir, s.st)
			}
			if mos <= 4 {
				t.Errorf("call %d %s: estimated MOS %.2f (loss %.4f, jitter %s), want above 4", i, s.dir, mos, loss, s.st.Jitter)
			}
		}
		if st.Up.Digits != digits || st.Up.BadDigits != 0 {
			t.Errorf("call %d: callee received digits %q (%d with a wrong duration), want %q", i, st.Up.Digits, st.Up.BadDigits, digits)
		}
		if st.SendErrors != 0 {
			t.Errorf("call %d: %d RTP writes failed", i, st.SendErrors)
		}
	}
	t.Logf("RTP datagrams from unexpected addresses: %d", g.Stray())
	if n := g.Unexpected(); n != 0 {
		t.Errorf("%d INVITEs reached a callee nobody dialled", n)
	}
	cdrs, err := waitCDRs(ctx, api, tenant.ID, calls)
	if err != nil {
		t.Fatal(err)
	}
	if n := answered(cdrs, 4); n != calls {
		t.Errorf("want %d answered CDRs with at least 4 billable seconds, got %d:\n%s", calls, n, cdrSummary(cdrs))
	}
}

// TestBaresipCall: two baresip phones register; one dials the other's
// extension, which answers by itself; the call is up on both sides with
// audio flowing, then the caller hangs up, the callee sees the BYE and the
// pbx writes an answered CDR with billable time.
func TestBaresipCall(t *testing.T) {
	bin := requireTool(t, "baresip", "baresip-core")
	srv := startServer(t)
	ctx := testContext(t, 3*time.Minute)
	api := srv.API()
	tenant, accs, err := api.CreateCallAccounts(ctx, "Interop baresip calls", 2, 1, callNaming)
	if err != nil {
		t.Fatal(err)
	}
	// The tenant keeps the server's default digest (MD5 alone), which
	// baresip 1.0 needs (see TestBaresipRegisters).
	caller, callee := accs[0], accs[1]
	b := startBaresipPhone(t, bin, callee.Account, srv.SIPAddr, true)
	a := startBaresipPhone(t, bin, caller.Account, srv.SIPAddr, false)
	for _, p := range []struct {
		ph   *baresipPhone
		user string
	}{{b, callee.Username}, {a, caller.Username}} {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := p.ph.waitRegistered(wctx, p.user)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := a.command("/dial " + callee.Extension); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name string
		ph   *baresipPhone
	}{{"caller", a}, {"callee", b}} {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		line, err := p.ph.waitFor(wctx, "call established", "Call established")
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		t.Logf("%s: %s", p.name, line)
	}
	// Audio both ways at each phone: baresip's status line shows the
	// bit rates received/sent once it has measured them.
	for _, p := range []struct {
		name string
		ph   *baresipPhone
	}{{"caller", a}, {"callee", b}} {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		line, err := p.ph.waitMatch(wctx, audioFlowing)
		cancel()
		if err != nil {
			t.Fatalf("%s: no audio both ways: %v", p.name, err)
		}
		t.Logf("%s: %s", p.name, strings.TrimSpace(line))
	}
	// Talk a little longer (the billable time), then the caller hangs up.
	time.Sleep(time.Second)
	if err := a.command("/hangup"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = b.waitFor(wctx, "terminated", "session closed")
	cancel()
	if err != nil {
		t.Fatalf("callee: the hang-up did not reach it: %v", err)
	}
	cdrs, err := waitCDRs(ctx, api, tenant.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := answered(cdrs, 2); n != 1 || cdrs[0].Callee != callee.Extension || cdrs[0].Caller != caller.Extension {
		t.Fatalf("want one answered call %s -> %s with at least 2 billable seconds, got:\n%s",
			caller.Extension, callee.Extension, cdrSummary(cdrs))
	}
	t.Logf("CDR: %s", strings.TrimSpace(cdrSummary(cdrs)))
}

var errNoMatch = errors.New("no matching line")

// audioFlowing matches baresip's call status with a non-zero bit rate in
// both directions ("audio=64000/64000 (bit/s)").
var audioFlowing = regexp.MustCompile(`audio=[1-9][0-9]*/[1-9][0-9]*`)

// waitMatch reads the phone's output until a line matches re.
func (p *baresipPhone) waitMatch(ctx context.Context, re *regexp.Regexp) (string, error) {
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("baresip exited: %w (want %s)", errNoMatch, re)
			}
			if re.MatchString(line) {
				return line, nil
			}
		case <-ctx.Done():
			return "", fmt.Errorf("%w for %s in baresip's output: %v", errNoMatch, re, ctx.Err())
		}
	}
}

// waitFor reads the phone's output until a line contains one of subs.
func (p *baresipPhone) waitFor(ctx context.Context, subs ...string) (string, error) {
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("baresip exited: %w (want %q)", errNoMatch, subs)
			}
			for _, s := range subs {
				if strings.Contains(line, s) {
					return line, nil
				}
			}
		case <-ctx.Done():
			return "", fmt.Errorf("%w for %q in baresip's output: %v", errNoMatch, subs, ctx.Err())
		}
	}
}
