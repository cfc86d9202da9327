package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// server is a PostgreSQL started by this process.
type server struct {
	dir  string // temporary directory: data/, the socket, the log
	url  string
	cmd  *exec.Cmd
	done chan error // the postgres process's exit
	log  *os.File
}

// initdbGlob is where Debian installs initdb, one directory per major version.
var initdbGlob = "/usr/lib/postgresql/*/bin/initdb"

// runAsAccounts are the accounts tried, in order, when running as root.
var runAsAccounts = []string{"postgres", "nobody"}

// binDir returns the bin directory of the newest PostgreSQL installed the
// Debian way.
func binDir() (string, error) {
	matches, _ := filepath.Glob(initdbGlob)
	if len(matches) == 0 {
		return "", errNoBinaries
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) < version(matches[j]) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// runAs is the unprivileged account the server runs under when the tests run
// as root (initdb and postgres refuse root): Debian's postgres, else nobody.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range runAsAccounts {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, fmt.Errorf("running as root and no postgres or nobody account to run PostgreSQL as")
}

func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	base := ""
	if cred != nil {
		base = "/tmp" // reachable by the unprivileged account, unlike a root TMPDIR
	}
	sweepStale(tempBase(base), time.Hour, time.Now())
	dir, err := os.MkdirTemp(base, "pbx-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir}
	if err := s.init(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A port found free may be taken before postgres binds it: try again.
	for attempt := 0; ; attempt++ {
		err = s.run(bin, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 4 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// init creates the cluster: trust authentication (loopback and a private
// socket only), C locale, no fsync (the data is thrown away).
func (s *server) init(bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(s.dir, "data"), "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// tempBase is the directory os.MkdirTemp(base, ...) creates in.
func tempBase(base string) string {
	if base == "" {
		return os.TempDir()
	}
	return base
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts postgres and waits until it accepts connections.
func (s *server) run(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig stops the server should the test binary die without running
	// Main's stop (a test timeout's panic). It fires when the starting thread
	// ends, so that thread is kept for the server's lifetime: the goroutine
	// below locks it, starts postgres and waits for it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		logf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd, s.done, s.log = cmd, done, logf
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := s.waitReady(); err != nil {
		s.halt()
		return err
	}
	return nil
}

func (s *server) waitReady() error {
	db, err := sql.Open("pgx", s.url)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr // stop waits for it too
			return fmt.Errorf("postgres exited: %v\n%s", werr, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 60s: %v\n%s", err, s.logTail())
		}
	}
}

func (s *server) logTail() []byte {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return bytes.TrimSpace(b)
}

// stop shuts the server down and removes its directory.
func (s *server) stop() error {
	return errors.Join(s.halt(), os.RemoveAll(s.dir))
}

// halt shuts the server down (fast shutdown: open sessions are ended).
func (s *server) halt() error {
	if s.cmd == nil {
		return nil
	}
	var err error
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		err = fmt.Errorf("postgres did not stop within 60s")
	}
	s.log.Close()
	s.cmd = nil
	return err
}
