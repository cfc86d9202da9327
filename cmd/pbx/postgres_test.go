package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbx/internal/pgtest"
	"pbx/store"
)

// TestPostgresRegisterAndCall runs the app on PostgreSQL (--db): two phones
// register, one calls the other with RTP both ways, and the bindings and the
// call record are in PostgreSQL while the data directory holds no SQLite
// database.
func TestPostgresRegisterAndCall(t *testing.T) {
	dir := t.TempDir()
	url := pgtest.Database(t)
	a := testApp(t, dir, func(c *config) { c.DB = url })
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp")
	out, in := connect(t, alice, bob, "202", "0 101")
	requireRelayBoth(t, out, in, 50, 40, "callee received %d of 50 frames", "caller received %d of 50 frames")
	hangupAndWait(t, out, in)
	waitCDR(t, a, accs[0].tenant.ID, 1)
	waitIdle(t, a)

	if _, err := os.Stat(filepath.Join(dir, "pbx.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite database in the data directory: %v", err)
	}
	// Another store on the same URL (and the data directory's key) sees
	// what the app wrote.
	key, err := loadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{URL: url, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, acc := range accs {
		bs, err := st.DeviceBindings(ctx, acc.device.ID, time.Now())
		if err != nil || len(bs) != 1 {
			t.Fatalf("bindings of %s in PostgreSQL: %+v %v", acc.user.Extension, bs, err)
		}
	}
	cdrs, err := st.CDRs(ctx, accs[0].tenant.ID, 10)
	if err != nil || len(cdrs) != 1 || cdrs[0].Disposition != "answered" || cdrs[0].Callee != "202" {
		t.Fatalf("CDRs in PostgreSQL: %+v %v", cdrs, err)
	}
	if pw, err := st.DevicePassword(ctx, accs[0].device.ID); err != nil || pw != accs[0].password {
		t.Fatalf("sealed password read back: %v", err)
	}
}

func TestConfigDB(t *testing.T) {
	env := map[string]string{"PBX_DB": "postgres://pbx:secret@db.example/pbx"}
	c, err := parseConfig(nil, func(k string) string { return env[k] })
	if err != nil || c.DB != env["PBX_DB"] {
		t.Fatalf("PBX_DB: %q %v", c.DB, err)
	}
	c, err = parseConfig([]string{"--db", "postgresql://other/pbx"}, func(k string) string { return env[k] })
	if err != nil || c.DB != "postgresql://other/pbx" {
		t.Fatalf("--db over PBX_DB: %q %v", c.DB, err)
	}
	if c, err = parseConfig(nil, func(string) string { return "" }); err != nil || c.DB != "" {
		t.Fatalf("default: %q %v", c.DB, err)
	}
	if _, err := parseConfig([]string{"--db", "mysql://pbx:secret@h/pbx"}, func(string) string { return "" }); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("a non-PostgreSQL URL: %v", err)
	}
}
