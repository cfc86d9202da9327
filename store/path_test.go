package store

import (
	"context"
	"testing"
	"time"
)

// A binding registered through an edge proxy keeps its Path, which any
// node reads back to reach the device; the proxy, not the node, keeps its
// NAT flow alive, so it is no UDP binding to ping.
func TestBindingPath(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1800000000000).UTC()
		path := "<sip:edge.example;lr;received=sip:192.0.2.7:40312>"
		direct := Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:a@192.0.2.7:5060", Source: "192.0.2.7:40312", Transport: "udp",
			CallID: "c1", CSeq: 1, ExpiresAt: now.Add(time.Minute), UpdatedAt: now}
		proxied := direct
		proxied.Contact, proxied.Source, proxied.Path = "sip:b@192.0.2.7:5060", "198.51.100.1:5060", path
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: direct}, {Binding: proxied}}); err != nil {
			t.Fatal(err)
		}
		bs, err := s.UserBindings(ctx, u.ID, now)
		if err != nil || len(bs) != 2 {
			t.Fatalf("bindings %+v, %v", bs, err)
		}
		if bs[0].Path != "" || bs[1].Path != path {
			t.Errorf("paths %q, %q; want \"\", %q", bs[0].Path, bs[1].Path, path)
		}
		// A refresh without Path (the device now registers directly)
		// clears it.
		proxied.Path = ""
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: proxied}}); err != nil {
			t.Fatal(err)
		}
		if bs, err := s.DeviceBindings(ctx, d.ID, now); err != nil || len(bs) != 2 || bs[1].Path != "" {
			t.Errorf("after a refresh without Path: %+v, %v", bs, err)
		}
		proxied.Path = path
		if err := s.ApplyBindings(ctx, []BindingChange{{Binding: proxied}}); err != nil {
			t.Fatal(err)
		}
		udp, err := s.UDPBindings(ctx, now)
		if err != nil || len(udp) != 1 || udp[0].Contact != direct.Contact {
			t.Errorf("UDP bindings to keep alive: %+v, %v; want only the direct one", udp, err)
		}
	})
}
