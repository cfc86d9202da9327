// Package sshdtest gives tests a real OpenSSH server with SFTP: Debian's
// /usr/sbin/sshd, started with a configuration, host key and
// authorized_keys of its own in a temporary directory, listening on a
// free loopback port, as the user running the tests. It is stopped (and
// its directory removed) when the test ends; Stop and Start let a test
// take it down and bring it back on the same port.
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Binary is the server the tests start.
const Binary = "/usr/sbin/sshd"

// InstallHint says how to get it.
const InstallHint = "install OpenSSH's server with `apt-get install -y openssh-server` (or run interop/install-tools.sh)"

// Server is a running sshd.
type Server struct {
	Host string
	Port int
	User string
	// Dir is a directory the test may use for the files the server
	// receives (an absolute path, also valid on the server).
	Dir string
	// HostKey is the server's public key, authorized_keys format.
	HostKey string
	// ClientKey is a private key (OpenSSH PEM) the server accepts.
	ClientKey string

	t    testing.TB
	conf string
	log  string
	cmd  *exec.Cmd
	done chan error
}

// Start starts a server for the test; it fails the test, saying how to
// install sshd, when it is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("sshdtest: %s not found: %s", Binary, InstallHint)
	}
	if os.Geteuid() == 0 {
		// As root sshd insists on its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshdtest: /run/sshd: %v", err)
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1", User: u.Username, Dir: filepath.Join(dir, "files"), t: t,
		conf: filepath.Join(dir, "sshd_config"), log: filepath.Join(dir, "sshd.log")}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	hostPub, hostPEM := newKey(t)
	clientPub, clientPEM := newKey(t)
	s.HostKey, s.ClientKey = hostPub, clientPEM
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKey := write("host_ed25519", hostPEM)
	keys := write("authorized_keys", clientPub+"\n")
	write("sshd_config", strings.Join([]string{
		"ListenAddress " + s.Host,
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + keys,
		"PidFile none",
		"StrictModes no",
		"UsePAM no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
	}, "\n")+"\n")
	s.Port = freePort(t)
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// newKey returns a new ed25519 key: public in authorized_keys format,
// private as OpenSSH PEM.
func newKey(t testing.TB) (pub, priv string) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(sk, "")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))), string(pem.EncodeToMemory(block))
}

// NewKey returns a new key pair, as Start makes them (for a wrong host
// key, or a client the server does not know).
func NewKey(t testing.TB) (pub, priv string) { return newKey(t) }

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start (re)starts the server on its port and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("sshdtest: already running")
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(Binary, "-D", "-e", "-f", s.conf, "-p", strconv.Itoa(s.Port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("sshdtest: start %s: %v", Binary, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	s.cmd, s.done = cmd, done
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	for deadline := time.Now().Add(20 * time.Second); ; {
		select {
		case err := <-done:
			s.cmd = nil
			s.t.Fatalf("sshdtest: sshd exited: %v\n%s", err, s.Log())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			buf := make([]byte, 4)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, rerr := c.Read(buf)
			c.Close()
			if rerr == nil && string(buf) == "SSH-" {
				return
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("sshdtest: sshd does not answer on %s\n%s", addr, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server and waits for it; the port is free afterwards.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Log is what the server logged.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// String names the server for messages.
func (s *Server) String() string { return fmt.Sprintf("sshd %s:%d", s.Host, s.Port) }
