package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEmergencyCallsAndLocations(t *testing.T) { forEachStore(t, testEmergencyCallsAndLocations) }

func testEmergencyCallsAndLocations(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "A", LastName: "B", Licence: LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.CreateDevice(ctx, Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: NewID("u")}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	bind := func(contact, loc string, updated time.Time, expires time.Duration) BindingChange {
		return BindingChange{Binding: Binding{DeviceID: d.ID, TenantID: ten.ID, Contact: contact, Source: "127.0.0.1:5060", Transport: "udp",
			CallID: "c", CSeq: 1, ExpiresAt: now.Add(expires), UpdatedAt: updated, Location: loc}}
	}
	if doc, err := s.DeviceLocation(ctx, d.ID, now); err != nil || doc != "" {
		t.Fatalf("no binding: %q %v", doc, err)
	}
	if err := s.ApplyBindings(ctx, []BindingChange{bind("sip:a@x", "<old/>", now.Add(-time.Minute), time.Hour), bind("sip:b@x", "<new/>", now, time.Hour),
		bind("sip:c@x", "", now.Add(time.Second), time.Hour), bind("sip:d@x", "<expired/>", now.Add(time.Minute), -time.Second)}); err != nil {
		t.Fatal(err)
	}
	if doc, err := s.DeviceLocation(ctx, d.ID, now); err != nil || doc != "<new/>" {
		t.Fatalf("latest location: %q %v", doc, err)
	}
	// A refresh without a location clears that binding's.
	if err := s.ApplyBindings(ctx, []BindingChange{bind("sip:b@x", "", now, time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if doc, err := s.DeviceLocation(ctx, d.ID, now); err != nil || doc != "<old/>" {
		t.Fatalf("after a refresh without location: %q %v", doc, err)
	}

	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, num := range []string{"112", "101"} {
		if _, err := s.RecordEmergencyCall(ctx, EmergencyCall{TenantID: ten.ID, UserID: u.ID, DeviceID: d.ID, CallID: "call" + num, Number: num,
			Class: "on_site", Caller: "+3221234567", TrunkID: "trk_1", LocationSource: "site", Location: `{"civic":{"country":"BE"}}`,
			CreatedAt: at.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordEmergencyCall(ctx, EmergencyCall{TenantID: "ten_missing", CallID: "x", Number: "112", Class: "on_site", LocationSource: "none"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	calls, err := s.EmergencyCalls(ctx, ten.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Number != "101" || calls[1].Number != "112" || !calls[1].CreatedAt.Equal(at) || calls[1].Location != `{"civic":{"country":"BE"}}` ||
		calls[1].UserID != u.ID || calls[1].DeviceID != d.ID || calls[1].Caller != "+3221234567" || calls[1].TrunkID != "trk_1" || calls[1].LocationSource != "site" {
		t.Fatalf("calls %+v", calls)
	}
	if calls, err := s.EmergencyCalls(ctx, ten.ID, 1); err != nil || len(calls) != 1 {
		t.Fatalf("limit: %d %v", len(calls), err)
	}
}

func TestTenantWebhookAndDeliveries(t *testing.T) { forEachStore(t, testTenantWebhookAndDeliveries) }

func testTenantWebhookAndDeliveries(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if w, err := s.TenantWebhook(ctx, ten.ID); err != nil || w != (Webhook{}) {
		t.Fatalf("no webhook: %+v %v", w, err)
	}
	secret := "s3cret"
	if err := s.SetTenantWebhook(ctx, ten.ID, "https://hooks.example/pbx", &secret); err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	if err := s.r.QueryRowContext(ctx, `SELECT webhook_secret_enc FROM tenants WHERE id = ?`, ten.ID).Scan(&sealed); err != nil || len(sealed) == 0 || string(sealed) == secret {
		t.Fatalf("secret stored as %q (%v)", sealed, err)
	}
	if err := s.SetTenantWebhook(ctx, ten.ID, "https://hooks.example/v2", nil); err != nil {
		t.Fatal(err)
	}
	if w, err := s.TenantWebhook(ctx, ten.ID); err != nil || w != (Webhook{URL: "https://hooks.example/v2", Secret: "s3cret", SecretSet: true}) {
		t.Fatalf("webhook %+v %v", w, err)
	}
	empty := ""
	if err := s.SetTenantWebhook(ctx, ten.ID, "https://hooks.example/v2", &empty); err != nil {
		t.Fatal(err)
	}
	if w, err := s.TenantWebhook(ctx, ten.ID); err != nil || w.SecretSet || w.Secret != "" {
		t.Fatalf("secret removed: %+v %v", w, err)
	}
	if err := s.SetTenantWebhook(ctx, "ten_missing", "", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}

	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if _, ok, err := s.NextWebhookAt(ctx); err != nil || ok {
		t.Fatalf("nothing pending: %v %v", ok, err)
	}
	d1, err := s.EnqueueWebhook(ctx, WebhookDelivery{TenantID: ten.ID, Event: "emergency_call", Body: []byte(`{"a":1}`), NextAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueWebhook(ctx, WebhookDelivery{TenantID: ten.ID, Event: "emergency_call", Body: []byte(`{"a":2}`), NextAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if next, ok, err := s.NextWebhookAt(ctx); err != nil || !ok || !next.Equal(now) {
		t.Fatalf("next %v %v %v", next, ok, err)
	}
	due, err := s.DueWebhooks(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].ID != d1.ID || string(due[0].Body) != `{"a":1}` || due[0].Event != "emergency_call" || !due[0].NextAt.Equal(now) {
		t.Fatalf("due %+v %v", due, err)
	}
	if ok, err := s.ClaimWebhook(ctx, due[0], now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, err := s.ClaimWebhook(ctx, due[0], now.Add(time.Minute)); err != nil || ok {
		t.Fatalf("second claim of the same attempt: %v %v", ok, err)
	}
	if err := s.RetryWebhook(ctx, d1.ID, 1, now.Add(30*time.Second), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	due, err = s.DueWebhooks(ctx, now.Add(30*time.Second), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "HTTP 500" {
		t.Fatalf("after a retry: %+v %v", due, err)
	}
	if err := s.DeleteWebhook(ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, d1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if due, err := s.DueWebhooks(ctx, now.Add(2*time.Hour), 10); err != nil || len(due) != 1 {
		t.Fatalf("left: %+v %v", due, err)
	}
}
