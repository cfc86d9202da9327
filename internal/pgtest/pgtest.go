// Package pgtest gives tests a real PostgreSQL server: the one named by
// PBX_TEST_POSTGRES, or else a throwaway one started from Debian's binaries in
// a temporary directory, on a free loopback port, and stopped (its directory
// removed) when the test binary's tests are done. Each test gets a database
// of its own, created with a random name and dropped after it.
//
// A package using it runs its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// The server starts on the first call to Database, so tests that need no
// PostgreSQL cost nothing.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvURL names the variable that points the tests at an existing server: a
// URL of a role allowed to create databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvURL = "PBX_TEST_POSTGRES"

// InstallHint is how to get the server binaries on Debian.
const InstallHint = "install PostgreSQL with `apt-get install -y postgresql` (or run interop/install-tools.sh), or set " +
	EnvURL + " to the URL of a server where the tests may create databases"

var (
	mu       sync.Mutex
	started  bool
	adminURL string
	srv      *server // nil when EnvURL is used
	startErr error
)

// Main runs the tests and then stops the server if one was started.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		srv = nil
	}
	return code
}

// admin returns the URL of the server's administrative database, starting
// the server on first use.
func admin() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return adminURL, startErr
	}
	started = true
	if u := os.Getenv(EnvURL); u != "" {
		adminURL = u
		return adminURL, nil
	}
	srv, startErr = start()
	if startErr == nil {
		adminURL = srv.url
	}
	return adminURL, startErr
}

// Database creates an empty database for t and returns its URL; it is
// dropped when t ends. Without a server (no binaries, no EnvURL) t fails.
func Database(t testing.TB) string {
	t.Helper()
	base, err := admin()
	if err != nil {
		t.Fatalf("PostgreSQL for tests: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	var b [8]byte
	rand.Read(b[:])
	name := "pbx_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(base, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// drop removes a test database, ending sessions a test left open.
func drop(base, name string) error {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	return err
}

// errNoBinaries is returned when no PostgreSQL server binaries are found.
var errNoBinaries = errors.New("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): " + InstallHint)
