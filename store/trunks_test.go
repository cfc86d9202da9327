package store

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

func TestParseTrunkSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"192.0.2.1:5060":       "192.0.2.1:5060",
		"192.0.2.77/24":        "192.0.2.0/24",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"[::ffff:192.0.2.1]:5": "192.0.2.1:5",
		"2001:db8::1":          "2001:db8::1",
		"[2001:db8::1]:5061":   "[2001:db8::1]:5061",
		"2001:db8::/32":        "2001:db8::/32",
	} {
		got, err := ParseTrunkSource(in)
		if err != nil || got != want {
			t.Errorf("ParseTrunkSource(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "carrier.example", "192.0.2.1:0", "192.0.2.0/33", "300.0.0.1", "fe80::1%eth0"} {
		if got, err := ParseTrunkSource(in); err == nil {
			t.Errorf("ParseTrunkSource(%q) = %q, want an error", in, got)
		}
	}
}

func TestTrunksAndSourceMatching(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db testDB) { testTrunksAndSourceMatching(t, db) })
}

func testTrunksAndSourceMatching(t *testing.T, db testDB) {
	ctx := context.Background()
	s := db.open(t)
	wide, err := s.CreateTrunk(ctx, Trunk{Name: "wide", Host: "sip.carrier.test", Port: 5060, Transport: "udp",
		InboundSources: []string{"10.0.0.0/8"}, Username: "acct", Password: "s3cret-trunk", SetPassword: true, Register: true})
	if err != nil {
		t.Fatal(err)
	}
	if !wide.PasswordSet || wide.Password != "" {
		t.Fatalf("created trunk: %+v", wide)
	}
	narrow, err := s.CreateTrunk(ctx, Trunk{Name: "narrow", Host: "10.1.0.1", Port: 5060, Transport: "tcp", InboundSources: []string{"10.1.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	host, err := s.CreateTrunk(ctx, Trunk{Name: "host", Host: "10.1.2.3", Port: 5060, Transport: "udp", InboundSources: []string{"10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	port, err := s.CreateTrunk(ctx, Trunk{Name: "port", Host: "10.1.2.3", Port: 5080, Transport: "udp", InboundSources: []string{"10.1.2.3:5080"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTrunk(ctx, Trunk{Name: "port", Host: "x", Port: 1, Transport: "udp"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := s.CreateTrunk(ctx, Trunk{Name: "dup-source", Host: "x", Port: 1, Transport: "udp", InboundSources: []string{"10.1.2.3"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate source: %v", err)
	}
	for addr, want := range map[string]string{
		"10.1.2.3:5080":            port.ID,   // ip:port beats ip
		"10.1.2.3:5060":            host.ID,   // ip beats prefixes
		"[::ffff:10.1.2.3]:5060":   host.ID,   // mapped addresses as the socket may give them
		"10.1.9.9:5060":            narrow.ID, // /16 beats /8
		"10.200.0.1:5060":          wide.ID,
		"192.0.2.1:5060":           "",
		"[2001:db8::1]:5060":       "",
		"[::ffff:192.0.2.1]:15060": "",
	} {
		got, err := s.TrunkBySource(ctx, netip.MustParseAddrPort(addr))
		switch {
		case want == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("%s: %+v, %v; want ErrNotFound", addr, got, err)
		case want != "" && (err != nil || got.ID != want):
			t.Errorf("%s: %q, %v; want %q", addr, got.ID, err, want)
		}
	}

	// The password is sealed at rest and only TrunkPassword opens it.
	var sealed []byte
	if err := s.r.QueryRowContext(ctx, `SELECT password_enc FROM trunks WHERE id=?`, wide.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cret-trunk")) {
		t.Fatal("trunk password stored in clear")
	}
	if pw, err := s.TrunkPassword(ctx, wide.ID); err != nil || pw != "s3cret-trunk" {
		t.Fatalf("TrunkPassword = %q, %v", pw, err)
	}
	got, err := s.Trunk(ctx, wide.ID)
	if err != nil || got.Password != "" || !got.PasswordSet || !got.Register || got.Username != "acct" || len(got.InboundSources) != 1 {
		t.Fatalf("Trunk = %+v, %v", got, err)
	}

	// An update is seen by the next look-up; a kept password stays.
	wide.InboundSources = []string{"10.0.0.0/8", "192.0.2.0/24"}
	wide.SetPassword = false
	if err := s.UpdateTrunk(ctx, wide); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TrunkBySource(ctx, netip.MustParseAddrPort("192.0.2.1:5060")); err != nil || got.ID != wide.ID {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if pw, _ := s.TrunkPassword(ctx, wide.ID); pw != "s3cret-trunk" {
		t.Fatalf("password lost by an update: %q", pw)
	}
	wide.SetPassword, wide.Password = true, ""
	if err := s.UpdateTrunk(ctx, wide); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Trunk(ctx, wide.ID); got.PasswordSet {
		t.Fatal("password not removed")
	}
	if err := s.DeleteTrunk(ctx, port.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TrunkBySource(ctx, netip.MustParseAddrPort("10.1.2.3:5080")); err != nil || got.ID != host.ID {
		t.Fatalf("after delete: %+v, %v", got, err)
	}
	if ts, err := s.Trunks(ctx); err != nil || len(ts) != 3 {
		t.Fatalf("Trunks = %d, %v", len(ts), err)
	}

	// A write by another node sharing the database (here: a second Store
	// on the same file) is seen once the matcher is older than its TTL, or
	// at once after ReloadTrunks.
	other := db.open(t)
	clock := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	other.trunks.now = func() time.Time { return clock }
	if got, err := other.TrunkBySource(ctx, netip.MustParseAddrPort("10.1.2.3:1")); err != nil || got.ID != host.ID {
		t.Fatalf("other node: %+v, %v", got, err)
	}
	if err := s.DeleteTrunk(ctx, host.ID); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(trunkMatcherTTL - time.Millisecond)
	if got, _ := other.TrunkBySource(ctx, netip.MustParseAddrPort("10.1.2.3:1")); got.ID != host.ID {
		t.Fatalf("the cached matcher was not used: %q", got.ID)
	}
	clock = clock.Add(time.Millisecond)
	if got, _ := other.TrunkBySource(ctx, netip.MustParseAddrPort("10.1.2.3:1")); got.ID != narrow.ID {
		t.Fatalf("after the TTL the other node still sees %q", got.ID)
	}
	if _, err := s.CreateTrunk(ctx, Trunk{Name: "late", Host: "h", Port: 5060, Transport: "udp", InboundSources: []string{"10.1.2.3"}}); err != nil {
		t.Fatal(err)
	}
	if err := other.ReloadTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.TrunkBySource(ctx, netip.MustParseAddrPort("10.1.2.3:1")); got.Name != "late" {
		t.Fatalf("after ReloadTrunks the other node sees %q", got.Name)
	}
}

func BenchmarkTrunkBySource(b *testing.B) {
	ctx := context.Background()
	key := make([]byte, 32)
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "pbx.db"), SecretKey: key})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i, src := range []string{"10.0.0.0/8", "10.1.0.0/16", "192.0.2.10", "192.0.2.11:5060"} {
		if _, err := s.CreateTrunk(ctx, Trunk{Name: string(rune('a' + i)), Host: "h", Port: 5060, Transport: "udp", InboundSources: []string{src}}); err != nil {
			b.Fatal(err)
		}
	}
	addr := netip.MustParseAddrPort("10.200.1.1:5060")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TrunkBySource(ctx, addr); err != nil {
			b.Fatal(err)
		}
	}
}
