package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/interop"
)

// The finished-calls stage: what a call leaves behind once it has ended.
// SIPp callers (uac_call_nomedia.xml, with the 407 challenge) make
// finishedCalls short calls at finishedRate to SIPp callees (after a
// first batch of finishedWarmup calls, see below); the server's
// live heap and goroutines are read (after a forced collection) before,
// right after the last call has ended, and once every transaction of the
// calls has ended (the RFC 3261 timers B, F, H, J, L and M are 64*T1 =
// 32 s on UDP). The figures, per call:
//
//   - memory_per_finished_call_live: the live heap (and goroutine stacks)
//     held right after the last call, while what absorbs the calls'
//     retransmissions is still there (64*T1 after each call; at the
//     default rate and count, the batch lasts 25 s, so for every call);
//     memory_per_finished_call_live_spans the same in heap spans in use
//     (what the runtime holds, fragmentation included);
//   - goroutines_per_finished_call_live: the goroutines at that moment;
//   - memory_per_finished_call: the heap still held once they have ended,
//     which should be nothing.
//
// With -keep, the heap profiles of the three moments are saved in
// finished/heap-{base,live,ended}.pb.gz of the working directory, for
// `go tool pprof -base`.

// transactionLife is how long the last transaction of a call may outlive
// it (64*T1 with T1 = 500 ms), with a margin.
const transactionLife = 32*time.Second + 5*time.Second

// runtimeState is what the server's /metrics say of its Go runtime.
type runtimeState struct {
	heapLive   float64 // bytes of live objects after the collection
	heapInuse  float64 // bytes of in-use heap spans
	stacks     float64 // bytes of goroutine stacks
	goroutines float64
}

func (r runtimeState) String() string {
	return fmt.Sprintf("heap live %.1f MB (spans in use %.1f MB), stacks %.1f MB, %0.f goroutines",
		r.heapLive/(1<<20), r.heapInuse/(1<<20), r.stacks/(1<<20), r.goroutines)
}

// finishedCalls runs the stage with callers calling callees.
func finishedCalls(ctx context.Context, o options, srv *interop.Server, work string, callers, callees []interop.CallAccount) error {
	if err := interop.RequireSIPp(); err != nil {
		return err
	}
	dir := filepath.Join(work, "finished")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := interop.FreeUDPPort()
	if err != nil {
		return err
	}
	reg, err := interop.RegisterFromPort(ctx, srv.SIPAddr, dir, callees, port, 200)
	if err != nil {
		return err
	}
	if !reg.Clean(len(callees)) {
		return fmt.Errorf("registering the callees: %s\n%s", reg.Summary(), reg.Diagnostics())
	}
	inf := filepath.Join(dir, "calls.csv")
	if err := interop.WriteCallInjection(inf, callers, callees); err != nil {
		return err
	}
	uasScenario, err := interop.WriteScenario(dir, "uas_call.xml")
	if err != nil {
		return err
	}
	uacScenario, err := interop.WriteScenario(dir, "uac_call_nomedia.xml")
	if err != nil {
		return err
	}
	batch := func(name string, n int) (ended time.Time, done int64, err error) {
		uasMP, err := interop.FreeUDPPort()
		if err != nil {
			return ended, 0, err
		}
		uacMP, err := interop.FreeUDPPort()
		for err == nil && uacMP&^1 == uasMP&^1 {
			uacMP, err = interop.FreeUDPPort()
		}
		if err != nil {
			return ended, 0, err
		}
		timeout := interop.RunTime(o.finishedRate, n) + 30*time.Second
		uas := interop.SIPp{Scenario: uasScenario, Target: srv.SIPAddr, Rate: 1, Calls: n, Timeout: timeout + 15*time.Second,
			Args: []string{"-p", strconv.Itoa(port), "-mp", strconv.Itoa(uasMP &^ 1), "-buff_size", "8388608"}}
		uac := interop.LoadRun(interop.SIPp{Scenario: uacScenario, Target: srv.SIPAddr, Injection: inf}, o.finishedRate, n, 30*time.Second,
			"-mp", strconv.Itoa(uacMP&^1), "-d", "100")
		t0 := time.Now()
		run, err := interop.RunSIPpCalls(ctx, filepath.Join(dir, name), uas, uac, 10*time.Second)
		if err != nil {
			return ended, 0, err
		}
		// The caller's end is when its last call ended; the callee lingers
		// to absorb retransmitted BYEs.
		ended = t0.Add(500*time.Millisecond + run.UAC.Stats.Elapsed)
		logf("finished calls: %s: %d calls at %.0f/s: caller %s", name, n, o.finishedRate, run.UAC.Summary())
		if run.UAC.Stats.Elapsed > 64*sip.T1 {
			logf("finished calls: %s: the calls took longer than 64*T1: the first ones' retransmission state may be gone by the end (a lower -finished-calls or a higher -finished-rate measures them all)", name)
		}
		if run.UAC.Stats.Successful == 0 {
			return ended, 0, fmt.Errorf("%s: no call succeeded\n%s", name, run.UAC.Diagnostics())
		}
		if !run.UAC.Clean(n) {
			logf("finished calls: %s: %d of %d calls failed; the figures are per successful call", name, run.UAC.Stats.Failed, n)
		}
		return ended, run.UAC.Stats.Successful, nil
	}
	// A first batch brings what grows with the number of calls at a time
	// (maps, pools, goroutine descriptors, which the runtime keeps at
	// their high-water mark) to where the measured batch takes it; its
	// transactions, the registrations' and those of any earlier stage
	// must have ended before the baseline.
	if o.finishedWarmup > 0 {
		ended, _, err := batch("warmup", o.finishedWarmup)
		if err != nil {
			return err
		}
		if err := sleepUntil(ctx, ended.Add(transactionLife)); err != nil {
			return err
		}
	}
	base, err := settledRuntime(ctx, srv, transactionLife+30*time.Second)
	if err != nil {
		return err
	}
	logf("finished calls: baseline %s", base)
	saveHeapProfile(ctx, o, srv, dir, "base")

	ended, done, err := batch("calls", o.finishedCalls)
	if err != nil {
		return err
	}
	live, err := readRuntime(ctx, srv)
	if err != nil {
		return err
	}
	logf("finished calls: right after the last call: %s", live)
	saveHeapProfile(ctx, o, srv, dir, "live")
	per := float64(done)
	figure("memory_per_finished_call_live", (live.heapLive+live.stacks-base.heapLive-base.stacks)/per, "B")
	figure("memory_per_finished_call_live_spans", (live.heapInuse+live.stacks-base.heapInuse-base.stacks)/per, "B")
	figure("goroutines_per_finished_call_live", (live.goroutines-base.goroutines)/per, "count")

	// Every transaction of the calls has ended transactionLife after the
	// last one did; the goroutines are then back to the baseline, or
	// something is kept (then read once more, a bounded while later).
	logf("finished calls: waiting %s for the calls' transactions to end", time.Until(ended.Add(transactionLife)).Round(time.Second))
	if err := sleepUntil(ctx, ended.Add(transactionLife)); err != nil {
		return err
	}
	after, err := settledRuntime(ctx, srv, 30*time.Second)
	if err != nil {
		return err
	}
	logf("finished calls: once the transactions ended: %s", after)
	saveHeapProfile(ctx, o, srv, dir, "ended")
	figure("memory_per_finished_call", (after.heapLive+after.stacks-base.heapLive-base.stacks)/per, "B")
	figure("goroutines_per_finished_call", (after.goroutines-base.goroutines)/per, "count")
	return nil
}

// settledRuntime reads the runtime every 2 s until two reads agree (the
// goroutines within 2, the heap within 256 kB), for at most bound.
func settledRuntime(ctx context.Context, srv *interop.Server, bound time.Duration) (runtimeState, error) {
	deadline := time.Now().Add(bound)
	prev, err := readRuntime(ctx, srv)
	for err == nil {
		select {
		case <-ctx.Done():
			return prev, ctx.Err()
		case <-time.After(2 * time.Second):
		}
		var cur runtimeState
		if cur, err = readRuntime(ctx, srv); err != nil {
			break
		}
		settled := abs(cur.goroutines-prev.goroutines) <= 2 && abs(cur.heapLive-prev.heapLive) < 256<<10
		prev = cur
		if settled || time.Now().After(deadline) {
			return cur, nil
		}
	}
	return prev, err
}

// sleepUntil waits until t, or the end of ctx.
func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-time.After(time.Until(t)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// readRuntime collects the server's garbage (the heap profile's gc=1),
// then reads its runtime figures from /metrics.
func readRuntime(ctx context.Context, srv *interop.Server) (runtimeState, error) {
	var st runtimeState
	if err := interop.Get(ctx, srv.HTTPURL+"/debug/pprof/heap?gc=1", io.Discard); err != nil {
		return st, err
	}
	var b strings.Builder
	if err := interop.Get(ctx, srv.HTTPURL+"/metrics", &b); err != nil {
		return st, err
	}
	want := map[string]*float64{"go_memstats_heap_alloc_bytes": &st.heapLive, "go_memstats_heap_inuse_bytes": &st.heapInuse,
		"go_memstats_stack_inuse_bytes": &st.stacks, "go_goroutines": &st.goroutines}
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || want[f[0]] == nil {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return st, fmt.Errorf("/metrics: %s: %w", f[0], err)
		}
		*want[f[0]] = v
		delete(want, f[0])
	}
	if len(want) > 0 {
		return st, errors.New("/metrics lacks some of go_memstats_heap_alloc_bytes, go_memstats_heap_inuse_bytes, go_memstats_stack_inuse_bytes, go_goroutines")
	}
	return st, sc.Err()
}

// saveHeapProfile keeps the heap profile as heap-name.pb.gz in dir, when
// the working directory is kept.
func saveHeapProfile(ctx context.Context, o options, srv *interop.Server, dir, name string) {
	if !o.keep {
		return
	}
	f, err := os.Create(filepath.Join(dir, "heap-"+name+".pb.gz"))
	if err != nil {
		logf("heap profile: %v", err)
		return
	}
	defer f.Close()
	if err := interop.Get(ctx, srv.HTTPURL+"/debug/pprof/heap", f); err != nil {
		logf("heap profile: %v", err)
	}
}
