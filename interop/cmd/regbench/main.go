// Command regbench measures how many SIP registrations per second the pbx
// sustains with zero failures: it builds and starts the server, provisions
// accounts through the REST API, then runs SIPp's REGISTER-with-digest
// scenario (a challenged REGISTER, then an authenticated one, per
// registration) over those accounts, lowering the offered rate until a run
// has neither a failure nor a retransmission: that run's rate is the
// headline, and every step is printed, the overloaded ones named so.
//
// Figures go to stdout, one per line as "name value unit"; progress and
// diagnostics go to stderr. `make bench` runs it and ignores its exit status.
package main

import (
	"context"
	"flag"
	"fmt"
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
	flag.Float64Var(&o.rate, "rate", 14000, "first offered rate, registrations per second")
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
	// Building, provisioning (about 1,000 devices a second) and a few
	// steps is the usual run; every step down to -min-rate the longest.
	bound := interop.RegisterSearch{Accounts: o.accounts, Rate: o.rate, MinRate: o.minRate, Duration: o.duration}.MaxRunTime()
	setup := time.Minute + time.Duration(o.accounts)*time.Millisecond
	logf("expected run time: about %s, at most %s", (setup + 4*(o.duration+8*time.Second)).Round(time.Minute),
		(setup + bound).Round(time.Minute))
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

	search := interop.RegisterSearch{Name: "pbx", Work: work, Scenario: scenario, Injection: inf, Accounts: len(accounts),
		Target: srv.SIPAddr, Transport: o.transport, Rate: o.rate, MinRate: o.minRate, Duration: o.duration,
		CPU: func() (time.Duration, error) { return interop.ProcessCPU(srv.Pid) }, Logf: logf}
	if path := o.profile; path != "" {
		search.During = func(ctx context.Context) error {
			return interop.FetchCPUProfile(ctx, srv.HTTPURL, path, o.duration, logf)
		}
	}
	res, err := search.Run(ctx)
	if err != nil {
		return err
	}
	res.Print("")
	switch {
	case !res.Found:
		return fmt.Errorf("no run without failures at or above %.0f registrations per second", o.minRate)
	case !res.Paced:
		return fmt.Errorf("no run kept pace at or above %.0f registrations per second", o.minRate)
	}
	return nil
}

func figure(name string, value float64, unit string) {
	interop.PrintFigure(name, value, unit, 10)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "regbench: "+format+"\n", args...)
}
