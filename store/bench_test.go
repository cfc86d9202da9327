package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"pbx/internal/pgtest"
)

// BenchmarkRegisterPath is what one REGISTER costs the store: the device,
// licence, tenant and bindings in one query, then the binding's upsert.
func BenchmarkRegisterPath(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchmarkRegisterPath(b, Options{Path: filepath.Join(b.TempDir(), "pbx.db"), SecretKey: testKey()})
	})
	b.Run("postgres", func(b *testing.B) {
		benchmarkRegisterPath(b, Options{URL: pgtest.Database(b), SecretKey: testKey()})
	})
}

func benchmarkRegisterPath(b *testing.B, opt Options) {
	ctx := context.Background()
	s, err := Open(ctx, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		b.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: "u201"}, "pw")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, _, err := s.DeviceRegistration(ctx, d.SIPUsername, now)
		if err != nil {
			b.Fatal(err)
		}
		err = s.ApplyBindings(ctx, []BindingChange{{Binding: Binding{DeviceID: a.Device.ID, TenantID: a.Tenant.ID, Contact: "sip:u201@10.0.0.1",
			Source: "10.0.0.1:5060", Transport: "udp", CSeq: uint32(i), ExpiresAt: now.Add(time.Hour), UpdatedAt: now}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
