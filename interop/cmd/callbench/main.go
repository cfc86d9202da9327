// Command callbench measures what the pbx does with calls: the call setup
// rate it sustains without failure, and how many concurrent G.711 calls its
// media engine relays cleanly, at what CPU and memory cost per call, with
// what audio quality.
//
// It builds and starts the server (its own data directory, free loopback
// ports, a wide RTP port range, no source bans, MD5 offered first for
// SIPp), provisions accounts through the REST API, then:
//
//   - calls_per_second: SIPp callers (uac_call_nomedia.xml: 407 challenge,
//     authenticated INVITE, 200, ACK, 100 ms, BYE) call SIPp callees that
//     registered first (uas_call.xml), at rising rates; the figure is the
//     successful calls per second of the fastest run without a single
//     failure or retransmission (each step is printed too, the overloaded
//     ones, with retransmissions, named so). Each call is two legs on the pbx (the caller's inbound leg
//     and the callee's outbound leg): call_legs_per_second is twice it.
//   - trunk_group_calls_per_second: a carrier (SIPp from a trunk address)
//     calls numbers leading through a flow without a menu to ring-all
//     hunt groups of three members (see trunkgroup.go); the same rule.
//   - concurrent_relayed_calls: the Go load generator (interop/loadgen)
//     holds calls with 20 ms PCMU both ways, stepping up the number of
//     calls and holding each step for a window; the figure is the largest
//     step whose window lost under 0.1% of the packets while the generator
//     itself kept pace. The audio figures (mos_min, loss_max_percent,
//     jitter_max_ms, dtmf_ok) and the costs (cpu_per_relayed_packet,
//     memory_per_call) are those of that step. memory_per_call is the Go
//     heap and goroutine stacks after a forced collection, above those of
//     the idle server, divided by the calls; memory_per_call_rss the same
//     with the resident set. This stage runs first, on a server that has
//     carried no calls yet.
//   - concurrent_recorded_calls: the same steps with calls whose callers'
//     policy records them (a stereo WAV each, written as the call goes;
//     see recorded.go), in a tenant of their own; cpu_per_recorded_packet
//     sits next to cpu_per_relayed_packet.
//   - memory_per_finished_call: what short SIPp calls leave behind on the
//     server once their transactions have ended, and while they still
//     live (memory_per_finished_call_live, goroutines_per_finished_call_live;
//     see finished.go). This stage runs last.
//
// Figures go to stdout, one per line as "name value unit"; progress and
// diagnostics go to stderr. A stage that fails prints what it measured and
// the next stage runs; the exit status is 0 unless the command line is
// wrong, so that `make bench` never fails the build.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/interop"
	"pbx/interop/loadgen"
)

type options struct {
	pbx       string
	steps     []int
	window    time.Duration
	settle    time.Duration
	rates     []float64
	rateRun   time.Duration
	keep      bool
	serveArgs string
	total     time.Duration
	skipCPS   bool
	profile   string // -cpuprofile
	skipMedia bool
	skipGroup bool
	// finishedCalls calls at finishedRate for the finished-calls stage
	// (skipFinished: skipped).
	finishedCalls int
	finishedRate  float64
	// finishedWarmup calls come first (0: none).
	finishedWarmup int
	skipFinished   bool
	// recordedSteps are the steps of the recorded calls (none: skipped).
	recordedSteps []int
	// groupRates are the call rates tried for trunk_group_calls_per_second.
	groupRates []float64
}

func main() {
	var o options
	var steps, rates, groupRates, recordedSteps string
	flag.StringVar(&o.pbx, "pbx", "", "pbx binary to run (default: build cmd/pbx)")
	flag.StringVar(&steps, "steps", "100,200,400,700,1000", "concurrent call steps, comma-separated")
	flag.DurationVar(&o.window, "window", 10*time.Second, "measurement window of each concurrent-call step")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "time between a step's calls being up and its window")
	flag.StringVar(&rates, "rates", "250,500,750,1000,1250,1500", "call rates tried for calls_per_second, calls/s")
	flag.DurationVar(&o.rateRun, "rate-run", 5*time.Second, "length of each SIPp run at one call rate")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (server data and log, SIPp files)")
	flag.StringVar(&o.serveArgs, "serve-args", "", "extra `pbx serve` flags, space-separated")
	flag.DurationVar(&o.total, "timeout", 10*time.Minute, "bound of the whole run")
	flag.StringVar(&recordedSteps, "recorded-steps", "100,200,300,400", "concurrent recorded call steps, comma-separated; \"\" skips them")
	flag.BoolVar(&o.skipCPS, "no-cps", false, "skip the call rate stage")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the server during the first call rate run to this `file` (go tool pprof)")
	flag.BoolVar(&o.skipMedia, "no-media", false, "skip the concurrent calls stage")
	flag.BoolVar(&o.skipGroup, "no-group", false, "skip the trunk-to-hunt-group call rate stage")
	flag.BoolVar(&o.skipFinished, "no-finished", false, "skip the finished calls (memory left behind) stage")
	flag.IntVar(&o.finishedCalls, "finished-calls", 5000, "calls of the finished calls stage")
	flag.IntVar(&o.finishedWarmup, "finished-warmup", 5000, "calls made before the baseline of the finished calls stage")
	flag.Float64Var(&o.finishedRate, "finished-rate", 200, "call rate of the finished calls stage, calls/s (at most a rate the pbx sustains cleanly)")
	flag.StringVar(&groupRates, "group-rates", "50,100,200,400", "call rates tried for trunk_group_calls_per_second, calls/s")
	flag.Parse()
	var err error
	if recordedSteps != "" {
		if o.recordedSteps, err = parseInts(recordedSteps); err != nil {
			fmt.Fprintln(os.Stderr, "callbench: -recorded-steps:", err)
			os.Exit(2)
		}
	}
	if o.steps, err = parseInts(steps); err != nil {
		fmt.Fprintln(os.Stderr, "callbench: -steps:", err)
		os.Exit(2)
	}
	rs, err := parseInts(rates)
	if err != nil {
		fmt.Fprintln(os.Stderr, "callbench: -rates:", err)
		os.Exit(2)
	}
	for _, r := range rs {
		o.rates = append(o.rates, float64(r))
	}
	grs, err := parseInts(groupRates)
	if err != nil {
		fmt.Fprintln(os.Stderr, "callbench: -group-rates:", err)
		os.Exit(2)
	}
	for _, r := range grs {
		o.groupRates = append(o.groupRates, float64(r))
	}
	// Each concurrent step holds its calls for settle and window; each
	// rate runs for rate-run; the whole run is bounded by -timeout.
	typical := time.Minute + time.Duration(len(o.steps))*(o.settle+o.window+15*time.Second) +
		time.Duration(len(o.rates)+len(o.groupRates))*(o.rateRun+10*time.Second)
	if !o.skipFinished {
		typical += 3*transactionLife + interop.RunTime(o.finishedRate, o.finishedCalls+o.finishedWarmup)
	}
	logf("expected run time: about %s, at most %s", min(typical, o.total).Round(time.Minute), (o.total + time.Minute).Round(time.Minute))
	if err := run(o); err != nil {
		logf("%v", err)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("values must rise: %d after %d", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	return out, nil
}

func run(o options) error {
	// sipgo warns on its default logger when the generator closes its
	// sockets; the figures are on stdout, progress on stderr: keep it quiet.
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.total)
	defer cancel()

	work, pbx, cleanup, err := interop.BenchWorkDir(ctx, "callbench", o.pbx, o.keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	// RTP ports below the kernel's ephemeral range (32768-60999 on Linux),
	// where the load generator's and SIPp's own sockets live, and as many
	// as possible: a call takes two port pairs and a released pair rests
	// 5 s, so 15,383 pairs cap the sustained call rate near 1,500 calls/s
	// whatever the CPU.
	srv, err := interop.StartBenchServer(ctx, pbx, work, []string{"--rtp-ports", "2000-32767", "--log-level", "warn", "--pprof"}, o.serveArgs, logf)
	if err != nil {
		return err
	}
	defer srv.Stop()

	maxCalls := o.steps[len(o.steps)-1]
	const cpsPairs, finishedPairs = 200, 200
	start := time.Now()
	_, accs, err := srv.API().CreateCallAccounts(ctx, fmt.Sprintf("Callbench %d", time.Now().Unix()), 2*maxCalls+2*cpsPairs+2*finishedPairs, 16,
		interop.CallAccountNaming{FirstExtension: 400000, FirstName: "Bench", EmailPrefix: "b", EmailDomain: "bench.example"})
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	logf("%d licences with one device each provisioned in %s", len(accs), time.Since(start).Round(time.Millisecond))
	mediaAccs, cpsAccs, finishedAccs := accs[:2*maxCalls], accs[2*maxCalls:2*maxCalls+2*cpsPairs], accs[2*maxCalls+2*cpsPairs:]

	// The concurrent calls come first: their memory baseline is that of a
	// server that has not yet carried thousands of short calls (whose
	// transactions outlive them by up to 32 s, and whose peak heap the Go
	// runtime returns to the system only slowly).
	if !o.skipMedia {
		if err := concurrentCalls(ctx, o.steps, o, srv, mediaAccs[:maxCalls], mediaAccs[maxCalls:], relayedStage); err != nil {
			logf("concurrent calls stage: %v", err)
		}
	}
	if len(o.recordedSteps) > 0 {
		if err := recordedCalls(ctx, o, srv); err != nil {
			logf("concurrent recorded calls stage: %v", err)
		}
	}
	if !o.skipCPS {
		if err := callRate(ctx, o, srv, work, cpsAccs[:cpsPairs], cpsAccs[cpsPairs:]); err != nil {
			logf("calls_per_second stage: %v", err)
		}
	}
	if !o.skipGroup {
		if err := trunkGroupRate(ctx, o, srv, work); err != nil {
			logf("trunk_group_calls_per_second stage: %v", err)
		}
	}
	if !o.skipFinished {
		if err := finishedCalls(ctx, o, srv, work, finishedAccs[:finishedPairs], finishedAccs[finishedPairs:]); err != nil {
			logf("finished calls stage: %v", err)
		}
	}
	if !srv.Alive() {
		return fmt.Errorf("the pbx died: %v\n%s", srv.ExitErr(), srv.LogTail(30))
	}
	return nil
}

// callRate finds the highest SIPp call rate without failures and
// retransmissions.
func callRate(ctx context.Context, o options, srv *interop.Server, work string, callers, callees []interop.CallAccount) error {
	var during func(context.Context) error
	if path := o.profile; path != "" {
		during = func(ctx context.Context) error {
			return interop.FetchCPUProfile(ctx, srv.HTTPURL, path, o.rateRun, logf)
		}
	}
	res, err := interop.CallRateSearch{Name: "pbx", Work: filepath.Join(work, "cps"), Target: srv.SIPAddr, Callers: callers, Callees: callees,
		Rates: o.rates, RateRun: o.rateRun, CPU: func() (time.Duration, error) { return interop.ProcessCPU(srv.Pid) }, During: during, Logf: logf}.Run(ctx)
	if err != nil {
		if res != nil {
			res.Print("") // a zero headline and the overloaded steps
		} else {
			figure("calls_per_second", 0, "calls/s")
		}
		return err
	}
	res.Print("")
	figure("call_legs_per_second", 2*res.PerSecond, "legs/s")
	return nil
}

// stepResult is what one concurrent-calls step measured in its window.
type stepResult struct {
	calls            int
	expected, lost   int64
	lossMaxPercent   float64
	jitterMax        time.Duration
	mosMin           float64
	dtmfOK           bool
	dtmfBad          int
	sent             int64
	cpu              time.Duration
	lag              loadgen.Lag
	memGo, memRSS    float64 // bytes above idle
	sendErrors       int64
	deadStreams      int
	clean, keptPace  bool
	windowSeconds    float64
	serverCPUPercent float64
}

// concurrentCalls steps up the number of relayed calls.
func concurrentCalls(ctx context.Context, steps []int, o options, srv *interop.Server, callers, callees []interop.CallAccount, st stage) error {
	g, err := loadgen.New(loadgen.Config{Server: srv.SIPAddr})
	if err != nil {
		return err
	}
	defer g.Close()
	idleFDs, fdErr := countFDs(srv.Pid)
	defer func() {
		// Every path hangs up what is up, within a bound, then checks that
		// the pbx closed the calls' sockets.
		hctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		calls := g.Calls()
		if len(calls) > 0 {
			failed, err := loadgen.HangupAll(hctx, calls, 50)
			logf("hung up %d calls, %d failed (%v)", len(calls), failed, err)
		}
		if fdErr != nil || len(calls) == 0 {
			return
		}
		left := 0
		// The media engine keeps a released pair's sockets for the next
		// call for up to about 12 s (media.portPool): wait past that.
		for range 200 {
			n, err := countFDs(srv.Pid)
			if err != nil {
				return
			}
			if left = n - idleFDs; left <= 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Sockets the pbx still holds 20 s after the last call ended.
		if !st.recorded {
			figure("server_fds_left_after_hangup", float64(max(0, left)), "count")
		}
	}()
	lgCallees := make([]loadgen.Account, len(callees))
	for i, a := range callees {
		lgCallees[i] = a.Loadgen()
	}
	start := time.Now()
	if err := g.RegisterAll(ctx, lgCallees, 32); err != nil {
		return fmt.Errorf("registering the callees: %w", err)
	}
	logf("%d callees registered in %s", len(lgCallees), time.Since(start).Round(time.Millisecond))
	idleGo, idleRSS, err := settledMemory(ctx, srv)
	if err != nil {
		logf("memory: %v", err)
	}
	var best *stepResult
	var calls []*loadgen.Call
	limited := false
	for _, n := range steps {
		if ctx.Err() != nil {
			logf("time is up before the step of %d calls", n)
			break
		}
		pairs := make([][2]loadgen.Account, 0, n-len(calls))
		for i := len(calls); i < n; i++ {
			pairs = append(pairs, [2]loadgen.Account{callers[i].Loadgen(), callees[i].Loadgen()})
		}
		t0 := time.Now()
		added, err := g.DialAll(ctx, pairs, 32)
		calls = append(calls, added...)
		if err != nil {
			logf("%sstep %d: %d of %d new calls up in %s; setup failed: %v", st.log, n, len(added), len(pairs), time.Since(t0).Round(time.Millisecond), err)
			break
		}
		logf("%sstep %d: %d new calls up in %s", st.log, n, len(added), time.Since(t0).Round(time.Millisecond))
		r, err := measureStep(ctx, o, srv, g, calls)
		if err != nil {
			logf("%sstep %d: %v", st.log, n, err)
			break
		}
		if gm, rss, err := serverMemory(ctx, srv); err == nil {
			r.memGo, r.memRSS = gm-idleGo, rss-idleRSS
		}
		logf("%sstep %d: window %.1fs loss %d/%d (%.4f%%), worst stream %.3f%%, jitter max %.2f ms, MOS min %.2f, DTMF ok %v (%d bad), pbx CPU %.0f%% = %.2f us/packet, memory +%.0f kB/call (Go heap+stacks) +%.0f kB/call (RSS); generator lag %+v; dead streams %d, send errors %d",
			st.log, n, r.windowSeconds, r.lost, r.expected, 100*loadgen.LossRatio(r.expected, r.lost), r.lossMaxPercent,
			float64(r.jitterMax)/1e6, r.mosMin, r.dtmfOK, r.dtmfBad, r.serverCPUPercent,
			float64(r.cpu.Nanoseconds())/1e3/float64(max(1, r.sent)), r.memGo/1024/float64(n), r.memRSS/1024/float64(n),
			r.lag, r.deadStreams, r.sendErrors)
		if !r.keptPace {
			logf("%sstep %d: the load generator did not keep pace: its figures would measure itself; stopping here", st.log, n)
			limited = true
			break
		}
		if !r.clean {
			logf("%sstep %d: loss at or above 0.1%%: stopping here", st.log, n)
			break
		}
		best = r
	}
	if best == nil {
		figure(st.calls, 0, "calls")
		return errors.New("no step was clean")
	}
	figure(st.calls, float64(best.calls), "calls")
	figure(st.cpu, float64(best.cpu.Nanoseconds())/1e3/float64(max(1, best.sent)), "us")
	if st.recorded {
		figure("recorded_memory_per_call", best.memGo/1024/float64(best.calls), "kB")
		figure("recorded_loss_max_percent", best.lossMaxPercent, "%")
		figure("recorded_mos_min", best.mosMin, "mos")
		figure("recorded_limited_by_loadgen", b2f(limited), "bool")
		return nil
	}
	figure("memory_per_call", best.memGo/1024/float64(best.calls), "kB")
	figure("memory_per_call_rss", best.memRSS/1024/float64(best.calls), "kB")
	figure("mos_min", best.mosMin, "mos")
	figure("loss_max_percent", best.lossMaxPercent, "%")
	figure("jitter_max_ms", float64(best.jitterMax)/1e6, "ms")
	dtmf := 0.0
	if best.dtmfOK {
		dtmf = 1
	}
	figure("dtmf_ok", dtmf, "bool")
	figure("relayed_packets_per_second", float64(best.sent)/best.windowSeconds, "packets/s")
	// 1 when the next step was abandoned because the load generator (on
	// the same machine) could not keep pace: the pbx may hold more.
	lim := 0.0
	if limited {
		lim = 1
	}
	figure("concurrent_limited_by_loadgen", lim, "bool")
	return nil
}

const stepDigits = "1234567890*#"

// measureStep waits for the calls to settle, then measures one window
// during which every caller sends stepDigits.
func measureStep(ctx context.Context, o options, srv *interop.Server, g *loadgen.Generator, calls []*loadgen.Call) (*stepResult, error) {
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	before := make([]loadgen.CallStats, len(calls))
	for i, c := range calls {
		before[i] = c.Stats()
	}
	lag0 := g.Lag()
	cpu0, err := interop.ProcessCPU(srv.Pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	for _, c := range calls {
		c.SendDTMF(stepDigits)
	}
	select {
	case <-time.After(o.window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cpu1, err := interop.ProcessCPU(srv.Pid)
	if err != nil {
		return nil, err
	}
	window := time.Since(t0)
	lag := g.Lag().Sub(lag0)
	r := &stepResult{calls: len(calls), cpu: cpu1 - cpu0, lag: lag, keptPace: lag.KeepsPace(), mosMin: 5, dtmfOK: true,
		windowSeconds: window.Seconds()}
	r.serverCPUPercent = 100 * r.cpu.Seconds() / window.Seconds()
	for i, c := range calls {
		after := c.Stats()
		r.sendErrors += after.SendErrors - before[i].SendErrors
		for _, d := range []struct{ a, b loadgen.StreamStats }{{before[i].Up, after.Up}, {before[i].Down, after.Down}} {
			sent := d.b.Sent - d.a.Sent
			exp, recv := d.b.Expected-d.a.Expected, d.b.Received-d.a.Received
			if recv == 0 && sent > 0 {
				// A dead stream: the sequence numbers see nothing.
				exp = sent
				r.deadStreams++
			}
			lost := exp - recv
			r.expected += exp
			r.lost += max(0, lost)
			r.sent += sent
			loss := loadgen.LossRatio(exp, lost)
			r.lossMaxPercent = math.Max(r.lossMaxPercent, 100*loss)
			r.jitterMax = max(r.jitterMax, d.b.Jitter)
			r.mosMin = math.Min(r.mosMin, loadgen.MOS(loss, d.b.Jitter))
		}
		got := after.Up.Digits[len(before[i].Up.Digits):]
		if got != stepDigits || after.Up.BadDigits != before[i].Up.BadDigits {
			r.dtmfOK = false
			r.dtmfBad++
		}
	}
	r.clean = r.deadStreams == 0 && loadgen.LossRatio(r.expected, r.lost) < 0.001
	return r, nil
}

// settledMemory is serverMemory once the pbx is idle: it reads the memory
// every 2 s until two reads differ by less than 1 MB, for at most 30 s.
func settledMemory(ctx context.Context, srv *interop.Server) (goBytes, rss float64, err error) {
	deadline := time.Now().Add(30 * time.Second)
	prev := -1.0
	for {
		goBytes, rss, err = serverMemory(ctx, srv)
		if err != nil || (prev >= 0 && math.Abs(prev-goBytes) < 1<<20) || time.Now().After(deadline) {
			logf("idle pbx: %.1f MB Go heap+stacks, %.1f MB RSS", goBytes/(1<<20), rss/(1<<20))
			return goBytes, rss, err
		}
		prev = goBytes
		select {
		case <-ctx.Done():
			return goBytes, rss, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// serverMemory returns the Go heap in use plus goroutine stacks (from
// /metrics) and the resident set size of the pbx, in bytes. A garbage
// collection runs first (the heap profile's gc=1), so that the heap counts
// what is live, not the garbage a GOGC of 400 lets pile up.
func serverMemory(ctx context.Context, srv *interop.Server) (goBytes, rss float64, err error) {
	gc, _ := http.NewRequestWithContext(ctx, "GET", srv.HTTPURL+"/debug/pprof/heap?gc=1", nil)
	res, err := http.DefaultClient.Do(gc)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("garbage collection through /debug/pprof/heap?gc=1: %s", res.Status)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.HTTPURL+"/metrics", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
			v, err := strconv.ParseFloat(f[1], 64)
			if err == nil {
				goBytes += v
				found++
			}
		case "process_resident_memory_bytes":
			rss, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if found != 2 {
		return goBytes, rss, errors.New("/metrics: go_memstats_heap_inuse_bytes or go_memstats_stack_inuse_bytes missing")
	}
	return goBytes, rss, sc.Err()
}

// countFDs counts the open file descriptors of a process (Linux).
func countFDs(pid int) (int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es), err
}

// rtdColumn returns the cumulated mean of the response time named name
// (rtd="name" in the scenario), "?" when the statistics lack it.
func rtdColumn(s interop.SIPpStats, name string) string {
	for k, v := range s.Columns {
		if strings.HasPrefix(k, "ResponseTime") && strings.Contains(k, name) && strings.HasSuffix(k, "(C)") {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func figure(name string, value float64, unit string) {
	interop.PrintFigure(name, value, unit, 100)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "callbench: "+format+"\n", args...)
}
