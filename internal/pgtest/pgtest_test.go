package pgtest

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each database is empty and apart from the others, and is gone after its
// test.
func TestDatabasesAreSeparate(t *testing.T) {
	ctx := context.Background()
	var dropped string
	t.Run("first", func(t *testing.T) {
		u1, u2 := Database(t), Database(t)
		if u1 == u2 {
			t.Fatal("one database given twice")
		}
		db1, db2 := open(t, u1), open(t, u2)
		if _, err := db1.ExecContext(ctx, `CREATE TABLE t (x BIGINT)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db2.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the second database sees the first's table: %d %v", n, err)
		}
		if err := db1.QueryRowContext(ctx, `SELECT current_database()`).Scan(&dropped); err != nil {
			t.Fatal(err)
		}
	})
	base, err := admin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := open(t, base).QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, dropped).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s left after its test: %d %v", dropped, n, err)
	}
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Without binaries the error says how to install them.
func TestMissingBinaries(t *testing.T) {
	defer func(g string) { initdbGlob = g }(initdbGlob)
	initdbGlob = t.TempDir() + "/*/bin/initdb"
	_, err := start()
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") || !strings.Contains(err.Error(), EnvURL) {
		t.Fatalf("start without binaries: %v", err)
	}
}

// A server of its own, started and stopped: as root it runs as nobody (the
// fallback when Debian's postgres account is absent), and its directory is
// removed.
func TestStartStopAsNobody(t *testing.T) {
	defer func(a []string) { runAsAccounts = a }(runAsAccounts)
	runAsAccounts = []string{"nobody"}
	s, err := start()
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, s.url)
	var user string
	if err := db.QueryRow(`SELECT current_user`).Scan(&user); err != nil || user != "postgres" {
		t.Fatalf("connected as %q: %v", user, err)
	}
	if os.Geteuid() == 0 {
		fi, err := os.Stat(s.dir + "/data")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Sys().(*syscall.Stat_t).Uid == 0 {
			t.Fatal("the data directory belongs to root")
		}
	}
	db.Close()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s left: %v", s.dir, err)
	}
}

// Directories left by a dead test binary go; recent ones and those of a
// running server stay.
func TestSweepStale(t *testing.T) {
	base := t.TempDir()
	now := time.Now()
	old := now.Add(-2 * time.Hour)
	mk := func(name, pid string) string {
		dir := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if pid != "" {
			if err := os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(pid+"\n/x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadDir := mk("pbx-pgtest-dead", strconv.Itoa(dead.Process.Pid))
	noPid := mk("pbx-pgtest-nopid", "")
	live := mk("pbx-pgtest-live", strconv.Itoa(os.Getpid()))
	recent := mk("pbx-pgtest-recent", "")
	other := mk("unrelated", "")
	for _, d := range []string{deadDir, noPid, live, other} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(base, time.Hour, now)
	for dir, want := range map[string]bool{deadDir: false, noPid: false, live: true, recent: true, other: true} {
		_, err := os.Stat(dir)
		if got := err == nil; got != want {
			t.Errorf("%s kept = %v, want %v", filepath.Base(dir), got, want)
		}
	}
}
