package store

import (
	"context"
	"testing"
	"time"
)

func TestPushBindings(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		ten, u := newTenantUser(t, s)
		d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1700000000000).UTC()
		push := PushParams{Provider: "apns", PRID: "0badc0ffee", Param: "TEAM.be.example.app.voip"}
		changes := []BindingChange{
			{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:m@10.0.0.1;transport=tcp;pn-provider=apns;pn-prid=0badc0ffee", Source: "10.0.0.1:5060",
				Transport: "tcp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now, Instance: "urn:uuid:1", Push: push}},
			{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: "sip:desk@10.0.0.2", Source: "10.0.0.2:5060",
				Transport: "udp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}},
		}
		if err := s.ApplyBindings(ctx, changes); err != nil {
			t.Fatal(err)
		}
		// A restart keeps them: reopen the database.
		s.Close()
		s = db.open(t)
		_, regs, err := s.DeviceRegistration(ctx, d.SIPUsername, now)
		if err != nil || len(regs) != 2 || regs[1].Push != push || regs[1].Instance != "urn:uuid:1" || regs[0].Push.Wakeable() {
			t.Fatalf("DeviceRegistration after reopening: %+v %v", regs, err)
		}
		if bs, err := s.UserBindings(ctx, u.ID, now); err != nil || len(bs) != 2 || bs[1].Push != push || bs[1].Instance != "urn:uuid:1" {
			t.Fatalf("UserBindings: %+v %v", bs, err)
		}
		if n, err := s.DeletePushBinding(ctx, d.ID, "fcm", "0badc0ffee"); err != nil || n != 0 {
			t.Errorf("another provider's token removed %d, %v", n, err)
		}
		if n, err := s.DeletePushBinding(ctx, d.ID, "apns", "0badc0ffee"); err != nil || n != 1 {
			t.Errorf("removed %d, %v", n, err)
		}
		bs, err := s.UserBindings(ctx, u.ID, now)
		if err != nil || len(bs) != 1 || bs[0].Contact != "sip:desk@10.0.0.2" {
			t.Errorf("left: %+v %v", bs, err)
		}
	})
}
