package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLicencesDevicesBindings(t *testing.T) { forEachDialect(t, testLicencesDevicesBindings) }

func testLicencesDevicesBindings(t *testing.T, db testDB) {
	ctx := context.Background()
	s := db.open(t)
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(ctx, Tenant{Name: "Dup", Domain: "acme.test"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate domain: %v", err)
	}
	full, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "B", LastName: "C", Licence: LicenceFull, Extension: "201"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate extension: %v", err)
	}
	light, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "Lobby", LastName: "Phone", Licence: LicenceLight})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "X", LastName: "Y", Licence: LicenceLight, Extension: "300"}); err == nil {
		t.Fatal("light licence with an extension accepted")
	}
	var devs []Device
	for i := 0; i < MaxDevicesFull; i++ {
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: full.ID, Kind: "softphone", SIPUsername: NewID("u")}, "secret")
		if err != nil {
			t.Fatalf("device %d: %v", i+1, err)
		}
		devs = append(devs, d)
	}
	if _, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: full.ID, Kind: "softphone", SIPUsername: NewID("u")}, "x"); !errors.Is(err, ErrLimit) {
		t.Fatalf("sixth device: %v", err)
	}
	if _, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: light.ID, Kind: "generic", SIPUsername: NewID("u")}, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: light.ID, Kind: "generic", SIPUsername: NewID("u")}, "x"); !errors.Is(err, ErrLimit) {
		t.Fatalf("second light device: %v", err)
	}
	a, err := s.DeviceAuthByUsername(ctx, devs[0].SIPUsername)
	if err != nil {
		t.Fatal(err)
	}
	if a.Tenant.Domain != "acme.test" || a.User.Extension != "201" || a.Device.HA1MD5 != HA1("MD5", devs[0].SIPUsername, "acme.test", "secret") {
		t.Fatalf("auth view: %+v", a)
	}
	if pw, err := s.DevicePassword(ctx, devs[0].ID); err != nil || pw != "secret" {
		t.Fatalf("password round trip: %q %v", pw, err)
	}
	now := time.Now()
	err = s.ApplyBindings(ctx, []BindingChange{
		{Binding: Binding{DeviceID: devs[0].ID, TenantID: ten.ID, Contact: "sip:a@1.2.3.4", Source: "1.2.3.4:5060", Transport: "udp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}},
		{Binding: Binding{DeviceID: devs[1].ID, TenantID: ten.ID, Contact: "sip:b@1.2.3.4", Source: "1.2.3.4:5062", Transport: "tcp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopen: migrations are not re-applied and bindings survive.
	s = db.open(t)
	bs, err := s.UserBindings(ctx, full.ID, time.Now())
	if err != nil || len(bs) != 2 {
		t.Fatalf("bindings after reopen: %v %v", bs, err)
	}
	if err := s.RotateDeviceCredentials(ctx, ten.ID, devs[0].ID, "new"); err != nil {
		t.Fatal(err)
	}
	if bs, _ := s.DeviceBindings(ctx, devs[0].ID, time.Now()); len(bs) != 0 {
		t.Fatal("rotation kept bindings")
	}
	// The last active licence cannot go.
	if err := s.SuspendUser(ctx, ten.ID, full.ID, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TerminateUser(ctx, ten.ID, light.ID); !errors.Is(err, ErrLastActive) {
		t.Fatalf("terminate last active: %v", err)
	}
	if err := s.SuspendUser(ctx, ten.ID, light.ID, time.Now().Add(time.Hour)); !errors.Is(err, ErrLastActive) {
		t.Fatalf("suspend last active: %v", err)
	}
	if n, err := s.ReactivateExpired(ctx, time.Now().Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("reactivate expired: %d %v", n, err)
	}
	if err := s.TerminateUser(ctx, ten.ID, light.ID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.Devices(ctx, ten.ID, light.ID); len(ds) != 0 {
		t.Fatal("terminated licence kept devices")
	}
}

func TestDeviceMACIDSealed(t *testing.T) { forEachStore(t, testDeviceMACIDSealed) }

func testDeviceMACIDSealed(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "gigaset", MAC: "7c2f80a1b2c3", SIPUsername: NewID("u"), MACID: "ABCDEFGHJKLM"}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if !base.HasMACID || base.MACID != "" || other.HasMACID {
		t.Fatalf("created: base %+v, other %+v", base, other)
	}
	got, err := s.DeviceByMAC(ctx, "7c2f80a1b2c3")
	if err != nil || !got.HasMACID || got.MACID != "" {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if id, err := s.DeviceMACID(ctx, base.ID); err != nil || id != "ABCDEFGHJKLM" {
		t.Fatalf("DeviceMACID = %q, %v", id, err)
	}
	if id, err := s.DeviceMACID(ctx, other.ID); err != nil || id != "" {
		t.Fatalf("DeviceMACID of a device without one = %q, %v", id, err)
	}
	// Sealed at rest: the plain code is nowhere in the database row.
	var raw []byte
	if err := s.r.QueryRowContext(ctx, `SELECT mac_id_enc FROM devices WHERE id = ?`, base.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || strings.Contains(string(raw), "ABCDEFGHJKLM") {
		t.Fatalf("MAC-ID stored as %q", raw)
	}
}
