//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pbx/interop"
)

// Edge is the Kamailio in front of the nodes; its processes form one
// process group, stopped together.
type Edge struct {
	SIPAddr string // 127.0.0.1:port, UDP
	LogFile string
	Pid     int

	done chan struct{}
}

// startEdge writes the dispatcher list of the nodes (the first with the
// highest priority) and starts Kamailio with the edge configuration on a
// free loopback UDP port; it returns once the edge answers OPTIONS.
func startEdge(ctx context.Context, cfg Config, nodes []*Node) (*Edge, error) {
	bin, err := interop.RequireKamailio()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w (or run interop/kamailio/install.sh)", err)
	}
	conf, err := filepath.Abs(cfg.EdgeConfig)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Join(cfg.Dir, "edge"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var list strings.Builder
	list.WriteString("# setid destination flags priority attrs\n")
	for i, n := range nodes {
		fmt.Fprintf(&list, "1 sip:%s 0 %d node=%s\n", n.SIPAddr, len(nodes)-i, n.Name)
	}
	listFile := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		return nil, err
	}
	port, err := interop.FreeUDPPort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-f", conf, "-l", "udp:" + addr,
		"-A", `DISPATCHER_LIST="` + listFile + `"`,
		"-A", "DS_PING_INTERVAL=" + strconv.Itoa(int(cfg.PingInterval/time.Second)),
		"-A", `DS_ALG="` + cfg.Algorithm + `"`,
		"-A", "NODE_TIMEOUT=" + strconv.Itoa(int(cfg.NodeTimeout/time.Millisecond)),
		"-DD", "-E", "-m", "128", "-M", "8", "-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir}
	logFile := filepath.Join(dir, "kamailio.log")
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// Its own process group, so that Stop reaches every Kamailio process;
	// killed with the process that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: start kamailio: %w", err)
	}
	e := &Edge{SIPAddr: addr, LogFile: logFile, Pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.done) }()
	if err := e.waitReady(ctx, 20*time.Second); err != nil {
		e.Stop()
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("cluster: edge: %w; log:\n%s", err, tail(string(log), 20))
	}
	return e, nil
}

// waitReady sends OPTIONS until the edge answers (200 from its keepalive
// rule).
func (e *Edge) waitReady(ctx context.Context, limit time.Duration) error {
	c, err := net.Dial("udp", e.SIPAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(limit)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-e.done:
			return errors.New("exited at start-up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ready-%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:cluster@127.0.0.1>;tag=r%d\r\nTo: <sip:%s>\r\nCall-ID: ready-%d@cluster\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			e.SIPAddr, local, i, i, e.SIPAddr, i)
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return nil
		}
	}
	return errors.New("no answer to OPTIONS")
}

// Stop terminates every process of the edge (SIGTERM to the group, SIGKILL
// after a grace period) and waits for the main one.
func (e *Edge) Stop() {
	select {
	case <-e.done:
		return
	default:
	}
	_ = syscall.Kill(-e.Pid, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-e.Pid, syscall.SIGKILL)
		<-e.done
	}
}

// Log is the edge's log so far.
func (e *Edge) Log() string {
	b, _ := os.ReadFile(e.LogFile)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
