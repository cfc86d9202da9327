package store

import (
	"context"
	"testing"
	"time"
)

// TestExpireBindings: the expired bindings are deleted and returned with
// what a log line names; the others stay.
func TestExpireBindings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: "exp1"}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1767225600000).UTC()
		var changes []BindingChange
		for i, c := range []string{"sip:old@h", "sip:new@h"} {
			changes = append(changes, BindingChange{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: c, Source: "192.0.2.1:5060",
				Transport: "udp", UserAgent: "phone/1", CallID: "c", CSeq: 1, UpdatedAt: now, ExpiresAt: now.Add(time.Duration(i+1) * time.Minute)}})
		}
		if err := s.ApplyBindings(ctx, changes); err != nil {
			t.Fatal(err)
		}
		gone, err := s.ExpireBindings(ctx, now.Add(90*time.Second))
		if err != nil || len(gone) != 1 {
			t.Fatalf("expired %+v, %v; want the first binding", gone, err)
		}
		g := gone[0]
		if g.DeviceID != d.ID || g.TenantID != ten.ID || g.Contact != "sip:old@h" || g.UserAgent != "phone/1" || g.Transport != "udp" ||
			g.Source != "192.0.2.1:5060" || !g.ExpiresAt.Equal(now.Add(time.Minute)) {
			t.Errorf("expired binding %+v", g)
		}
		left, err := s.DeviceBindings(ctx, d.ID, now)
		if err != nil || len(left) != 1 || left[0].Contact != "sip:new@h" {
			t.Errorf("bindings left %+v %v", left, err)
		}
	})
}
