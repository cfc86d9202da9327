package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Behaviour the engines must agree on beyond the happy paths: constraint
// errors, ordering, wide integers, wildcard removal, schema versions and
// concurrent writers.

func newTenantUser(t *testing.T, s *Store) (Tenant, User) {
	t.Helper()
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: NewID("d") + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	return ten, u
}

func TestConstraintErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		if _, err := s.CreateSite(ctx, Site{TenantID: "ten_missing", Name: "HQ"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("site of a missing tenant: %v", err)
		}
		if _, err := s.CreateUser(ctx, User{TenantID: "ten_missing", FirstName: "A", LastName: "B", Licence: LicenceLight}); !errors.Is(err, ErrNotFound) {
			t.Errorf("user of a missing tenant: %v", err)
		}
		if _, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "yealink", MAC: "001565aabbcc", SIPUsername: NewID("u")}, "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "yealink", MAC: "001565aabbcc", SIPUsername: NewID("u")}, "x"); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate MAC: %v", err)
		}
		if _, err := s.CreateToken(ctx, APIToken{Hash: "h1", Scope: ScopeAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateToken(ctx, APIToken{Hash: "h1", Scope: ScopeAdmin}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate token hash: %v", err)
		}
		other, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "Bo", LastName: "Jans", Licence: LicenceFull, Extension: "202"})
		if err != nil {
			t.Fatal(err)
		}
		err = s.SetBLFKeys(ctx, ten.ID, u.ID, []BLFKey{{Position: 1, TargetUserID: other.ID}, {Position: 1, TargetUserID: other.ID}})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate BLF position: %v", err)
		}
		if keys, err := s.BLFKeys(ctx, u.ID); err != nil || len(keys) != 0 {
			t.Errorf("a failed SetBLFKeys left %v, %v", keys, err)
		}
		if err := s.SetBLFKeys(ctx, ten.ID, u.ID, []BLFKey{{Position: 2, TargetUserID: other.ID, Label: "Bo"}, {Position: 1, TargetUserID: u.ID}}); err != nil {
			t.Fatal(err)
		}
		if keys, err := s.BLFKeys(ctx, u.ID); err != nil || len(keys) != 2 || keys[0].Position != 1 || keys[1].Label != "Bo" {
			t.Errorf("BLF keys: %+v, %v", keys, err)
		}
	})
}

func TestBindingsBehaviour(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		// Times far beyond 32 bits of milliseconds, and contacts whose
		// byte order differs from a natural-language collation's.
		now := time.UnixMilli(4102444800123).UTC() // 2100-01-01
		var changes []BindingChange
		for i, c := range []string{"sip:b@h", "sip:B@h", "sip:a@h", "sip:_x@h"} {
			tr := "tcp"
			if i%2 == 0 {
				tr = "udp"
			}
			changes = append(changes, BindingChange{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: c, Source: fmt.Sprintf("10.0.0.%d:5060", i),
				Transport: tr, CallID: "cid", CSeq: 4000000000, ExpiresAt: now.Add(time.Duration(i+1) * time.Minute), UpdatedAt: now}})
		}
		if err := s.ApplyBindings(ctx, changes); err != nil {
			t.Fatal(err)
		}
		// Upsert: the same contact again replaces it.
		changes[0].Source = "10.0.0.9:5060"
		if err := s.ApplyBindings(ctx, changes[:1]); err != nil {
			t.Fatal(err)
		}
		bs, err := s.DeviceBindings(ctx, d.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, b := range bs {
			order = append(order, b.Contact)
		}
		if fmt.Sprint(order) != "[sip:B@h sip:_x@h sip:a@h sip:b@h]" {
			t.Errorf("binding order %v, want byte order", order)
		}
		if bs[3].Source != "10.0.0.9:5060" || bs[3].CSeq != 4000000000 || !bs[3].UpdatedAt.Equal(now) || !bs[3].ExpiresAt.Equal(now.Add(time.Minute)) {
			t.Errorf("round trip: %+v", bs[3])
		}
		a, regs, err := s.DeviceRegistration(ctx, d.SIPUsername, now.Add(150*time.Second))
		if err != nil || a.Device.ID != d.ID || a.Tenant.ID != ten.ID || len(regs) != 2 || regs[0].Contact != "sip:_x@h" {
			t.Errorf("DeviceRegistration: %+v %+v %v", a.Device, regs, err)
		}
		if udp, err := s.UDPBindings(ctx, now); err != nil || len(udp) != 2 {
			t.Errorf("UDP bindings: %+v %v", udp, err)
		}
		if n, err := s.DeleteExpiredBindings(ctx, now.Add(2*time.Minute)); err != nil || n != 2 {
			t.Errorf("expired: %d %v", n, err)
		}
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: Binding{DeviceID: d.ID, Contact: "*"}, Remove: true}}); err != nil {
			t.Fatal(err)
		}
		if bs, err := s.TenantBindings(ctx, ten.ID, now); err != nil || len(bs) != 0 {
			t.Errorf("after removing *: %+v %v", bs, err)
		}
		a, regs, err = s.DeviceRegistration(ctx, d.SIPUsername, now)
		if err != nil || a.User.ID != u.ID || len(regs) != 0 {
			t.Errorf("DeviceRegistration without bindings: %+v %v", regs, err)
		}
		if _, _, err := s.DeviceRegistration(ctx, "nobody", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown username: %v", err)
		}
	})
}

func TestCDRsAndTenants(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, _ := newTenantUser(t, s)
		start := time.UnixMilli(1767225600000).UTC()
		for i := 0; i < 5; i++ {
			c := CDR{TenantID: ten.ID, CallID: fmt.Sprint("c", i), Caller: "201", Callee: "202", Start: start.Add(time.Duration(i) * time.Minute),
				End: start.Add(time.Duration(i)*time.Minute + 30*time.Second), BillableSeconds: 30, Disposition: "answered"}
			if i%2 == 0 {
				c.Answer = c.Start.Add(time.Second)
			}
			if _, err := s.InsertCDR(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		cdrs, err := s.CDRs(ctx, ten.ID, 3)
		if err != nil || len(cdrs) != 3 || cdrs[0].CallID != "c4" || cdrs[2].CallID != "c2" || cdrs[1].Answer.IsZero() == false {
			t.Fatalf("CDRs: %+v %v", cdrs, err)
		}
		if !cdrs[0].Answer.Equal(start.Add(4*time.Minute + time.Second)) {
			t.Errorf("answer time %v", cdrs[0].Answer)
		}
		if err := s.UpdateTenant(ctx, Tenant{ID: ten.ID, Name: "Acme NV", SIPDigest: "MD5"}); err != nil {
			t.Fatal(err)
		}
		if p, err := s.DigestPolicies(ctx); err != nil || p[ten.Domain] != "MD5" {
			t.Errorf("digest policies %v %v", p, err)
		}
		if err := s.SetTenantBillingState(ctx, ten.ID, "bogus"); err == nil {
			t.Error("a billing state outside the CHECK was accepted")
		}
		if err := s.DeleteTenant(ctx, ten.ID); err != nil {
			t.Fatal(err)
		}
		if cdrs, _ := s.CDRs(ctx, ten.ID, 0); len(cdrs) != 0 {
			t.Error("a deleted tenant kept its CDRs")
		}
		if err := s.DeleteTenant(ctx, ten.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

func TestSchemaVersions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		var n, max int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil || n != len(migrations) || max != len(migrations) {
			t.Fatalf("schema_migrations: %d rows, max %d, %v", n, max, err)
		}
		s.Close()
		s = db.open(t) // nothing to apply: no error, no new row
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
			t.Fatalf("after reopening: %d rows, %v", n, err)
		}
		if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, len(migrations)+1, 0); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := Open(ctx, db.opt); err == nil {
			s.Close()
			t.Fatal("a database of a newer schema was opened")
		}
	})
}

// TestConcurrentWriters: two stores on one database (two nodes) create
// devices for one licence at once; its limit holds.
func TestConcurrentWriters(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t)
		ten, u := newTenantUser(t, a)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrLimit):
				t.Errorf("create device: %v", err)
			}
		}
		ds, err := b.Devices(ctx, ten.ID, u.ID)
		if err != nil || ok != MaxDevicesFull || len(ds) != MaxDevicesFull {
			t.Fatalf("%d created, %d stored (%v), want %d", ok, len(ds), err, MaxDevicesFull)
		}
	})
}
