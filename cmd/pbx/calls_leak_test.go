package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openSockets counts the process's open sockets, and lists every open file
// descriptor for a failure message. Database files are left out of the
// count: the connection pool keeps a varying number of idle connections.
func openSockets(t *testing.T) (int, string) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list open files: %v", err)
	}
	n := 0
	var all strings.Builder
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // closed since listed (the directory's own descriptor)
		}
		fmt.Fprintf(&all, "%s -> %s\n", e.Name(), target)
		if strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n, all.String()
}

// TestCallsReleaseEverything places many short calls with RTP and checks
// that ports, sockets and goroutines come back to where they started.
func TestCallsReleaseEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	call := func() {
		out, in := connect(t, alice, bob, "202", "0 101")
		// The bridge is up once the pbx has the caller's ACK: send until
		// the callee hears something.
		relayed := false
		for i := 0; i < 250 && !relayed; i++ {
			_ = out.rtp.send(out.remote, 0, false, make([]byte, 160), 160)
			_ = in.rtp.send(in.remote, 0, false, make([]byte, 160), 160)
			_, err := in.rtp.recv(20 * time.Millisecond)
			relayed = err == nil
		}
		if !relayed {
			t.Fatal("no RTP relayed")
		}
		hangupAndWait(t, out, in)
		out.rtp.close()
		in.rtp.close()
	}
	call() // warm up lazily created state (dialog agents, pools)
	waitIdle(t, a)
	time.Sleep(time.Second)
	runtime.GC()
	baseG := runtime.NumGoroutine()
	baseFD, baseList := openSockets(t)

	const want = 2000
	start := time.Now()
	n := 0
	for ; n < want && time.Since(start) < 90*time.Second; n++ {
		call()
	}
	t.Logf("%d calls in %v", n, time.Since(start).Round(time.Millisecond))
	if n < 200 {
		t.Fatalf("only %d calls in the time bound", n)
	}
	waitIdle(t, a)
	if st := a.calls.engine.Stats(); st.PortsInUse != 0 || st.Sessions != 0 {
		t.Fatalf("media engine holds %+v", st)
	}
	// Transactions linger for their timers (at most 64*T1): wait them out.
	deadline := time.Now().Add(60 * time.Second)
	for {
		g := runtime.NumGoroutine()
		fd, list := openSockets(t)
		if g <= baseG && fd <= baseFD {
			t.Logf("goroutines %d (start %d), sockets %d (start %d)", g, baseG, fd, baseFD)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines %d (start %d), sockets %d (start %d)\nfiles at start:\n%s\nfiles now:\n%s\n%s", g, baseG, fd, baseFD, baseList, list, buf)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if cdrs := waitCDR(t, a, accs[0].tenant.ID, 1); len(cdrs) == 0 {
		t.Fatal("no CDR")
	}
}
