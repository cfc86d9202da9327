package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRecordingPoliciesAndSettings(t *testing.T) {
	forEachStore(t, testRecordingPoliciesAndSettings)
}

func testRecordingPoliciesAndSettings(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)
	ku := PolicyKey{PolicyUser, f.a1.ID}
	kg := PolicyKey{PolicyHuntGroup, "hg_x"}
	if m, err := s.RecordingPolicy(ctx, f.a.ID, ku); err != nil || m != RecordNever {
		t.Fatalf("unset policy %q %v", m, err)
	}
	if err := s.SetRecordingPolicy(ctx, f.a.ID, ku, RecordAlways); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecordingPolicy(ctx, f.a.ID, kg, RecordOnDemand); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecordingPolicy(ctx, f.a.ID, ku, RecordOnDemand); err != nil { // update
		t.Fatal(err)
	}
	m, err := s.RecordingPolicies(ctx, f.a.ID, []PolicyKey{ku, kg, {PolicyNumber, "num_y"}})
	if err != nil || len(m) != 2 || m[ku] != RecordOnDemand || m[kg] != RecordOnDemand {
		t.Fatalf("policies %v %v", m, err)
	}
	if m, _ := s.RecordingPolicies(ctx, f.b.ID, []PolicyKey{ku}); len(m) != 0 {
		t.Fatalf("another tenant sees %v", m)
	}
	if err := s.SetRecordingPolicy(ctx, f.a.ID, ku, RecordNever); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.RecordingPolicy(ctx, f.a.ID, ku); m != RecordNever {
		t.Fatalf("never kept as %q", m)
	}

	st, err := s.RecordingSettings(ctx, f.a.ID)
	if err != nil || st.RetentionDays != 90 || st.ToggleCode != "*1" || st.Export.Port != 22 {
		t.Fatalf("defaults %+v %v", st, err)
	}
	st.RetentionDays, st.Announce = 30, true
	st.Export = ExportSettings{Enabled: true, Host: "h", Port: 2222, Username: "u", HostKey: "ssh-ed25519 AAAA", Dir: "/in", DeleteLocal: true}
	pw := "pw"
	if err := s.SetRecordingSettings(ctx, st, SecretChange{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecordingSettings(ctx, f.a.ID)
	if err != nil || got.RetentionDays != 30 || !got.Announce || got.Export.Host != "h" || got.Export.Port != 2222 ||
		!got.Export.DeleteLocal || !got.Export.HasPassword || got.Export.HasKey {
		t.Fatalf("stored %+v %v", got, err)
	}
	key := "KEY"
	if err := s.SetRecordingSettings(ctx, got, SecretChange{PrivateKey: &key}); err != nil { // password kept
		t.Fatal(err)
	}
	if sec, err := s.RecordingExportSecrets(ctx, f.a.ID); err != nil || sec.Password != "pw" || sec.PrivateKey != "KEY" {
		t.Fatalf("secrets %+v %v", sec, err)
	}
	empty := ""
	if err := s.SetRecordingSettings(ctx, got, SecretChange{Password: &empty}); err != nil { // password removed
		t.Fatal(err)
	}
	if got, _ := s.RecordingSettings(ctx, f.a.ID); got.Export.HasPassword || !got.Export.HasKey {
		t.Fatalf("after removing the password %+v", got.Export)
	}
	st.RetentionDays = 91
	if err := s.SetRecordingSettings(ctx, st, SecretChange{}); err == nil {
		t.Fatal("91 days of retention accepted")
	}
}

func TestRecordingsStore(t *testing.T) { forEachStore(t, testRecordingsStore) }

func testRecordingsStore(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mk := func(tenant, call string, at time.Time, ps ...RecordingParty) Recording {
		t.Helper()
		r, err := s.CreateRecording(ctx, Recording{TenantID: tenant, CallID: call, StartedAt: at, ExpiresAt: at.AddDate(0, 0, 90), Parties: ps})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := mk(f.a.ID, "c1", t0, RecordingParty{Name: "A 1", Number: "201", UserID: f.a1.ID}, RecordingParty{Number: "+3225550000"})
	r2 := mk(f.a.ID, "c2", t0.Add(time.Hour), RecordingParty{Number: "202", UserID: f.a2.ID}, RecordingParty{Number: "201", UserID: f.a1.ID})
	rb := mk(f.b.ID, "c3", t0, RecordingParty{Number: "201", UserID: f.b1.ID})

	un, err := s.UnfinishedRecordings(ctx)
	if err != nil || len(un) != 3 {
		t.Fatalf("unfinished %d %v", len(un), err)
	}
	if err := s.FinishRecording(ctx, r1.ID, 61500*time.Millisecond, 1000, "ab", false, ExportPending); err != nil {
		t.Fatal(err)
	}
	got, err := s.Recording(ctx, f.a.ID, r1.ID)
	if err != nil || !got.Complete || got.Duration != 61500*time.Millisecond || got.Size != 1000 || got.SHA256 != "ab" ||
		got.Export.State != ExportPending || len(got.Parties) != 2 || got.Parties[1].Number != "+3225550000" || !got.StartedAt.Equal(t0) {
		t.Fatalf("finished %+v %v", got, err)
	}
	if _, err := s.Recording(ctx, f.b.ID, r1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant's recording: %v", err)
	}
	list := func(fl RecordingFilter) []string {
		t.Helper()
		rs, err := s.Recordings(ctx, f.a.ID, fl)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	eq(list(RecordingFilter{}), r2.ID, r1.ID)
	eq(list(RecordingFilter{Party: "+3225550000"}), r1.ID)
	eq(list(RecordingFilter{UserID: f.a2.ID}), r2.ID)
	eq(list(RecordingFilter{UserID: f.b1.ID}))
	eq(list(RecordingFilter{From: t0.Add(time.Minute)}), r2.ID)
	eq(list(RecordingFilter{To: t0.Add(time.Minute)}), r1.ID)

	due, err := s.DueExports(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].ID != r1.ID {
		t.Fatalf("due exports %v %v", due, err)
	}
	if err := s.SetRecordingExport(ctx, r1.ID, RecordingExport{State: ExportFailed, Attempts: 1, NextAt: t0.Add(time.Minute), Error: "down"}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueExports(ctx, t0, 10); len(due) != 0 {
		t.Fatalf("export due before its next attempt: %v", due)
	}
	if due, _ := s.DueExports(ctx, t0.Add(time.Minute), 10); len(due) != 1 || due[0].Export.Error != "down" || due[0].Export.Attempts != 1 {
		t.Fatalf("export due at its next attempt: %+v", due)
	}

	exp, err := s.ExpiredRecordings(ctx, t0.AddDate(0, 0, 90), 10)
	if err != nil || len(exp) != 2 { // r1 and rb
		t.Fatalf("expired %d %v", len(exp), err)
	}
	at := t0.AddDate(0, 0, 90)
	if err := s.RemoveRecording(ctx, r1, RecordingAudit{Action: "purged", Reason: "retention", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRecording(ctx, r1, RecordingAudit{Action: "purged", At: at}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	if err := s.AuditRecording(ctx, RecordingAudit{TenantID: f.a.ID, RecordingID: r2.ID, Action: "downloaded", Actor: "tok_1", At: at}); err != nil {
		t.Fatal(err)
	}
	log, err := s.RecordingAuditLog(ctx, f.a.ID, r1.ID)
	if err != nil || len(log) != 1 || log[0].Action != "purged" || log[0].CallID != "c1" || !log[0].At.Equal(at) {
		t.Fatalf("audit %+v %v", log, err)
	}
	if all, _ := s.RecordingAuditLog(ctx, f.a.ID, ""); len(all) != 2 {
		t.Fatalf("audit of the tenant %+v", all)
	}
	if other, _ := s.RecordingAuditLog(ctx, f.b.ID, ""); len(other) != 0 {
		t.Fatalf("another tenant's audit %+v", other)
	}
	_ = rb
}
