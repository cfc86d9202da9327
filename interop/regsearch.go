package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RegisterSearch is the REGISTER benchmark of cmd/regbench and
// cmd/peerbench: SIPp's REGISTER-with-digest scenario over a set of
// accounts against a registrar, first once over every account at a gentle
// rate (so that the measured runs refresh existing bindings, as a live
// system mostly does), then at a falling offered rate until a run has no
// failure and one keeps pace.
type RegisterSearch struct {
	Name      string // of the registrar, for the progress lines
	Work      string // directory of the SIPp files, one subdirectory per run
	Scenario  string
	Injection string
	Accounts  int
	Target    string // host:port
	Transport string // SIPp transport mode
	Rate      float64
	MinRate   float64
	Duration  time.Duration // of each measured run
	// CPU is the registrar's CPU time so far (all its processes).
	CPU func() (time.Duration, error)
	// During, when set, runs alongside the first measured run (a profile).
	During func(ctx context.Context) error
	Logf   func(format string, args ...any)
}

// RegisterResult is what a search found. PerSecond is the successful
// registrations per second (successful count over the run's elapsed time)
// of the highest offered rate at which none failed and SIPp retransmitted
// nothing: a step with retransmissions is overloaded (answers came late),
// whatever it achieved. Paced is the highest figure of a run without
// failure that achieved at least KeepPace of its offered rate. Steps lists
// every measured run, highest rate first.
type RegisterResult struct {
	Steps           []RegisterStep
	Found           bool
	PerSecond       float64
	Offered         float64
	Retransmissions int64
	ServerCPU       float64 // percent of one core; -1 when unknown
	SIPpCPU         float64 // percent of one core
	FirstFailed     int64   // failures of the first run
	Paced           bool
	PacedPerSecond  float64
	PacedRetrans    int64
}

// RegisterStep is one measured run of a search.
type RegisterStep struct {
	Offered, Achieved float64 // registrations per second
	Failed, Retrans   int64
}

// Overloaded: the registrar dropped or answered late some of the step's
// registrations.
func (s RegisterStep) Overloaded() bool { return s.Failed > 0 || s.Retrans > 0 }

// KeepPace is the share of its offered rate a run must achieve to count
// as keeping pace.
const KeepPace = 0.95

// Run performs the search. It returns an error when SIPp cannot run.
func (s RegisterSearch) Run(ctx context.Context) (RegisterResult, error) {
	res := RegisterResult{FirstFailed: -1}
	warm := min(1000, float64(s.Accounts)/5)
	if r, err := s.sipp(ctx, "warmup", warm, s.Accounts); err != nil {
		return res, err
	} else if !r.Clean(s.Accounts) {
		s.Logf("%s: warm-up at %.0f/s was not clean: %s", s.Name, warm, r.Summary())
	}
	during := s.During
	for rate := s.Rate; rate >= s.MinRate; rate = float64(int(rate * 0.8)) {
		if rate != s.Rate {
			time.Sleep(3 * time.Second) // let the registrar drain the previous run
		}
		calls := int(rate * s.Duration.Seconds())
		side := make(chan error, 1)
		if during != nil {
			go func(f func(context.Context) error) { side <- f(ctx) }(during)
			during = nil
		} else {
			side <- nil
		}
		cpu0, cpuErr := s.CPU()
		r, err := s.sipp(ctx, fmt.Sprintf("rate-%.0f", rate), rate, calls)
		if err != nil {
			return res, err
		}
		cpu1, cpuErr2 := s.CPU()
		if err := <-side; err != nil {
			s.Logf("%s: %v", s.Name, err)
		}
		elapsed := r.Stats.Elapsed.Seconds()
		achieved := float64(r.Stats.Successful) / elapsed
		serverCPU := -1.0
		if errors.Join(cpuErr, cpuErr2) == nil {
			serverCPU = 100 * (cpu1 - cpu0).Seconds() / elapsed
		}
		s.Logf("%s: offered %.0f/s, %d registrations: %s -> %.0f successful/s; CPU: sipp %.0f%%, server %.0f%%; mean REGISTER-to-200 %s",
			s.Name, rate, calls, r.Summary(), achieved, 100*r.CPU.Seconds()/elapsed, serverCPU, r.Stats.Columns["ResponseTime1(C)"])
		if res.FirstFailed < 0 {
			res.FirstFailed = r.Stats.Failed
		}
		failed := r.Stats.Failed
		if !r.Clean(calls) && failed == 0 {
			failed = int64(calls) - r.Stats.Successful // calls that never ended
		}
		step := RegisterStep{Offered: rate, Achieved: achieved, Failed: failed, Retrans: r.Stats.Retransmissions}
		res.Steps = append(res.Steps, step)
		if !r.Clean(calls) {
			continue
		}
		if !res.Paced && achieved >= KeepPace*rate {
			res.Paced, res.PacedPerSecond, res.PacedRetrans = true, achieved, r.Stats.Retransmissions
		}
		if !step.Overloaded() {
			res.Found, res.PerSecond, res.Offered, res.Retransmissions = true, achieved, rate, r.Stats.Retransmissions
			res.ServerCPU, res.SIPpCPU = serverCPU, 100*r.CPU.Seconds()/elapsed
			return res, nil
		}
	}
	return res, nil
}

func (s RegisterSearch) sipp(ctx context.Context, name string, rate float64, calls int) (*SIPpResult, error) {
	dir := filepath.Join(s.Work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := LoadRun(SIPp{Scenario: s.Scenario, Target: s.Target, Transport: s.Transport, Injection: s.Injection, Dir: dir},
		rate, calls, 60*time.Second)
	r, err := p.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("sipp %s: %w", name, err)
	}
	return r, nil
}

// MaxRunTime bounds how long Run takes: the warm-up and every step down
// to MinRate, each with its pause and SIPp's closing grace.
func (s RegisterSearch) MaxRunTime() time.Duration {
	warm := min(1000, float64(s.Accounts)/5)
	total := time.Duration(float64(s.Accounts)/warm*float64(time.Second)) + 10*time.Second
	for rate := s.Rate; rate >= s.MinRate; rate = float64(int(rate * 0.8)) {
		total += s.Duration + 3*time.Second + 5*time.Second
	}
	return total
}

// Print prints the figures of a search, each name with suffix ("" or
// "_kamailio", say), as "name value unit" lines: the headline first, then
// each step, the overloaded ones (failures or retransmissions) named so.
func (r RegisterResult) Print(suffix string) {
	defer func() {
		for _, st := range r.Steps {
			name := fmt.Sprintf("register_step_%.0f", st.Offered)
			if st.Overloaded() {
				name += "_overloaded"
			}
			PrintFigure(name+"_per_second"+suffix, st.Achieved, "req/s", 10)
		}
	}()
	if !r.Found {
		PrintFigure("register_per_second"+suffix, 0, "req/s", 10)
		PrintFigure("register_failed"+suffix, float64(max(r.FirstFailed, 0)), "count", 10)
		return
	}
	PrintFigure("register_per_second"+suffix, r.PerSecond, "req/s", 10)
	PrintFigure("register_failed"+suffix, 0, "count", 10)
	PrintFigure("register_offered_per_second"+suffix, r.Offered, "req/s", 10)
	PrintFigure("register_retransmissions"+suffix, float64(r.Retransmissions), "count", 10)
	if r.ServerCPU >= 0 {
		PrintFigure("register_server_cpu_percent"+suffix, r.ServerCPU, "%", 10)
	}
	PrintFigure("register_sipp_cpu_percent"+suffix, r.SIPpCPU, "%", 10)
	if r.Paced {
		PrintFigure("register_paced_per_second"+suffix, r.PacedPerSecond, "req/s", 10)
		PrintFigure("register_paced_retransmissions"+suffix, float64(r.PacedRetrans), "count", 10)
	}
}
