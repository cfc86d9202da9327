package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// CallRateSearch finds the call setup rate a SIP server sustains without a
// single failure or retransmission (a step where SIPp retransmitted was
// answered late: it is overloaded, whatever it achieved): SIPp callees register from one port (register.xml), then
// SIPp callers (uac_call_nomedia.xml: 407 challenge, authenticated INVITE,
// 200, ACK, 100 ms, BYE) call them at each rate in turn, and the search
// stops at the first rate with a failure or that the run no longer keeps
// pace with. The server is the pbx (a B2BUA: two legs per call) or
// Kamailio as a stateful authenticating proxy (interop/kamailio/proxy.cfg).
type CallRateSearch struct {
	Name    string // for the log: "pbx", "kamailio"
	Work    string // directory of the SIPp files
	Target  string // host:port of the server's SIP UDP listener
	Callers []CallAccount
	Callees []CallAccount
	Rates   []float64     // offered rates, rising
	RateRun time.Duration // length of each run at its offered rate
	// CPU returns the server's CPU time so far (nil: not measured).
	CPU func() (time.Duration, error)
	// During, when set, runs alongside the first rate's run (a profile).
	During func(ctx context.Context) error
	Logf   func(format string, args ...any)
}

// CallRateResult is the fastest run with neither failure nor
// retransmission, and every step run.
type CallRateResult struct {
	Steps           []CallRateStep
	PerSecond       float64 // successful calls per second
	Offered         float64
	Retransmissions int64
	CPUPerCall      time.Duration
	ServerCPU       float64 // percent of one core
}

// CallRateStep is one run of a search.
type CallRateStep struct {
	Offered, Achieved float64 // calls per second
	Retransmissions   int64   // of the caller and the callee SIPp
}

// Print writes the figures with the given name suffix ("", "_kamailio"):
// the headline, then each step, the overloaded ones named so.
func (r *CallRateResult) Print(suffix string) {
	defer func() {
		for _, st := range r.Steps {
			name := fmt.Sprintf("calls_step_%.0f", st.Offered)
			if st.Retransmissions > 0 {
				name += "_overloaded"
			}
			PrintFigure(name+"_per_second"+suffix, st.Achieved, "calls/s", 10)
		}
	}()
	PrintFigure("calls_per_second"+suffix, r.PerSecond, "calls/s", 10)
	PrintFigure("calls_offered_per_second"+suffix, r.Offered, "calls/s", 10)
	PrintFigure("calls_retransmissions"+suffix, float64(r.Retransmissions), "count", 1)
	PrintFigure("cpu_per_call"+suffix, float64(r.CPUPerCall.Microseconds()), "us", 1)
}

// Run runs the search; it fails when no rate ran clean.
func (s CallRateSearch) Run(ctx context.Context) (*CallRateResult, error) {
	if err := RequireSIPp(); err != nil {
		return nil, err
	}
	logf := s.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(s.Work, 0o755); err != nil {
		return nil, err
	}
	port, err := FreeUDPPort()
	if err != nil {
		return nil, err
	}
	reg, err := RegisterFromPort(ctx, s.Target, s.Work, s.Callees, port, 200)
	if err != nil {
		return nil, err
	}
	if !reg.Clean(len(s.Callees)) {
		return nil, fmt.Errorf("%s: registering the callees: %s\n%s", s.Name, reg.Summary(), reg.Diagnostics())
	}
	inf := filepath.Join(s.Work, "calls.csv")
	if err := WriteCallInjection(inf, s.Callers, s.Callees); err != nil {
		return nil, err
	}
	uasScenario, err := WriteScenario(s.Work, "uas_call.xml")
	if err != nil {
		return nil, err
	}
	uacScenario, err := WriteScenario(s.Work, "uac_call_nomedia.xml")
	if err != nil {
		return nil, err
	}
	var best *CallRateResult
	var steps []CallRateStep
	for _, rate := range s.Rates {
		if ctx.Err() != nil {
			break
		}
		calls := int(rate * s.RateRun.Seconds())
		var cpu0, cpu1 time.Duration
		if s.CPU != nil {
			cpu0, _ = s.CPU()
		}
		side := make(chan error, 1)
		if during := s.During; during != nil {
			s.During = nil
			go func() { side <- during(ctx) }()
		} else {
			side <- nil
		}
		uac, uas, err := s.calls(ctx, filepath.Join(s.Work, fmt.Sprintf("rate-%.0f", rate)), uacScenario, uasScenario, inf, port, rate, calls)
		if s.CPU != nil {
			cpu1, _ = s.CPU()
		}
		if err := <-side; err != nil {
			logf("%s: %v", s.Name, err)
		}
		if err != nil {
			logf("%s: rate %.0f/s: %v", s.Name, rate, err)
			break
		}
		elapsed := uac.Stats.Elapsed.Seconds()
		achieved := float64(uac.Stats.Successful) / elapsed
		cpu := cpu1 - cpu0
		logf("%s: offered %.0f calls/s, %d calls: caller %s; callee %s -> %.0f successful calls/s; server CPU %.0f%%, SIPp CPU %.0f%%+%.0f%%",
			s.Name, rate, calls, uac.Summary(), uas.Summary(), achieved, 100*cpu.Seconds()/elapsed,
			100*uac.CPU.Seconds()/elapsed, 100*uas.CPU.Seconds()/elapsed)
		if !uac.Clean(calls) || !uas.Clean(calls) {
			logf("%s: rate %.0f/s had failures: stopping here", s.Name, rate)
			if d := uac.Diagnostics(); d != "" {
				logf("caller SIPp:\n%s", lastLines(d, 20))
			}
			break
		}
		retrans := uac.Stats.Retransmissions + uas.Stats.Retransmissions
		steps = append(steps, CallRateStep{Offered: rate, Achieved: achieved, Retransmissions: retrans})
		if retrans == 0 && (best == nil || achieved > best.PerSecond) {
			best = &CallRateResult{PerSecond: achieved, Offered: rate, Retransmissions: uac.Stats.Retransmissions,
				ServerCPU: 100 * cpu.Seconds() / elapsed}
			if n := uac.Stats.Successful; n > 0 {
				best.CPUPerCall = cpu / time.Duration(n)
			}
		}
		if achieved < 0.9*rate {
			logf("%s: rate %.0f/s: SIPp or the server no longer keeps pace: stopping here", s.Name, rate)
			break
		}
	}
	if best == nil {
		return &CallRateResult{Steps: steps}, fmt.Errorf("%s: no call rate ran without failures and retransmissions", s.Name)
	}
	best.Steps = steps
	return best, nil
}

// calls runs the callee SIPp and the caller SIPp for calls calls each.
func (s CallRateSearch) calls(ctx context.Context, dir, uacScenario, uasScenario, inf string, port int, rate float64, calls int) (*SIPpResult, *SIPpResult, error) {
	timeout := RunTime(rate, calls) + 30*time.Second
	uasMP, err := FreeUDPPort()
	if err != nil {
		return nil, nil, err
	}
	uacMP, err := FreeUDPPort()
	for err == nil && uacMP&^1 == uasMP&^1 {
		uacMP, err = FreeUDPPort()
	}
	if err != nil {
		return nil, nil, err
	}
	uas := SIPp{Scenario: uasScenario, Target: s.Target, Rate: 1, Calls: calls, Timeout: timeout + 15*time.Second,
		Args: []string{"-p", strconv.Itoa(port), "-mp", strconv.Itoa(uasMP &^ 1), "-buff_size", "8388608"}}
	uac := LoadRun(SIPp{Scenario: uacScenario, Target: s.Target, Injection: inf}, rate, calls, 30*time.Second,
		"-mp", strconv.Itoa(uacMP&^1), "-d", "100")
	run, err := RunSIPpCalls(ctx, dir, uas, uac, timeout+45*time.Second)
	if run == nil {
		return nil, nil, err
	}
	if err == nil {
		err = run.UASErr
	}
	if err == nil && run.UAS == nil {
		err = errors.New("the callee SIPp left no result")
	}
	return run.UAC, run.UAS, err
}
