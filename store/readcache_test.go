package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// The read cache answers from memory while nothing was written through the
// store (a change made behind its back, by another program on the file, is
// not seen: that is how the test knows the cache answered), and sees every
// write made through the store at the next read, whichever method made it.
func TestReadCacheSeesEveryWriteThroughTheStore(t *testing.T) {
	ctx := context.Background()
	s, path := openSQLiteTestAt(t)
	behind, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: "an201"}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	mustBehind := func(q string, args ...any) {
		t.Helper()
		if _, err := behind.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}

	// Tenant: cached, then a billing state set through the store is seen.
	if got, err := s.Tenant(ctx, ten.ID); err != nil || got.Name != "Acme" {
		t.Fatalf("tenant: %+v %v", got, err)
	}
	mustBehind(`UPDATE tenants SET name = 'Behind' WHERE id = ?`, ten.ID)
	if got, _ := s.Tenant(ctx, ten.ID); got.Name != "Acme" {
		t.Fatalf("second read went to the database (name %q): nothing is cached", got.Name)
	}
	// A write that changes no row (the minutely reactivation finding no
	// licence to reactivate) keeps what is cached.
	if _, err := s.ReactivateExpired(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenant(ctx, ten.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantBillingState(ctx, "ten_missing", "restricted"); err == nil {
		t.Fatal("billing state set on a missing tenant")
	}
	if got, _ := s.Tenant(ctx, ten.ID); got.Name != "Acme" {
		t.Fatalf("a write of no row emptied the cache (name %q)", got.Name)
	}
	if err := s.SetTenantBillingState(ctx, ten.ID, "restricted"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Tenant(ctx, ten.ID); got.BillingState != "restricted" || got.Name != "Behind" {
		t.Fatalf("after a write through the store: %+v", got)
	}

	// The device's authentication view follows its licence and tenant.
	if a, err := s.DeviceAuthByUsername(ctx, "an201"); err != nil || a.Tenant.BillingState != "restricted" {
		t.Fatalf("device auth: %+v %v", a, err)
	}
	u.DND = true
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.DeviceAuthByUsername(ctx, "an201"); !a.User.DND {
		t.Fatal("device auth does not see its licence's change")
	}
	if got, _ := s.UserByExtension(ctx, ten.ID, "201"); !got.DND {
		t.Fatal("user by extension does not see the change")
	}

	// Bindings: a REGISTER's write is seen; expiry is applied on read.
	now := time.Now()
	if bs, err := s.UserBindings(ctx, u.ID, now); err != nil || len(bs) != 0 {
		t.Fatalf("bindings: %v %v", bs, err)
	}
	b := Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:an@127.0.0.1:5060", Source: "127.0.0.1:5060", Transport: "udp",
		CallID: "c1", CSeq: 1, ExpiresAt: now.Add(time.Minute), UpdatedAt: now}
	if err := s.ApplyBindings(ctx, []BindingChange{{Binding: b}}); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.UserBindings(ctx, u.ID, now); len(bs) != 1 {
		t.Fatalf("bindings after a REGISTER: %v", bs)
	}
	if bs, _ := s.UserBindings(ctx, u.ID, now.Add(2*time.Minute)); len(bs) != 0 {
		t.Fatalf("an expired binding is still answered: %v", bs)
	}

	// Deleting the device: its account and bindings go at once.
	if err := s.DeleteDevice(ctx, ten.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceAuthByUsername(ctx, "an201"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted device still authenticates: %v", err)
	}
	if bs, _ := s.UserBindings(ctx, u.ID, now); len(bs) != 0 {
		t.Fatalf("deleted device still has bindings: %v", bs)
	}

	// A name not found is cached too, until the table is written.
	if _, err := s.TrunkByUsername(ctx, "carrier1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown trunk: %v", err)
	}
	if _, err := s.CreateTrunk(ctx, Trunk{Name: "Carrier", Host: "127.0.0.2", Port: 5060, Transport: "udp", Username: "carrier1", Password: "pw", SetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.TrunkByUsername(ctx, "carrier1"); err != nil || tr.Username != "carrier1" {
		t.Fatalf("new trunk not seen: %+v %v", tr, err)
	}
}

// A delete is seen in the tables its foreign keys change: a licence
// removed from the tenant leaves the hunt groups it was a member of.
func TestReadCacheSeesCascadedDeletes(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteTest(t)
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ext := range []string{"201", "202"} {
		u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "U", LastName: ext, Licence: LicenceFull, Extension: ext})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := s.CreateHuntGroup(ctx, HuntGroup{TenantID: ten.ID, Name: "Sales", Extension: "600", Strategy: "ring_all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.HuntGroupByExtension(ctx, ten.ID, "600"); err != nil || len(g.Members) != 2 {
		t.Fatalf("group: %+v %v", g, err)
	}
	if err := s.TerminateUser(ctx, ten.ID, ids[1]); err != nil {
		t.Fatal(err)
	}
	g, err := s.HuntGroupByExtension(ctx, ten.ID, "600")
	if err != nil || len(g.Members) != 1 || g.Members[0] != ids[0] {
		t.Fatalf("after the licence's removal the group has %v (%v), want only %s", g.Members, err, ids[0])
	}
}

// Which tables a statement writes.
func TestWrittenTables(t *testing.T) {
	for q, want := range map[string]string{
		`SELECT a FROM users WHERE id = ?`:                                          "",
		`INSERT INTO cdrs(id) VALUES (?)`:                                           "cdrs",
		`INSERT INTO registrations(a) VALUES (?) ON CONFLICT (a) DO UPDATE SET b=1`: "registrations",
		`UPDATE OR IGNORE users SET dnd = 1`:                                        "users",
		`update tenants set name = ?`:                                               "tenants",
		`DELETE FROM devices WHERE id = ?`:                                          "devices",
		`CREATE TABLE x (a INT)`:                                                    "*",
		`INSERT INTO`:                                                               "*",
	} {
		w := parseWritten(q)
		got := ""
		switch {
		case w.all:
			got = "*"
		case len(w.tables) > 0:
			got = w.tables[0]
		}
		if got != want {
			t.Errorf("%s: wrote %q, want %q", q, got, want)
		}
	}
}
