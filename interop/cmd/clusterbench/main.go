//go:build linux

// Command clusterbench measures a local cluster (interop/cluster: two pbx
// nodes on PostgreSQL behind Kamailio with deploy/kamailio/edge.cfg) with
// the searches of regbench and peerbench, next to one `pbx serve` on
// SQLite measured the same way on the same machine:
//
//	registrations_per_second_single ...   one node, SQLite
//	calls_per_second_single ...
//	registrations_per_second_cluster ...  through the edge, two nodes
//	calls_per_second_cluster ...
//
// SIPp registers the accounts and places the calls through the edge (its
// callees registered through it, so every INVITE to them goes back through
// it on their Path). Each line is "name value unit"; progress goes to
// stderr. On one machine the nodes and the edge share its cores: the
// figures say what the edge and the shared database cost, not what more
// machines would give. `make bench-cluster` runs it and ignores its exit
// status.
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
	"pbx/interop/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		os.Exit(1)
	}
}

type options struct {
	accounts          int
	rate, minRate     float64
	duration, rateRun time.Duration
	pairs             int
	rates             []float64
}

func run() error {
	var (
		pbx      = flag.String("pbx", "", "pbx binary to run (default: build cmd/pbx)")
		accounts = flag.Int("accounts", 2000, "devices to provision for the REGISTER search")
		rate     = flag.Float64("rate", 4000, "first offered rate, registrations per second")
		minRate  = flag.Float64("min-rate", 100, "give up below this rate")
		duration = flag.Duration("duration", 5*time.Second, "length of each SIPp run at the offered rate")
		pairs    = flag.Int("call-pairs", 100, "caller/callee pairs of the calls search")
		rateList = flag.String("call-rates", "50,100,200,400,800", "call rates tried, calls/s")
		rateRun  = flag.Duration("call-rate-run", 5*time.Second, "length of each SIPp run at one call rate")
		alg      = flag.String("alg", "0", "dispatcher algorithm of the edge (0: hash of the Call-ID)")
		keep     = flag.Bool("keep", false, "keep the working directory")
	)
	flag.Parse()
	rates, err := parseRates(*rateList)
	if err != nil {
		return err
	}
	o := options{accounts: *accounts, rate: *rate, minRate: *minRate, duration: *duration, rateRun: *rateRun, pairs: *pairs, rates: rates}
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
	work, bin, cleanup, err := interop.BenchWorkDir(ctx, "clusterbench", *pbx, *keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()

	// One node on SQLite first, alone on the machine.
	srv, err := interop.StartBenchServer(ctx, bin, work, []string{"--rtp-ports", "2000-32767", "--log-level", "warn"}, "", logf)
	if err != nil {
		return err
	}
	single, err := measure(ctx, o, filepath.Join(work, "single"), "single", srv.API(), srv.SIPAddr,
		func() (time.Duration, error) { return interop.ProcessCPU(srv.Pid) })
	if err := srv.Stop(); err != nil {
		logf("single node stopped: %v", err)
	}
	if err != nil {
		return err
	}

	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Dir: filepath.Join(work, "cluster"), Algorithm: *alg,
		NodeArgs: interop.BenchServerArgs, Logf: logf})
	if err != nil {
		return err
	}
	defer c.Stop()
	clustered, err := measure(ctx, o, filepath.Join(work, "cluster-sipp"), "cluster", c.Nodes[0].Server.API(), c.Edge.SIPAddr, c.CPU)
	c.Stop()
	if err != nil {
		return err
	}
	single.print("_single")
	clustered.print("_cluster")
	return nil
}

type figures struct {
	reg   interop.RegisterResult
	calls *interop.CallRateResult
}

func (f figures) print(suffix string) {
	f.reg.Print(suffix)
	if f.calls != nil {
		f.calls.Print(suffix)
	}
}

// measure provisions accounts through api and runs the REGISTER search and
// the call rate search against target.
func measure(ctx context.Context, o options, work, name string, api *interop.Client, target string, cpu func() (time.Duration, error)) (figures, error) {
	var f figures
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	_, accs, err := api.CreateAccounts(ctx, "Clusterbench "+name+" "+stamp, o.accounts, 8)
	if err != nil {
		return f, fmt.Errorf("%s: provisioning: %w", name, err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return f, err
	}
	inf := filepath.Join(work, "accounts.csv")
	if err := interop.WriteInjectionFile(inf, accs); err != nil {
		return f, err
	}
	scenario, err := interop.WriteScenario(work, "register.xml")
	if err != nil {
		return f, err
	}
	search := interop.RegisterSearch{Name: name, Work: filepath.Join(work, "register"), Scenario: scenario, Injection: inf,
		Accounts: len(accs), Target: target, Transport: "u1", Rate: o.rate, MinRate: o.minRate, Duration: o.duration, CPU: cpu, Logf: logf}
	if f.reg, err = search.Run(ctx); err != nil {
		return f, err
	}
	_, callAccs, err := api.CreateCallAccounts(ctx, "Clusterbench calls "+name+" "+stamp, 2*o.pairs, 8,
		interop.CallAccountNaming{FirstExtension: 700000, FirstName: "Bench", EmailPrefix: "c", EmailDomain: "bench.example"})
	if err != nil {
		return f, fmt.Errorf("%s: provisioning the call accounts: %w", name, err)
	}
	calls := interop.CallRateSearch{Name: name, Work: filepath.Join(work, "calls"), Target: target, Callers: callAccs[:o.pairs],
		Callees: callAccs[o.pairs:], Rates: o.rates, RateRun: o.rateRun, CPU: cpu, Logf: logf}
	res, err := calls.Run(ctx)
	if err != nil {
		logf("%s: calls: %v", name, err)
	}
	f.calls = res
	return f, nil
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
	fmt.Fprintf(os.Stderr, "clusterbench: "+format+"\n", args...)
}
