package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pbxBinary is the pbx executable TestMain built for this run.
var pbxBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pbx-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	pbxBinary = filepath.Join(dir, "pbx")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := BuildPBX(ctx, pbxBinary); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	return m.Run()
}

// startServer runs a pbx for the test with a fresh data directory; it is
// stopped (and its log shown if the test failed) when the test ends.
func startServer(t *testing.T, args ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartServer(ctx, ServerConfig{Binary: pbxBinary, DataDir: filepath.Join(dir, "data"), Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := s.Stop()
		if t.Failed() {
			t.Logf("server log (tail):\n%s", s.LogTail(60))
		}
		if err != nil {
			t.Errorf("pbx did not shut down cleanly: %v", err)
		}
	})
	return s
}

// sippArgs are the server flags for SIPp runs: none, so that SIPp (3.6.1
// computes MD5 only and gives up on a SHA-256 challenge) registers and
// calls with the server's defaults, as a newcomer's would.
var sippArgs []string

// requireTool fails (never skips) the test when an external program is
// missing: CI must run every interop test. `make test` installs them.
func requireTool(t *testing.T, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is not installed: install the Debian package %s (apt-get install %s), or run `make test`, which installs it",
			program, debianPackage, debianPackage)
	}
	return p
}

// testContext is a context bounded by d and by the test's own deadline.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	if dl, ok := t.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, dl.Add(-5*time.Second))
		t.Cleanup(cancelDeadline)
	}
	return ctx
}
