package interop

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSelftestAgainstDemoServer is the README's first call as a newcomer
// runs it: `pbx serve --demo` on a clean data directory, then `pbx
// selftest` on that directory, both the built binary. The self-test must
// register, be answered and see audio both ways with no loss.
func TestSelftestAgainstDemoServer(t *testing.T) {
	srv := startServer(t, "--demo")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pbxBinary, "selftest", "--data", srv.DataDir, "--sip", srv.SIPAddr,
		"--http", strings.TrimPrefix(srv.HTTPURL, "http://"), "--talk", "2s")
	cmd.SysProcAttr = childAttr()
	out, err := cmd.CombinedOutput()
	t.Logf("pbx selftest:\n%s", out)
	if err != nil {
		t.Fatalf("pbx selftest: %v", err)
	}
	text := string(out)
	for _, want := range []string{"registered  yes", "answered    yes", "OK: registered, answered, audio both ways"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printout lacks %q", want)
		}
	}
	audio := regexp.MustCompile(`audio +(caller -> callee|callee -> caller): ([0-9]+) of ([0-9]+) packets, loss ([0-9.]+)%`)
	lines := audio.FindAllStringSubmatch(text, -1)
	if len(lines) != 2 {
		t.Fatalf("want an audio line per direction, got %q", lines)
	}
	for _, l := range lines {
		// Loopback loses nothing; a machine busy with other work may
		// drop a packet or two from a full socket buffer.
		if loss, _ := strconv.ParseFloat(l[4], 64); l[2] == "0" || loss > 5 {
			t.Errorf("%s: %s of %s packets, loss %s%%", l[1], l[2], l[3], l[4])
		}
	}
}
