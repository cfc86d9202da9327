package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestContacts(t *testing.T) { forEachStore(t, testContacts) }

func testContacts(t *testing.T, s *Store) {
	ctx := context.Background()
	a, _ := newTenantUser(t, s)
	b, err := s.CreateTenant(ctx, Tenant{Name: "Other", Domain: "other.test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateContact(ctx, Contact{TenantID: a.ID, Name: "Bakkerij Janssens", Numbers: []string{"+3250123456", "+32470123456"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateContact(ctx, Contact{TenantID: b.ID, Name: "Other's supplier", Numbers: []string{"+3250123456"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Contact(ctx, a.ID, c.ID)
	if err != nil || got.Name != c.Name || !slices.Equal(got.Numbers, c.Numbers) {
		t.Fatalf("contact: %+v %v", got, err)
	}
	if _, err := s.Contact(ctx, b.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant's contact: %v", err)
	}
	// The number names the contact in its own tenant only.
	if name, err := s.ContactNameByNumber(ctx, a.ID, "+32470123456"); err != nil || name != "Bakkerij Janssens" {
		t.Fatalf("by number: %q %v", name, err)
	}
	if name, _ := s.ContactNameByNumber(ctx, b.ID, "+3250123456"); name != "Other's supplier" {
		t.Fatalf("tenant b by number: %q", name)
	}
	if _, err := s.ContactNameByNumber(ctx, b.ID, "+32470123456"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tenant b sees tenant a's number: %v", err)
	}
	// An edit replaces the numbers.
	c.Name, c.Numbers = "Bakkerij Janssens & Zn", []string{"+3250999999"}
	if err := s.UpdateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ContactNameByNumber(ctx, a.ID, "+32470123456"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old number still named: %v", err)
	}
	if name, _ := s.ContactNameByNumber(ctx, a.ID, "+3250999999"); name != c.Name {
		t.Fatalf("new number: %q", name)
	}
	if err := s.UpdateContact(ctx, Contact{ID: c.ID, TenantID: b.ID, Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update through another tenant: %v", err)
	}
	// An import lands whole or not at all.
	if _, err := s.ImportContacts(ctx, a.ID, []Contact{{Name: "One", Numbers: []string{"+3221111111"}}, {ID: c.ID, Name: "Clash"}}); err == nil {
		t.Fatal("import with a clashing id succeeded")
	}
	if cs, _ := s.Contacts(ctx, a.ID); len(cs) != 1 {
		t.Fatalf("a failed import left %d contacts", len(cs))
	}
	if _, err := s.ImportContacts(ctx, a.ID, []Contact{{Name: "Alpha", Numbers: []string{"+3221111111"}}, {Name: "Zulu"}}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Contacts(ctx, a.ID)
	if err != nil || len(cs) != 3 || cs[0].Name != "Alpha" || len(cs[2].Numbers) != 0 {
		t.Fatalf("contacts by name: %+v %v", cs, err)
	}
	if err := s.DeleteContact(ctx, b.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete through another tenant: %v", err)
	}
	if err := s.DeleteContact(ctx, a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ContactNameByNumber(ctx, a.ID, "+3250999999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted contact's number: %v", err)
	}
}

func TestDeviceProfiles(t *testing.T) { forEachStore(t, testDeviceProfiles) }

func testDeviceProfiles(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, u := newTenantUser(t, s)
	d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "gigaset", Model: "N860", MAC: "7c2f80086001", SIPUsername: "u-prof"}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.DeviceProfile(ctx, ten.ID, d.ID); err != nil || p.HandsetModel != "" || p.Fax {
		t.Fatalf("zero profile: %+v %v", p, err)
	}
	for _, want := range []DeviceProfile{{DeviceID: d.ID, HandsetModel: "R700H"}, {DeviceID: d.ID, HandsetModel: "SL800H", Fax: true}} {
		if err := s.SetDeviceProfile(ctx, ten.ID, want); err != nil {
			t.Fatal(err)
		}
		if p, err := s.DeviceProfile(ctx, ten.ID, d.ID); err != nil || p != want {
			t.Fatalf("profile %+v, want %+v (%v)", p, want, err)
		}
	}
	if ps, err := s.DeviceProfiles(ctx, ten.ID); err != nil || len(ps) != 1 || ps[d.ID].HandsetModel != "SL800H" {
		t.Fatalf("profiles: %+v %v", ps, err)
	}
	other, err := s.CreateTenant(ctx, Tenant{Name: "Other", Domain: "other.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeviceProfile(ctx, other.ID, DeviceProfile{DeviceID: d.ID, Fax: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("profile through another tenant: %v", err)
	}
	if err := s.DeleteDevice(ctx, ten.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.DeviceProfiles(ctx, ten.ID); len(ps) != 0 {
		t.Fatalf("a deleted device's profile remains: %+v", ps)
	}
}
