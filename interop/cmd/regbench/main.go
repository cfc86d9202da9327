// Command regbench measures how many SIP registrations per second the pbx
// sustains with zero failures: it builds and starts the server, provisions
// accounts through the REST API, then runs SIPp's REGISTER-with-digest
// scenario (a challenged REGISTER, then an authenticated one, per
// registration) over those accounts, lowering the offered rate until a run
// has no failure.
//
// Figures go to stdout, one per line as "name value unit"; progress and
// diagnostics go to stderr. `make bench` runs it and ignores its exit status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"pbx/interop"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "regbench:", err)
		os.Exit(1)
	}
}

type options struct {
	pbx       string
	accounts  int
	rate      float64
	minRate   float64
	duration  time.Duration
	transport string
	keep      bool
	serveArgs string
	profile   string
}

func run() error {
	var o options
	flag.StringVar(&o.pbx, "pbx", "", "pbx binary to run (default: build cmd/pbx)")
	flag.IntVar(&o.accounts, "accounts", 10000, "devices to provision through the REST API")
	flag.Float64Var(&o.rate, "rate", 6000, "first offered rate, registrations per second")
	flag.Float64Var(&o.minRate, "min-rate", 250, "give up below this rate")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each SIPp run at the offered rate")
	flag.StringVar(&o.transport, "t", "u1", "SIPp transport mode (u1, un, t1, tn)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (server data and log, SIPp files)")
	flag.StringVar(&o.serveArgs, "serve-args", "", "extra `pbx serve` flags, space-separated")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the server during the first measured run to this `file` (go tool pprof)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()

	if err := interop.RequireSIPp(); err != nil {
		return err
	}
	work, pbx, cleanup, err := interop.BenchWorkDir(ctx, "regbench", o.pbx, o.keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	var args []string
	if o.profile != "" {
		args = append(args, "--pprof")
	}
	srv, err := interop.StartBenchServer(ctx, pbx, work, args, o.serveArgs, logf)
	if err != nil {
		return err
	}
	defer srv.Stop()

	start := time.Now()
	_, accounts, err := srv.API().CreateAccounts(ctx, fmt.Sprintf("Regbench %d", time.Now().Unix()), o.accounts, 16)
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	provision := time.Since(start)
	figure("provision_devices_per_second", float64(len(accounts))/provision.Seconds(), "req/s")
	logf("%d devices (%d licences) provisioned in %s", len(accounts), (len(accounts)+4)/5, provision.Round(time.Millisecond))

	inf := filepath.Join(work, "accounts.csv")
	if err := interop.WriteInjectionFile(inf, accounts); err != nil {
		return err
	}
	scenario, err := interop.WriteScenario(work, "register.xml")
	if err != nil {
		return err
	}

	// The first pass binds every account once at a gentle rate, so the
	// measured runs refresh existing bindings as a live system mostly does.
	warm := min(1000, float64(len(accounts))/5)
	if res, err := sippRun(ctx, work, "warmup", scenario, inf, srv.SIPAddr, o.transport, warm, len(accounts)); err != nil {
		return err
	} else if !res.Clean(len(accounts)) {
		logf("warm-up at %.0f/s was not clean: %s", warm, res.Summary())
	}

	// register_per_second is the successful registrations per second of
	// the highest offered rate at which none failed (successful count over
	// the run's elapsed time in the statistics file). Above the rate the
	// server can keep pace with, answers come late and SIPp retransmits, yet
	// none may fail: register_paced_per_second is the highest figure of a
	// clean run that achieved at least keepPace of its offered rate.
	const keepPace = 0.95
	var firstFailed int64 = -1
	found := false
	for rate := o.rate; rate >= o.minRate; rate = float64(int(rate * 0.8)) {
		if rate != o.rate {
			time.Sleep(3 * time.Second) // let the server drain the previous run
		}
		calls := int(rate * o.duration.Seconds())
		profiled := make(chan error, 1)
		if path := o.profile; path != "" {
			go func() { profiled <- fetchProfile(ctx, srv.HTTPURL, path, o.duration) }()
			o.profile = ""
		} else {
			profiled <- nil
		}
		cpu0, cpuErr := interop.ProcessCPU(srv.Pid)
		res, err := sippRun(ctx, work, fmt.Sprintf("rate-%.0f", rate), scenario, inf, srv.SIPAddr, o.transport, rate, calls)
		if err != nil {
			return err
		}
		cpu1, cpuErr2 := interop.ProcessCPU(srv.Pid)
		if err := <-profiled; err != nil {
			logf("cpu profile: %v", err)
		}
		elapsed := res.Stats.Elapsed.Seconds()
		achieved := float64(res.Stats.Successful) / elapsed
		logf("offered %.0f/s, %d registrations: %s -> %.0f successful/s; CPU: sipp %.0f%%, pbx %s; mean REGISTER-to-200 %s",
			rate, calls, res.Summary(), achieved, 100*res.CPU.Seconds()/elapsed, cpuPercent(cpu0, cpu1, errors.Join(cpuErr, cpuErr2), elapsed),
			res.Stats.Columns["ResponseTime1(C)"])
		if firstFailed < 0 {
			firstFailed = res.Stats.Failed
		}
		if !res.Clean(calls) {
			continue
		}
		if !found {
			found = true
			figure("register_per_second", achieved, "req/s")
			figure("register_failed", 0, "count")
			figure("register_offered_per_second", rate, "req/s")
			figure("register_retransmissions", float64(res.Stats.Retransmissions), "count")
			if cpuErr == nil && cpuErr2 == nil {
				figure("register_server_cpu_percent", 100*(cpu1-cpu0).Seconds()/elapsed, "%")
			}
			figure("register_sipp_cpu_percent", 100*res.CPU.Seconds()/elapsed, "%")
		}
		if achieved >= keepPace*rate {
			figure("register_paced_per_second", achieved, "req/s")
			figure("register_paced_retransmissions", float64(res.Stats.Retransmissions), "count")
			return nil
		}
	}
	if !found {
		figure("register_per_second", 0, "req/s")
		figure("register_failed", float64(max(firstFailed, 0)), "count")
		return fmt.Errorf("no run without failures at or above %.0f registrations per second", o.minRate)
	}
	return fmt.Errorf("no run kept pace at or above %.0f registrations per second", o.minRate)
}

func cpuPercent(a, b time.Duration, err error, elapsed float64) string {
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.0f%%", 100*(b-a).Seconds()/elapsed)
}

func sippRun(ctx context.Context, work, name, scenario, inf, target, transport string, rate float64, calls int) (*interop.SIPpResult, error) {
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := interop.LoadRun(interop.SIPp{Scenario: scenario, Target: target, Transport: transport, Injection: inf, Dir: dir},
		rate, calls, 60*time.Second)
	res, err := p.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("sipp %s: %w", name, err)
	}
	return res, nil
}

// fetchProfile saves a CPU profile of the server (started with --pprof)
// taken over most of a run of length d.
func fetchProfile(ctx context.Context, base, path string, d time.Duration) error {
	secs := max(1, int(d.Seconds())-1)
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	logf("cpu profile of the server written to %s (go tool pprof -top %s)", path, path)
	return f.Close()
}

func figure(name string, value float64, unit string) {
	interop.PrintFigure(name, value, unit, 10)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "regbench: "+format+"\n", args...)
}
