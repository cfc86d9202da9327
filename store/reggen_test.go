package store

import (
	"context"
	"testing"
	"time"
)

// Every write that changes what DeviceRegistration returns, other than
// ApplyBindings, grows RegistrationGeneration once it has committed; the
// registrar keeps what it read only while the generation stays, and only
// on SQLite (a PostgreSQL database is written by other nodes too). Its own
// writes leave the generation as it was.
func TestRegistrationGeneration(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db testDB) {
		s := db.open(t)
		ctx := context.Background()
		if _, ok := s.RegistrationGeneration(); ok != (db.dialect == "sqlite") {
			t.Fatalf("%s: keeping allowed = %v", db.dialect, ok)
		}
		ten, u := newTenantUser(t, s)
		other, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "Bo", LastName: "Claes", Licence: LicenceFull, Extension: "202"})
		if err != nil {
			t.Fatal(err)
		}
		site, err := s.CreateSite(ctx, Site{TenantID: ten.ID, Name: "HQ"})
		if err != nil {
			t.Fatal(err)
		}
		var d Device
		now := time.Now()
		gens := func() uint64 { g, _ := s.RegistrationGeneration(); return g }
		for _, w := range []struct {
			name  string
			write func() error
		}{
			{"create device", func() error {
				d, err = s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
				return err
			}},
			{"new password", func() error { return s.RotateDeviceCredentials(ctx, ten.ID, d.ID, "pw2") }},
			{"provisioning credential", func() error { return s.SetDeviceProvisioning(ctx, ten.ID, d.ID, "p", "", "", nil) }},
			{"push token refused", func() error { _, err := s.DeletePushBinding(ctx, d.ID, "apns", "tok"); return err }},
			{"licence updated", func() error { u.DND = true; return s.UpdateUser(ctx, u) }},
			{"licence suspended", func() error { return s.SuspendUser(ctx, ten.ID, u.ID, now.Add(-time.Second)) }},
			{"suspension over", func() error { _, err := s.ReactivateExpired(ctx, now); return err }},
			{"licence suspended again", func() error { return s.SuspendUser(ctx, ten.ID, u.ID, now.Add(time.Hour)) }},
			{"licence reactivated", func() error { return s.ReactivateUser(ctx, ten.ID, u.ID) }},
			{"site deleted", func() error { return s.DeleteSite(ctx, ten.ID, site.ID) }},
			{"tenant suspended", func() error { return s.SetTenantBillingState(ctx, ten.ID, "suspended") }},
			{"tenant digest", func() error { ten.SIPDigest = "SHA-256,MD5"; return s.UpdateTenant(ctx, ten) }},
			{"device deleted", func() error { return s.DeleteDevice(ctx, ten.ID, d.ID) }},
			{"licence terminated", func() error { return s.TerminateUser(ctx, ten.ID, other.ID) }},
			{"tenant deleted", func() error { return s.DeleteTenant(ctx, ten.ID) }},
		} {
			before := gens()
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if after := gens(); after <= before && db.dialect == "sqlite" {
				t.Errorf("%s: generation %d, then %d", w.name, before, after)
			}
			if w.name == "create device" {
				// The registrar's own writes leave it as it was.
				before := gens()
				now := time.Now()
				if err := s.ApplyBindings(ctx, []BindingChange{{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:a@192.0.2.1",
					Source: "192.0.2.1:5060", Transport: "udp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}}}); err != nil {
					t.Fatal(err)
				}
				if after := gens(); after != before {
					t.Errorf("a binding written by the registrar moved the generation from %d to %d", before, after)
				}
				// Nor does the periodic reactivation that finds nothing.
				if n, err := s.ReactivateExpired(ctx, now); err != nil || n != 0 {
					t.Fatalf("reactivated %d, %v", n, err)
				}
				if after := gens(); after != before {
					t.Errorf("an idle reactivation sweep moved the generation from %d to %d", before, after)
				}
			}
		}
	})
}

// DeviceRegistration reads each binding whole, Path and location included
// (the registrar tells a refresh from a change by them), and a Refresh
// change rewrites only the Call-ID, CSeq and times of its binding, and
// brings back none that was removed meanwhile.
func TestRefreshBinding(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1800000000000).UTC()
		b := Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:a@192.0.2.7:5060", Source: "192.0.2.7:40312", Transport: "udp",
			UserAgent: "ua/1", Path: "<sip:edge.example;lr>", Location: "<presence/>", CallID: "c1", CSeq: 1,
			ExpiresAt: now.Add(time.Minute), UpdatedAt: now, Instance: "<urn:uuid:1>", Push: PushParams{Provider: "apns", PRID: "tok", Param: "p"}}
		gone := b
		gone.Contact = "sip:b@192.0.2.7:5060"
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: b}, {Binding: gone}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeletePushBinding(ctx, d.ID, "apns", "tok"); err != nil {
			t.Fatal(err)
		}
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: b}}); err != nil {
			t.Fatal(err)
		}
		_, bs, err := s.DeviceRegistration(ctx, d.SIPUsername, now)
		if err != nil || len(bs) != 1 || bs[0] != b {
			t.Fatalf("bindings %+v, %v; want %+v", bs, err, b)
		}
		r := b
		r.CallID, r.CSeq, r.ExpiresAt, r.UpdatedAt = "c2", 7, now.Add(time.Hour), now.Add(time.Second)
		// What a refresh does not write stays as it was.
		ignored := r
		ignored.Source, ignored.UserAgent, ignored.Path, ignored.Location = "192.0.2.8:1", "ua/2", "", ""
		removed := gone
		removed.CSeq = 7
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: ignored, Refresh: true}, {Binding: removed, Refresh: true}}); err != nil {
			t.Fatal(err)
		}
		_, bs, err = s.DeviceRegistration(ctx, d.SIPUsername, now)
		if err != nil || len(bs) != 1 || bs[0] != r {
			t.Fatalf("after a refresh: %+v, %v; want %+v", bs, err, r)
		}
	})
}
