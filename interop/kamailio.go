//go:build linux

package interop

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
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

	_ "modernc.org/sqlite" // the subscriber database Kamailio reads
)

// Kamailio is a Kamailio started for a comparison benchmark (cmd/peerbench)
// with a configuration of interop/kamailio: its processes form one process
// group, stopped together.
type Kamailio struct {
	SIPAddr string // 127.0.0.1:port, UDP
	LogFile string
	Pid     int

	cmd  *exec.Cmd
	done chan struct{}
}

// KamailioConfig says how to start Kamailio.
type KamailioConfig struct {
	Config   string // configuration file (interop/kamailio/registrar.cfg)
	Dir      string // working directory: database, log, runtime files
	Accounts []Account
	Children int // UDP worker processes; 0: the configuration's
}

// RequireKamailio reports an error when Kamailio is not installed.
func RequireKamailio() (string, error) {
	for _, p := range []string{"kamailio", "/usr/sbin/kamailio"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("kamailio is not installed (Debian packages kamailio and kamailio-sqlite-modules)")
}

// WriteSubscribers creates the SQLite database of Kamailio's auth_db
// module with one subscriber per account: the username, the domain (the
// digest realm) and the HA1 values (the password is not stored, as the
// pbx stores none in clear either).
func WriteSubscribers(ctx context.Context, path string, accounts []Account) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE version (id INTEGER PRIMARY KEY NOT NULL, table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL, CONSTRAINT version_table_name_idx UNIQUE (table_name))`,
		`INSERT INTO version (table_name, table_version) VALUES ('version', 1), ('subscriber', 7)`,
		`CREATE TABLE subscriber (id INTEGER PRIMARY KEY NOT NULL, username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT '' NOT NULL,
			password VARCHAR(64) DEFAULT '' NOT NULL, ha1 VARCHAR(128) DEFAULT '' NOT NULL, ha1b VARCHAR(128) DEFAULT '' NOT NULL,
			CONSTRAINT subscriber_account_idx UNIQUE (username, domain))`,
		`CREATE INDEX subscriber_username_idx ON subscriber (username)`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("subscriber database: %w", err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO subscriber (username, domain, ha1, ha1b) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, a := range accounts {
		ha1 := md5.Sum([]byte(a.Username + ":" + a.Domain + ":" + a.Password))
		ha1b := md5.Sum([]byte(a.Username + "@" + a.Domain + ":" + a.Domain + ":" + a.Password))
		if _, err := ins.ExecContext(ctx, a.Username, a.Domain, hex.EncodeToString(ha1[:]), hex.EncodeToString(ha1b[:])); err != nil {
			return fmt.Errorf("subscriber %s: %w", a.Username, err)
		}
	}
	return tx.Commit()
}

// StartKamailio writes the subscriber database and starts Kamailio on a
// free loopback UDP port; it returns once Kamailio answers.
func StartKamailio(ctx context.Context, cfg KamailioConfig) (*Kamailio, error) {
	bin, err := RequireKamailio()
	if err != nil {
		return nil, err
	}
	conf, err := filepath.Abs(cfg.Config)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "subscribers.db")
	if err := WriteSubscribers(ctx, dbPath, cfg.Accounts); err != nil {
		return nil, err
	}
	port, err := FreeUDPPort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-f", conf, "-l", "udp:" + addr, "-A", `DBURL="sqlite:///` + dbPath + `"`,
		"-DD", "-E", "-m", "512", "-M", "32", "-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir}
	if cfg.Children > 0 {
		args = append(args, "-n", strconv.Itoa(cfg.Children))
	}
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
		return nil, fmt.Errorf("start kamailio: %w", err)
	}
	k := &Kamailio{SIPAddr: addr, LogFile: logFile, Pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(k.done) }()
	if err := k.waitReady(ctx, 15*time.Second); err != nil {
		k.Stop()
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("kamailio: %w; log:\n%s", err, lastLines(string(log), 20))
	}
	return k, nil
}

// waitReady sends OPTIONS until Kamailio answers (405 from the registrar
// configuration).
func (k *Kamailio) waitReady(ctx context.Context, limit time.Duration) error {
	c, err := net.Dial("udp", k.SIPAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(limit)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-k.done:
			return errors.New("exited at start-up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ready-%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:bench@127.0.0.1>;tag=r%d\r\nTo: <sip:%s>\r\nCall-ID: ready-%d@bench\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			k.SIPAddr, local, i, i, k.SIPAddr, i)
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return nil
		}
	}
	return errors.New("no answer to OPTIONS")
}

// CPU is the CPU time used so far by Kamailio's processes.
func (k *Kamailio) CPU() (time.Duration, error) { return GroupCPU(k.Pid) }

// Stop terminates every Kamailio process (SIGTERM to the group, SIGKILL
// after a grace period) and waits for the main one.
func (k *Kamailio) Stop() {
	select {
	case <-k.done:
		return
	default:
	}
	_ = syscall.Kill(-k.Pid, syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-k.Pid, syscall.SIGKILL)
		<-k.done
	}
}

// GroupCPU is the user+system CPU time of the processes of the process
// group pgid (Linux).
func GroupCPU(pgid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	found := false
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended since listed
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0] state, f[1] ppid, f[2] pgrp
		if len(f) < 13 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		cpu, err := ProcessCPU(pid)
		if err != nil {
			continue
		}
		total += cpu
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no process in group %d", pgid)
	}
	return total, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
