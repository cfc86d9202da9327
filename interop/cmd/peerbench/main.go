// Command peerbench compares the pbx's registrar with Kamailio's on this
// machine, in one run: it starts `pbx serve`, provisions accounts through
// the REST API and measures REGISTER/s with SIPp (the search of regbench);
// then it stops the pbx, starts Kamailio with interop/kamailio/registrar.cfg
// (digest authentication against a database of the same accounts, bindings
// in memory) and measures it with the same scenario and search.
//
// Then calls: the pbx's call setup rate (interop.CallRateSearch: SIPp
// callers with INVITE authentication to registered SIPp callees, rising
// rates, the fastest run without a failure), measured on the pbx before it
// stops, and the same search through Kamailio as a stateful proxy
// authenticating INVITEs (interop/kamailio/proxy.cfg), printed with the
// suffix _kamailio and as cps_ratio_to_kamailio.
//
// Figures go to stdout, one per line as "name value unit": the pbx's under
// regbench's names, Kamailio's with the suffix _kamailio, and
// register_ratio_to_kamailio and cps_ratio_to_kamailio (the pbx's figure
// over Kamailio's). Progress
// goes to stderr. `make bench-peers` runs it and ignores its exit status.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
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
		proxyConf = flag.String("kamailio-proxy-config", "interop/kamailio/proxy.cfg", "Kamailio configuration of the calls comparison")
		pairs     = flag.Int("call-pairs", 200, "caller/callee pairs of the calls comparison")
		rateList  = flag.String("call-rates", "500,750,1000,1250,1500,2000", "call rates tried, calls/s")
		rateRun   = flag.Duration("call-rate-run", 5*time.Second, "length of each SIPp run at one call rate")
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

	srv, err := interop.StartBenchServer(ctx, bin, work, []string{"--rtp-ports", "2000-32767", "--log-level", "warn"}, *serveArgs, logf)
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
	rates, err := parseRates(*rateList)
	if err != nil {
		return err
	}
	_, callAccs, err := srv.API().CreateCallAccounts(ctx, fmt.Sprintf("Peerbench calls %d", time.Now().Unix()), 2*(*pairs), 16,
		interop.CallAccountNaming{FirstExtension: 700000, FirstName: "Peer", EmailPrefix: "p", EmailDomain: "peer.example"})
	if err != nil {
		return fmt.Errorf("provisioning the call accounts: %w", err)
	}
	callers, callees := callAccs[:*pairs], callAccs[*pairs:]
	calls := interop.CallRateSearch{Callers: callers, Rates: rates, RateRun: *rateRun, Logf: logf}
	pbxCalls := calls
	pbxCalls.Name, pbxCalls.Work, pbxCalls.Target, pbxCalls.Callees = "pbx", filepath.Join(work, "calls-pbx"), srv.SIPAddr, callees
	pbxCalls.CPU = pbxSearch.CPU
	pbxCallRes, err := pbxCalls.Run(ctx)
	if err != nil {
		logf("%v", err)
	}
	// One server at a time on the machine's cores.
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

	// Calls: Kamailio as a stateful proxy authenticating INVITEs. It
	// routes by the callee's registered username, so the callers dial
	// that rather than the pbx's extension.
	proxy, err := interop.StartKamailio(ctx, interop.KamailioConfig{Config: *proxyConf, Dir: filepath.Join(work, "kamailio-proxy"), Accounts: interop.Accounts(callAccs)})
	if err != nil {
		return err
	}
	defer proxy.Stop()
	kamCallees := append([]interop.CallAccount(nil), callees...)
	for i := range kamCallees {
		kamCallees[i].Extension = kamCallees[i].Username
	}
	kamCalls := calls
	kamCalls.Name, kamCalls.Work, kamCalls.Target, kamCalls.Callees, kamCalls.CPU = "kamailio", filepath.Join(work, "calls-kamailio"), proxy.SIPAddr, kamCallees, proxy.CPU
	kamCallRes, err := kamCalls.Run(ctx)
	if err != nil {
		logf("%v", err)
	}
	proxy.Stop()
	if pbxCallRes != nil {
		pbxCallRes.Print("")
	}
	if kamCallRes != nil {
		kamCallRes.Print("_kamailio")
	}
	if pbxCallRes != nil && kamCallRes != nil && kamCallRes.PerSecond > 0 {
		interop.PrintFigure("cps_ratio_to_kamailio", pbxCallRes.PerSecond/kamCallRes.PerSecond, "ratio", 1000)
	}
	return nil
}

func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-call-rates: %q is not a rate", f)
		}
		out = append(out, r)
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "peerbench: "+format+"\n", args...)
}
