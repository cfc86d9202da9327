package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedApp is testApp with its warnings and errors collected in logs.
func loggedApp(t *testing.T, dir string, logs *lockedBuffer, mutate ...func(*config)) *app {
	t.Helper()
	cfg, err := parseConfig([]string{"--data", dir, "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--rtp-ports", "2000-9999"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminToken = "test-admin-token"
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.start(); err != nil {
		a.close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	return a
}

// residentMB is the process's resident memory (VmRSS) in MB.
func residentMB(t *testing.T) float64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatalf("read resident memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// flooder sends unauthenticated INVITEs from 127.0.0.2 (another address
// than the registered softphones' 127.0.0.1) and counts the answers.
type flooder struct {
	conn     *net.UDPConn
	to       *net.UDPAddr
	sent     atomic.Int64
	answered atomic.Int64 // 407 challenges received
	other    atomic.Int64 // any other answer
	done     chan struct{}
}

func newFlooder(t *testing.T, to net.Addr) *flooder {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("cannot send from 127.0.0.2: %v", err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	f := &flooder{conn: conn, to: to.(*net.UDPAddr), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		buf := make([]byte, 65535)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 407 ")) {
				f.answered.Add(1)
			} else {
				f.other.Add(1)
			}
		}
	}()
	return f
}

// run sends total INVITEs at rate per second, in bursts every 10 ms,
// giving up after limit.
func (f *flooder) run(total, rate int, limit time.Duration) {
	local := f.conn.LocalAddr().(*net.UDPAddr)
	perTick := rate / 100
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	var b []byte
	for i := 0; i < total && time.Since(start) < limit; {
		<-tick.C
		for j := 0; j < perTick && i < total; j, i = j+1, i+1 {
			b = fmt.Appendf(b[:0], "INVITE sip:202@127.0.0.1 SIP/2.0\r\n"+
				"Via: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK-flood-%d;rport\r\n"+
				"Max-Forwards: 70\r\nFrom: <sip:scanner@127.0.0.1>;tag=f%d\r\nTo: <sip:202@127.0.0.1>\r\n"+
				"Call-ID: flood-%d@127.0.0.2\r\nCSeq: 1 INVITE\r\nContact: <sip:scanner@127.0.0.2:%d>\r\n"+
				"User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n", local.Port, i, i, i, local.Port)
			if _, err := f.conn.WriteToUDP(b, f.to); err == nil {
				f.sent.Add(1)
			}
		}
	}
}

func (f *flooder) close() {
	f.conn.Close()
	<-f.done
}

// TestUnauthenticatedFlood sends 40,000 INVITEs without credentials at
// 2,000/s from one address. The first ones (up to the rate limit, set to
// 30,000 within a minute so that most of the flood is answered) each get
// one stateless 407 and hold no memory; then the source is banned, once,
// logged and counted, and ignored. Calls between registered devices work
// during the flood, before and after the ban.
func TestUnauthenticatedFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const total, rate, limit = 40000, 2000, 30000
	logs := &lockedBuffer{}
	a := loggedApp(t, t.TempDir(), logs, func(c *config) { c.RateLimit, c.RateWindow = limit, time.Minute })
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	call := func(when string) {
		out, in := connect(t, alice, bob, "202", "0 101")
		requireRelayBoth(t, out, in, 50, 40, when+": %d frames from the caller relayed", when+": %d frames from the callee relayed")
		hangupAndWait(t, out, in)
		out.rtp.close()
		in.rtp.close()
	}
	call("before the flood")
	waitIdle(t, a)
	runtime.GC()
	base := residentMB(t)

	f := newFlooder(t, a.sip.Addr("udp"))
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		f.run(total, rate, 90*time.Second)
	}()
	peak := base
	sample := func() {
		if m := residentMB(t); m > peak {
			peak = m
		}
	}
	// A call while the flood is being answered, and one once it is banned.
	for f.sent.Load() < limit/3 {
		time.Sleep(50 * time.Millisecond)
		sample()
	}
	call("during the flood")
	for f.sent.Load() < limit+rate {
		time.Sleep(50 * time.Millisecond)
		sample()
	}
	call("after the ban")
	for done := false; !done; {
		select {
		case <-flooding:
			done = true
		case <-time.After(50 * time.Millisecond):
			sample()
		}
	}
	sample()
	// The last answers in flight.
	time.Sleep(500 * time.Millisecond)
	end := residentMB(t)
	f.close()
	t.Logf("sent %d INVITEs, %d answered 407, %d other answers; resident memory %.1f MB before, %.1f MB at peak, %.1f MB after",
		f.sent.Load(), f.answered.Load(), f.other.Load(), base, peak, end)

	if f.sent.Load() != total {
		t.Fatalf("sent %d INVITEs of %d in the time bound", f.sent.Load(), total)
	}
	bound := 50.0
	if raceEnabled {
		bound *= 4
	}
	if peak-base > bound || end-base > bound {
		t.Fatalf("resident memory grew from %.1f MB to %.1f MB (peak %.1f MB), more than %.0f MB", base, end, peak, bound)
	}
	// Each admitted INVITE is answered once, statelessly: no 407 is
	// retransmitted (the server counts the answers it sends, not the
	// retransmissions of a transaction), and nothing is answered after the
	// ban. The admitted are the limit and those that came while the source
	// was being looked into.
	sent := metricValue(t, a, `pbx_sip_responses_total{class="4xx",method="INVITE"}`)
	if n := f.answered.Load(); float64(n) > sent || sent > limit+500 || n < limit/2 {
		t.Fatalf("%d challenges received, %.0f sent: want each admitted INVITE (about %d) answered once at most, and most of them", n, sent, limit)
	}
	if f.other.Load() != 0 {
		t.Fatalf("%d answers other than 407 (a stateful 100 Trying?)", f.other.Load())
	}
	if n := strings.Count(logs.String(), "sip source banned"); n != 1 || !strings.Contains(logs.String(), "source=127.0.0.2") {
		t.Fatalf("ban logged %d times:\n%s", n, logs.String())
	}
	if v := metricValue(t, a, `pbx_sip_bans_total{kind="rate"}`); v != 1 {
		t.Fatalf("pbx_sip_bans_total{kind=\"rate\"} = %v, want 1", v)
	}
}
