// Command peerbench compares the pbx's registrar with Kamailio's on this
// machine, in one run: it starts `pbx serve`, provisions accounts through
// the REST API and measures REGISTER/s with SIPp (the search of regbench);
// then it stops the pbx, starts Kamailio with interop/kamailio/registrar.cfg
// (digest authentication against a database of the same accounts, bindings
// in memory) and measures it with the same scenario and search.
//
// Figures go to stdout, one per line as "name value unit": the pbx's under
// regbench's names, Kamailio's with the suffix _kamailio, and
// register_ratio_to_kamailio (the pbx's figure over Kamailio's). Progress
// goes to stderr. `make bench-peers` runs it and ignores its exit status.
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
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		pbx       = flag.String("pbx", "", "pbx binary to run (default: build cmd/pbx)")
		accounts  = flag.Int("accounts", 10000, "devices to provision (and subscribers of Kamailio)")
		rate      = flag.Float64("rate", 16000, "first offered rate, registrations per second")
		minRate   = flag.Float64("min-rate", 250, "give up below this rate")
		duration  = flag.Duration("duration", 10*time.Second, "length of each SIPp run at the offered rate")
		keep      = flag.Bool("keep", false, "keep the working directory")
		serveArgs = flag.String("serve-args", "", "extra `pbx serve` flags, space-separated")
		config    = flag.String("kamailio-config", "interop/kamailio/registrar.cfg", "Kamailio configuration file")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()

	if err := interop.RequireSIPp(); err != nil {
		return err
	}
	if _, err := interop.RequireKamailio(); err != nil {
		return err
	}
	work, bin, cleanup, err := interop.BenchWorkDir(ctx, "peerbench", *pbx, *keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()

	srv, err := interop.StartBenchServer(ctx, bin, work, nil, *serveArgs, logf)
	if err != nil {
		return err
	}
	defer srv.Stop()
	start := time.Now()
	_, accs, err := srv.API().CreateAccounts(ctx, fmt.Sprintf("Peerbench %d", time.Now().Unix()), *accounts, 16)
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	logf("%d devices provisioned in %s", len(accs), time.Since(start).Round(time.Millisecond))
	inf := filepath.Join(work, "accounts.csv")
	if err := interop.WriteInjectionFile(inf, accs); err != nil {
		return err
	}
	scenario, err := interop.WriteScenario(work, "register.xml")
	if err != nil {
		return err
	}
	search := interop.RegisterSearch{Scenario: scenario, Injection: inf, Accounts: len(accs), Transport: "u1",
		Rate: *rate, MinRate: *minRate, Duration: *duration, Logf: logf}

	pbxSearch := search
	pbxSearch.Name, pbxSearch.Work, pbxSearch.Target = "pbx", filepath.Join(work, "sipp-pbx"), srv.SIPAddr
	pbxSearch.CPU = func() (time.Duration, error) { return interop.ProcessCPU(srv.Pid) }
	pbxRes, err := pbxSearch.Run(ctx)
	if err != nil {
		return err
	}
	// One registrar at a time on the machine's cores.
	if err := srv.Stop(); err != nil {
		logf("pbx stopped: %v", err)
	}

	kam, err := interop.StartKamailio(ctx, interop.KamailioConfig{Config: *config, Dir: filepath.Join(work, "kamailio"), Accounts: accs})
	if err != nil {
		return err
	}
	defer kam.Stop()
	logf("kamailio pid %d: SIP %s, log %s", kam.Pid, kam.SIPAddr, kam.LogFile)
	kamSearch := search
	kamSearch.Name, kamSearch.Work, kamSearch.Target, kamSearch.CPU = "kamailio", filepath.Join(work, "sipp-kamailio"), kam.SIPAddr, kam.CPU
	kamRes, err := kamSearch.Run(ctx)
	if err != nil {
		return err
	}
	kam.Stop()

	pbxRes.Print("")
	kamRes.Print("_kamailio")
	if kamRes.PerSecond > 0 {
		interop.PrintFigure("register_ratio_to_kamailio", pbxRes.PerSecond/kamRes.PerSecond, "ratio", 1000)
	}
	if pbxRes.Paced && kamRes.Paced && kamRes.PacedPerSecond > 0 {
		interop.PrintFigure("register_paced_ratio_to_kamailio", pbxRes.PacedPerSecond/kamRes.PacedPerSecond, "ratio", 1000)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "peerbench: "+format+"\n", args...)
}
