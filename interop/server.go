package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildPBX compiles cmd/pbx into out. It must run inside the module (the
// tests and `go run ./interop/cmd/regbench` do).
func BuildPBX(ctx context.Context, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "pbx/cmd/pbx")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s pbx/cmd/pbx: %w\n%s", out, err, stderr.Bytes())
	}
	return nil
}

// ServerConfig describes one `pbx serve` subprocess.
type ServerConfig struct {
	// Binary is the pbx executable (see BuildPBX).
	Binary string
	// DataDir is the data directory; it is created when missing.
	DataDir string
	// LogFile receives the server's stdout and stderr; empty means
	// DataDir + ".log".
	LogFile string
	// Args are extra `pbx serve` flags, after the ones StartServer sets (so
	// they win): "--digest", "MD5,SHA-256", "--log-level", "warn", ...
	Args []string
	// Env is added to the environment of the process.
	Env []string
	// StartTimeout bounds each start attempt (default 30s).
	StartTimeout time.Duration
}

// Server is a running `pbx serve` process listening on loopback.
type Server struct {
	SIPAddr  string // host:port, UDP and TCP
	TLSAddr  string // host:port of SIP over TLS
	HTTPURL  string // http://host:port
	HTTPSURL string // https://host:port (self-signed certificate)
	Token    string // admin bearer token (PBX_ADMIN_TOKEN)
	DataDir  string
	LogFile  string
	Pid      int

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

const startAttempts = 5

// StartServer starts pbx serve on free loopback ports and waits until
// /healthz answers. A start that fails because a probed port was taken in
// the meantime is retried with new ports.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Binary == "" {
		return nil, errors.New("interop: ServerConfig.Binary is empty")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("interop: ServerConfig.DataDir is empty")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if cfg.LogFile == "" {
		cfg.LogFile = strings.TrimRight(cfg.DataDir, string(os.PathSeparator)) + ".log"
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	token, err := randomHex(20)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := startOnce(ctx, cfg, "itok_"+token, attempt)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("a listen port was taken")

func startOnce(ctx context.Context, cfg ServerConfig, token string, attempt int) (*Server, error) {
	sipPort, err := FreeSIPPort()
	if err != nil {
		return nil, err
	}
	ports := map[int]bool{sipPort: true}
	freeTCP := func() (int, error) {
		for {
			p, err := FreeTCPPort()
			if err != nil || !ports[p] {
				ports[p] = true
				return p, err
			}
		}
	}
	tlsPort, err := freeTCP()
	if err != nil {
		return nil, err
	}
	httpPort, err := freeTCP()
	if err != nil {
		return nil, err
	}
	httpsPort, err := freeTCP()
	if err != nil {
		return nil, err
	}
	// RTP ports are bound per call, not at start-up; a random window keeps
	// concurrent servers (other test packages) apart, and staying below the
	// kernel's ephemeral range (32768 up) keeps RTP off the ports that were
	// probed free for a process about to bind them.
	n, err := rand.Int(rand.Reader, big.NewInt(11))
	if err != nil {
		return nil, err
	}
	rtpLo := 10000 + int(n.Int64())*1000
	s := &Server{
		SIPAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(sipPort)),
		TLSAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort)),
		HTTPURL:  "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		HTTPSURL: "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(httpsPort)),
		Token:    token,
		DataDir:  cfg.DataDir,
		LogFile:  cfg.LogFile,
		done:     make(chan struct{}),
	}
	// Every listener gets its own port: no default port may collide with
	// another server running at the same time.
	args := []string{"serve", "--data", cfg.DataDir, "--sip", s.SIPAddr, "--sip-tls", s.TLSAddr,
		"--http", strings.TrimPrefix(s.HTTPURL, "http://"), "--https", strings.TrimPrefix(s.HTTPSURL, "https://"),
		"--rtp-ports", fmt.Sprintf("%d-%d", rtpLo, rtpLo+999)}
	args = append(args, cfg.Args...)
	logf, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	fmt.Fprintf(logf, "=== start attempt %d: %s %s\n", attempt, cfg.Binary, strings.Join(args, " "))
	cmd := exec.Command(cfg.Binary, args...)
	// The caller's PBX_* variables must not change the server under test.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PBX_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(append(env, "PBX_ADMIN_TOKEN="+token), cfg.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	s.cmd, s.Pid = cmd, cmd.Process.Pid
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitHealthy(ctx, cfg.StartTimeout); err != nil {
		s.Stop()
		tail := s.logSince(logStart, 40)
		if strings.Contains(tail, "address already in use") {
			return nil, fmt.Errorf("%w: %v\n%s", errPortTaken, err, tail)
		}
		return nil, fmt.Errorf("pbx serve did not become healthy: %w\n--- server log (tail) ---\n%s", err, tail)
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.HTTPURL+"/healthz", nil)
		res, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("process exited: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("no healthy /healthz at %s: %w", s.HTTPURL, ctx.Err())
		case <-tick.C:
		}
	}
}

// Healthy reports whether /healthz answers 200 within a few seconds.
func (s *Server) Healthy() error {
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(s.HTTPURL + "/healthz")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", res.Status)
	}
	return nil
}

// Exited is closed when the process has ended.
func (s *Server) Exited() <-chan struct{} { return s.done }

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ExitErr is the result of waiting for the process; valid once Exited is closed.
func (s *Server) ExitErr() error {
	<-s.done
	return s.waitErr
}

// Stop asks the server to shut down (SIGTERM) and kills it when it has not
// ended after 15 seconds. It returns the process's exit error.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { terminate(s.cmd.Process, s.done, 15*time.Second) })
	return s.waitErr
}

// terminate asks a process that has not ended (done not closed) to shut
// down (SIGTERM) and kills it when it has not ended after grace; it
// returns once done is closed.
func terminate(p *os.Process, done <-chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = p.Kill()
		<-done
	}
}

// LogTail returns the last n lines of the server log.
func (s *Server) LogTail(n int) string { return s.logSince(0, n) }

// logSince returns the last n lines of the log written after offset.
func (s *Server) logSince(offset int64, n int) string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// API returns a REST client authenticated with the admin token.
func (s *Server) API() *Client { return NewClient(s.HTTPURL, s.Token) }

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// The benchmark commands (cmd/regbench, cmd/callbench) share what follows:
// a working directory with a pbx binary, a server started for load, and
// figures printed as "name value unit" (their SIPp runs: LoadRun).

// BenchWorkDir creates the working directory of a benchmark (server data
// and log, SIPp files) named after the command, and builds cmd/pbx into it
// when pbx is empty. It returns the directory, the pbx binary to run and
// a cleanup that removes the directory unless keep is set.
func BenchWorkDir(ctx context.Context, command, pbx string, keep bool, logf func(format string, args ...any)) (work, binary string, cleanup func(), err error) {
	work, err = os.MkdirTemp("", command+"-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() {}
	if keep {
		logf("working directory %s (kept)", work)
	} else {
		cleanup = func() { os.RemoveAll(work) }
	}
	if pbx == "" {
		pbx = filepath.Join(work, "pbx")
		logf("building cmd/pbx")
		if err := BuildPBX(ctx, pbx); err != nil {
			cleanup()
			return "", "", nil, err
		}
	}
	return work, pbx, cleanup, nil
}

// BenchServerArgs are the `pbx serve` flags of every benchmark: MD5 first,
// as SIPp 3.6.1 computes MD5 only; bans off, as every request comes from
// 127.0.0.1 and a failure under load must count as itself.
var BenchServerArgs = []string{"--digest", "MD5,SHA-256", "--ban-source-failures", "0", "--ban-account-failures", "0"}

// StartBenchServer starts the pbx binary with its data in work/data and
// the flags BenchServerArgs, then args, then the space-separated serveArgs
// a user gave.
func StartBenchServer(ctx context.Context, binary, work string, args []string, serveArgs string, logf func(format string, args ...any)) (*Server, error) {
	all := append(append(append([]string{}, BenchServerArgs...), args...), strings.Fields(serveArgs)...)
	srv, err := StartServer(ctx, ServerConfig{Binary: binary, DataDir: filepath.Join(work, "data"), Args: all})
	if err != nil {
		return nil, err
	}
	logf("pbx pid %d: SIP %s, HTTP %s, log %s", srv.Pid, srv.SIPAddr, srv.HTTPURL, srv.LogFile)
	return srv, nil
}

// PrintFigure prints one figure to stdout as "name value unit", the value
// rounded to 1/scale (scale 10: one decimal).
func PrintFigure(name string, value float64, unit string, scale float64) {
	fmt.Printf("%s %s %s\n", name, strconv.FormatFloat(math.Round(value*scale)/scale, 'f', -1, 64), unit)
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
