package interop

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed scenarios/*.xml
var scenarios embed.FS

// WriteScenario copies the embedded scenario name (say "register.xml") into
// dir and returns its path, so SIPp finds it whatever the working directory.
func WriteScenario(dir, name string) (string, error) {
	b, err := scenarios.ReadFile("scenarios/" + name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b, 0o644)
}

// SIPp is one run of the SIPp traffic generator as a UAC.
type SIPp struct {
	Binary      string        // default "sipp"
	Scenario    string        // path of the scenario XML
	Target      string        // host:port of the server
	Transport   string        // -t: u1 (default, one UDP socket), un, t1, tn
	Injection   string        // -inf: injection file
	Rate        float64       // -r: calls per RatePeriod
	RatePeriod  time.Duration // -rp (default 1s)
	Calls       int           // -m: stop after this many calls
	Limit       int           // -l: most simultaneous calls (0: SIPp's default)
	Timeout     time.Duration // -timeout: SIPp's own limit; Go kills it 30s later
	RecvTimeout time.Duration // -recv_timeout: a call waiting longer fails (default 20s)
	Dir         string        // working directory for statistics, errors and screen
	LocalIP     string        // -i: the address SIPp sends from (default 127.0.0.1; a carrier's 127.0.0.2)
	Args        []string      // further SIPp options
}

// SIPpResult is what a run left behind.
type SIPpResult struct {
	Stats      SIPpStats
	ExitCode   int           // for information only: SIPp exits 0 when any call succeeded
	CPU        time.Duration // user+system CPU time SIPp itself used
	StatsFile  string        // -stf
	ErrorFile  string        // -error_file
	ScreenFile string        // stdout and stderr
}

// Clean reports whether every one of want calls succeeded.
func (r *SIPpResult) Clean(want int) bool {
	return r.Stats.Successful == int64(want) && r.Stats.Failed == 0
}

// Summary is a one-line account of the run.
func (r *SIPpResult) Summary() string {
	s := r.Stats
	return fmt.Sprintf("created=%d successful=%d failed=%d retransmissions=%d timeouts_on_recv=%d unexpected=%d elapsed=%s exit=%d",
		s.Created, s.Successful, s.Failed, s.Retransmissions, s.Col("FailedTimeoutOnRecv(C)"), s.Col("FailedUnexpectedMessage(C)"),
		s.Elapsed.Round(time.Millisecond), r.ExitCode)
}

// Diagnostics returns the tail of SIPp's error file and screen, for a failure message.
func (r *SIPpResult) Diagnostics() string {
	var b strings.Builder
	for _, f := range []string{r.ErrorFile, r.ScreenFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "--- %s (tail) ---\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

// Run starts SIPp and waits for it. The result is judged from the
// statistics file; err is only about SIPp not running or leaving no
// statistics (a Go-side deadline of Timeout+30s kills a hung SIPp).
func (p SIPp) Run(ctx context.Context) (*SIPpResult, error) {
	if p.Binary == "" {
		p.Binary = "sipp"
	}
	if p.Transport == "" {
		p.Transport = "u1"
	}
	if p.RatePeriod <= 0 {
		p.RatePeriod = time.Second
	}
	if p.RecvTimeout <= 0 {
		p.RecvTimeout = 20 * time.Second
	}
	if p.Timeout <= 0 {
		return nil, errors.New("sipp: Timeout is required (every run is bounded)")
	}
	if p.Calls <= 0 {
		return nil, errors.New("sipp: Calls is required (every run is bounded)")
	}
	if p.Dir == "" {
		return nil, errors.New("sipp: Dir is required")
	}
	if p.LocalIP == "" {
		p.LocalIP = "127.0.0.1"
	}
	res := &SIPpResult{
		StatsFile:  filepath.Join(p.Dir, "sipp-stats.csv"),
		ErrorFile:  filepath.Join(p.Dir, "sipp-errors.log"),
		ScreenFile: filepath.Join(p.Dir, "sipp-screen.log"),
	}
	for _, f := range []string{res.StatsFile, res.ErrorFile} {
		os.Remove(f)
	}
	args := []string{p.Target, "-sf", p.Scenario, "-t", p.Transport,
		"-r", strconv.FormatFloat(p.Rate, 'f', -1, 64), "-rp", strconv.FormatInt(p.RatePeriod.Milliseconds(), 10),
		"-m", strconv.Itoa(p.Calls),
		"-timeout", strconv.Itoa(int(p.Timeout.Round(time.Second)/time.Second)) + "s",
		"-recv_timeout", strconv.FormatInt(p.RecvTimeout.Milliseconds(), 10),
		"-i", p.LocalIP, // local address: loopback only
		"-nd",      // no default BYE/CANCEL on an aborted call: these are not dialogs
		"-nostdin", // no keyboard
		"-trace_stat", "-stf", res.StatsFile, "-fd", "1",
		"-trace_err", "-error_file", res.ErrorFile,
	}
	if p.Injection != "" {
		args = append(args, "-inf", p.Injection)
	}
	if p.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(p.Limit))
	}
	args = append(args, p.Args...)
	screen, err := os.Create(res.ScreenFile)
	if err != nil {
		return nil, err
	}
	defer screen.Close()
	ctx, cancel := context.WithTimeout(ctx, p.Timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Binary, args...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = screen, screen
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(screen, "=== %s %s\n", p.Binary, strings.Join(args, " "))
	runErr := cmd.Run()
	if ps := cmd.ProcessState; ps != nil {
		res.CPU = ps.UserTime() + ps.SystemTime()
	}
	var exit *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		return res, fmt.Errorf("sipp: %w", runErr)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sipp: killed after the Go-side deadline of %s", p.Timeout+30*time.Second)
	}
	data, err := os.ReadFile(res.StatsFile)
	if err != nil {
		return res, fmt.Errorf("sipp left no statistics (exit %d): %w\n%s", res.ExitCode, err, res.Diagnostics())
	}
	res.Stats, err = ParseSIPpStats(data)
	if err != nil {
		return res, fmt.Errorf("sipp statistics %s: %w\n%s", res.StatsFile, err, res.Diagnostics())
	}
	return res, nil
}

// SIPpStats is the last line of a SIPp statistics file (-trace_stat).
type SIPpStats struct {
	Successful      int64 // SuccessfulCall(C)
	Failed          int64 // FailedCall(C)
	Created         int64 // TotalCallCreated
	Retransmissions int64 // Retransmissions(C)
	// Elapsed runs from StartTime to CurrentTime of the last line, with the
	// microsecond precision of their epoch parts (ElapsedTime(C) has only
	// whole seconds).
	Elapsed time.Duration
	Columns map[string]string
}

// Col returns a counter column of the last line, 0 when absent or not a number.
func (s SIPpStats) Col(name string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(s.Columns[name]), 10, 64)
	return v
}

// ParseSIPpStats reads a SIPp statistics file: a header of `;`-separated
// column names, then one line per dump; the last line holds the totals.
func ParseSIPpStats(data []byte) (SIPpStats, error) {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return SIPpStats{}, fmt.Errorf("want a header and at least one line of counters, found %d lines", len(lines))
	}
	names := strings.Split(lines[0], ";")
	values := strings.Split(lines[len(lines)-1], ";")
	s := SIPpStats{Columns: make(map[string]string, len(names))}
	for i, n := range names {
		if n = strings.TrimSpace(n); n != "" && i < len(values) {
			s.Columns[n] = values[i]
		}
	}
	for _, c := range []struct {
		name string
		dst  *int64
	}{
		{"SuccessfulCall(C)", &s.Successful},
		{"FailedCall(C)", &s.Failed},
		{"TotalCallCreated", &s.Created},
		{"Retransmissions(C)", &s.Retransmissions},
	} {
		v, ok := s.Columns[c.name]
		if !ok {
			return s, fmt.Errorf("no column %s in %q", c.name, truncate(lines[0], 200))
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return s, fmt.Errorf("column %s: %q is not a count", c.name, v)
		}
		*c.dst = n
	}
	start, err1 := sippEpoch(s.Columns["StartTime"])
	now, err2 := sippEpoch(s.Columns["CurrentTime"])
	if err := errors.Join(err1, err2); err != nil {
		return s, err
	}
	s.Elapsed = now.Sub(start)
	return s, nil
}

// sippEpoch reads SIPp's time format "2026-11-23<TAB>20:01:05.271276<TAB>1795464065.271276".
func sippEpoch(v string) (time.Time, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return time.Time{}, fmt.Errorf("time %q: empty", v)
	}
	sec, frac, _ := strings.Cut(f[len(f)-1], ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", v, err)
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", v, err)
		}
	}
	return time.Unix(s, us*1000), nil
}

// RegisterFromPort registers accounts with register.xml from the local UDP
// port port, at rate registrations per second, so that the pbx sends their
// calls to whatever listens there afterwards. The injection file and the
// scenario go into dir, SIPp's files into dir/register; the caller judges
// the result.
func RegisterFromPort(ctx context.Context, target, dir string, accounts []CallAccount, port int, rate float64) (*SIPpResult, error) {
	inf := filepath.Join(dir, "callees.csv")
	if err := WriteInjectionFile(inf, Accounts(accounts)); err != nil {
		return nil, err
	}
	scenario, err := WriteScenario(dir, "register.xml")
	if err != nil {
		return nil, err
	}
	rdir := filepath.Join(dir, "register")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return nil, err
	}
	return SIPp{Scenario: scenario, Target: target, Injection: inf, Rate: rate, Calls: len(accounts),
		Timeout: 60 * time.Second, Dir: rdir, Args: []string{"-p", strconv.Itoa(port)}}.Run(ctx)
}

// SIPpCallRun is a SIPp caller and a SIPp callee run together.
type SIPpCallRun struct {
	UAC, UAS *SIPpResult
	UASErr   error // the callee run's error (RunSIPpCalls returns the caller's)
}

// RunSIPpCalls runs a SIPp callee (uas) and a SIPp caller (uac) together,
// in dir/uas and dir/uac (it sets their Dir): the callee starts first and
// has half a second to bind its port before the caller starts; once the
// caller has ended, the callee has at most wait to end by itself before it
// is stopped. The error is the caller run's.
func RunSIPpCalls(ctx context.Context, dir string, uas, uac SIPp, wait time.Duration) (*SIPpCallRun, error) {
	uas.Dir, uac.Dir = filepath.Join(dir, "uas"), filepath.Join(dir, "uac")
	for _, d := range []string{uas.Dir, uac.Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	out := &SIPpCallRun{}
	uasDone := make(chan struct{})
	uasCtx, cancelUAS := context.WithCancel(ctx)
	defer cancelUAS()
	go func() {
		defer close(uasDone)
		out.UAS, out.UASErr = uas.Run(uasCtx)
	}()
	// Give the callee a moment to bind its port before calls arrive.
	time.Sleep(500 * time.Millisecond)
	res, err := uac.Run(ctx)
	out.UAC = res
	select {
	case <-uasDone:
	case <-time.After(wait):
		cancelUAS()
		<-uasDone
	}
	return out, err
}

// RequireSIPp reports an error when SIPp is not installed.
func RequireSIPp() error {
	if _, err := exec.LookPath("sipp"); err != nil {
		return errors.New("sipp is not installed (Debian package sip-tester)")
	}
	return nil
}

// LoadRun fills in a SIPp run at rate calls per second for calls calls:
// its SIPp timeout is the time the calls take at that rate plus slack, at
// most twice the rate in calls at a time, and its options args, then an
// 8 MiB socket buffer.
func LoadRun(p SIPp, rate float64, calls int, slack time.Duration, args ...string) SIPp {
	p.Rate, p.Calls, p.Limit = rate, calls, int(rate*2)
	p.Timeout = RunTime(rate, calls) + slack
	p.Args = append(append([]string{}, args...), "-buff_size", "8388608")
	return p
}

// RunTime is how long calls calls take at rate calls per second.
func RunTime(rate float64, calls int) time.Duration {
	return time.Duration(float64(calls) / rate * float64(time.Second))
}
