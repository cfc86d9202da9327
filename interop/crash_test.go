package interop

import (
	"path/filepath"
	"testing"
	"time"

	"pbx/interop/loadgen"
)

// TestCrashLosesNoCallRecord: 20 calls end, 200 calls with RTP are up, and
// the server is killed (SIGKILL). After a restart on the same data, the 20
// ended calls have their records, each of the 200 has one with the cause
// system_failure and billable time up to the last sign of life, and every
// registration is back without the devices registering again.
func TestCrashLosesNoCallRecord(t *testing.T) {
	const ended, up = 20, 200
	ctx := testContext(t, 6*time.Minute)
	dir := t.TempDir()
	cfg := ServerConfig{Binary: pbxBinary, DataDir: filepath.Join(dir, "data"), Args: []string{"--ban-source-failures", "0"}}
	srv, err := StartServer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			srv.Stop()
		}
		if t.Failed() {
			t.Logf("first server's log (tail):\n%s", srv.LogTail(40))
		}
	}()
	n := ended + up
	tenant, accs, err := srv.API().CreateCallAccounts(ctx, "Crash", 2*n, 4, callNaming)
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadgen.New(loadgen.Config{Server: srv.SIPAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	pairs := make([][2]loadgen.Account, n)
	callees := make([]loadgen.Account, n)
	for i := range n {
		pairs[i] = [2]loadgen.Account{accs[i].Loadgen(), accs[n+i].Loadgen()}
		callees[i] = pairs[i][1]
	}
	if err := g.RegisterAll(ctx, callees, 8); err != nil {
		t.Fatal(err)
	}
	first, err := g.DialAll(ctx, pairs[:ended], 10)
	if err != nil {
		t.Fatalf("%d of %d calls up: %v", len(first), ended, err)
	}
	time.Sleep(time.Second)
	if failed, err := loadgen.HangupAll(ctx, first, 10); err != nil {
		t.Fatalf("%d hang-ups failed: %v", failed, err)
	}
	if _, err := waitCDRs(ctx, srv.API(), tenant.ID, ended); err != nil {
		t.Fatal(err)
	}
	calls, err := g.DialAll(ctx, pairs[ended:], 20)
	if err != nil {
		t.Fatalf("%d of %d calls up: %v", len(calls), up, err)
	}
	// Long enough for the journal (written every second) to hold every
	// call and its answer, and for a few seconds of audio.
	time.Sleep(4 * time.Second)
	for i, c := range calls {
		if st := c.Stats(); st.Up.Received < 50 || st.Down.Received < 50 {
			t.Fatalf("call %d has no audio both ways before the crash: %+v", i, st)
		}
	}
	before := time.Now()
	srv.Kill()
	killed = true

	srv2, err := StartServer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv2.Stop(); err != nil {
			t.Errorf("restarted pbx did not shut down cleanly: %v", err)
		}
		if t.Failed() {
			t.Logf("restarted server's log (tail):\n%s", srv2.LogTail(40))
		}
	}()
	cdrs, err := listCDRs(ctx, srv2.API(), tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	normal, failed := 0, 0
	for _, c := range cdrs {
		switch {
		case c.HangupCause == "system_failure" && c.Disposition == "answered" && c.AnswerAt != nil && c.BillableSeconds >= 3:
			failed++
			if c.AnswerAt.After(before) {
				t.Errorf("record %+v: answered after the crash", c)
			}
		case c.HangupCause != "system_failure" && c.Disposition == "answered" && c.BillableSeconds >= 1:
			normal++
		default:
			t.Errorf("unexpected record %+v", c)
		}
	}
	if normal != ended || failed != up || len(cdrs) != n {
		t.Errorf("after the crash: %d records, %d of calls that ended (want %d), %d system failures (want %d):\n%s",
			len(cdrs), normal, ended, failed, up, cdrSummary(cdrs))
	}
	regs, err := srv2.API().Registrations(ctx, tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != n {
		t.Errorf("%d registrations after the restart, want %d", len(regs), n)
	}
}
