package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCampaigns(t *testing.T) { forEachStore(t, testCampaigns) }

func testCampaigns(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, _ := newTenantUser(t, s)
	other, err := s.CreateTenant(ctx, Tenant{Name: "Other", Domain: NewID("d") + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c, err := s.CreateCampaign(ctx, Campaign{TenantID: ten.ID, Name: "Spring", Mode: "broadcast", AudioID: "aud1", CallerID: "+3250123456",
		TimeZone: "Europe/Brussels", Hours: `[]`, MaxConcurrent: 2, CallsPerMinute: 10, MaxAttempts: 2, RetryAfter: time.Minute, RingTimeout: 30 * time.Second})
	if err != nil || c.State != CampaignDraft {
		t.Fatalf("create: %+v %v", c, err)
	}
	if _, err := s.Campaign(ctx, other.ID, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant's campaign: %v", err)
	}
	got, err := s.Campaign(ctx, ten.ID, c.ID)
	if err != nil || got.RetryAfter != time.Minute || got.RingTimeout != 30*time.Second || got.MaxConcurrent != 2 || got.AudioID != "aud1" {
		t.Fatalf("read back: %+v %v", got, err)
	}
	// Contacts land all or none; a duplicate number refuses the lot.
	if err := s.AddCampaignContacts(ctx, c.ID, []CampaignContact{{Number: "+3221111111", Name: "A"}, {Number: "+3222222222"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCampaignContacts(ctx, c.ID, []CampaignContact{{Number: "+3223333333"}, {Number: "+3221111111"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	cs, err := s.CampaignContacts(ctx, c.ID)
	if err != nil || len(cs) != 2 || cs[0].Position != 1 || cs[1].Number != "+3222222222" || cs[0].Status != ContactPending {
		t.Fatalf("contacts: %+v %v", cs, err)
	}
	// States move only along the allowed edges.
	if err := s.SetCampaignState(ctx, ten.ID, c.ID, []string{CampaignPaused}, CampaignRunning, false, now); !errors.Is(err, ErrConflict) {
		t.Fatalf("resume a draft: %v", err)
	}
	if err := s.SetCampaignState(ctx, other.ID, c.ID, []string{CampaignDraft}, CampaignRunning, false, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("start through another tenant: %v", err)
	}
	if err := s.SetCampaignState(ctx, ten.ID, c.ID, []string{CampaignDraft}, CampaignRunning, false, now); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunningCampaigns(ctx)
	if err != nil || len(run) != 1 || run[0].ID != c.ID || !run[0].StartedAt.Equal(now) {
		t.Fatalf("running: %+v %v", run, err)
	}
	// An attempt: claimed once, then retried after it was busy.
	due, err := s.DueCampaignContacts(ctx, c.ID, 2, now, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %+v %v", due, err)
	}
	if ok, err := s.ClaimCampaignContact(ctx, c.ID, 1, now); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := s.ClaimCampaignContact(ctx, c.ID, 1, now); ok {
		t.Fatal("claimed twice")
	}
	if err := s.FinishCampaignAttempt(ctx, CampaignContact{CampaignID: c.ID, Position: 1, Status: ContactBusy, NextAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueCampaignContacts(ctx, c.ID, 2, now, 10); len(due) != 1 || due[0].Position != 2 {
		t.Fatalf("due after busy: %+v", due)
	}
	if at, ok, err := s.NextCampaignContactAt(ctx, c.ID, 2); !ok || err != nil || !at.Equal(time.Unix(0, 0).UTC()) {
		t.Fatalf("next: %v %v %v", at, ok, err)
	}
	// An attempt a stopped node left under way is failed and due again.
	if ok, _ := s.ClaimCampaignContact(ctx, c.ID, 2, now); !ok {
		t.Fatal("claim 2")
	}
	if n, err := s.RecoverCampaignAttempts(ctx); n != 1 || err != nil {
		t.Fatalf("recover: %d %v", n, err)
	}
	p, err := s.CampaignProgress(ctx, c.ID)
	if err != nil || p[ContactBusy] != 1 || p[ContactFailed] != 1 {
		t.Fatalf("progress: %v %v", p, err)
	}
	// Out of attempts: nothing left to dial.
	for _, pos := range []int{1, 2} {
		if ok, _ := s.ClaimCampaignContact(ctx, c.ID, pos, now); !ok {
			t.Fatalf("claim %d again", pos)
		}
		if err := s.FinishCampaignAttempt(ctx, CampaignContact{CampaignID: c.ID, Position: pos, Status: ContactAnswered, Duration: 7 * time.Second, Agent: "u1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := s.NextCampaignContactAt(ctx, c.ID, 2); ok {
		t.Fatal("contacts left after every one answered")
	}
	if cs, _ := s.CampaignContacts(ctx, c.ID); cs[0].Duration != 7*time.Second || cs[0].Agent != "u1" || cs[0].Attempts != 2 {
		t.Fatalf("result: %+v", cs[0])
	}
	if err := s.SetCampaignState(ctx, ten.ID, c.ID, []string{CampaignRunning, CampaignPaused}, CampaignFinished, true, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, ten.ID, c.ID); got.State != CampaignFinished || !got.Cancelled || !got.FinishedAt.Equal(now) {
		t.Fatalf("finished: %+v", got)
	}
}

func TestDoNotCall(t *testing.T) { forEachStore(t, testDoNotCall) }

func testDoNotCall(t *testing.T, s *Store) {
	ctx := context.Background()
	ten, _ := newTenantUser(t, s)
	other, err := s.CreateTenant(ctx, Tenant{Name: "Other", Domain: NewID("d") + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.ReplacePlatformDNC(ctx, []string{"+3250000001", "+3250000002", "+3250000001"}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTenantDNC(ctx, ten.ID, "+3250000003", "api", now); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTenantDNC(ctx, ten.ID, "+3250000003", "keypad", now); err != nil {
		t.Fatalf("added twice: %v", err)
	}
	for _, c := range []struct{ tenant, number, want string }{
		{ten.ID, "+3250000001", "platform"}, {other.ID, "+3250000002", "platform"},
		{ten.ID, "+3250000003", "tenant"}, {other.ID, "+3250000003", ""}, {ten.ID, "+3250000009", ""},
	} {
		if got, err := s.DoNotCall(ctx, c.tenant, c.number); got != c.want || err != nil {
			t.Errorf("DoNotCall(%s): %q %v, want %q", c.number, got, err, c.want)
		}
	}
	// A new import replaces the list whole.
	if err := s.ReplacePlatformDNC(ctx, []string{"+3250000002"}, now); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PlatformDNCCount(ctx); n != 1 {
		t.Fatalf("platform list: %d numbers", n)
	}
	if got, _ := s.DoNotCall(ctx, ten.ID, "+3250000001"); got != "" {
		t.Fatalf("dropped number still listed: %q", got)
	}
	if err := s.RemoveTenantDNC(ctx, other.ID, "+3250000003"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove through another tenant: %v", err)
	}
	if err := s.RemoveTenantDNC(ctx, ten.ID, "+3250000003"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.TenantDNC(ctx, ten.ID); len(l) != 0 {
		t.Fatalf("tenant list: %v", l)
	}
}
