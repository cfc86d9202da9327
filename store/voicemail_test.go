package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestVoicemailStore(t *testing.T) { forEachStore(t, testVoicemailStore) }

func testVoicemailStore(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)

	box, err := s.UserVoicemailBox(ctx, f.a.ID, f.a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.UserVoicemailBox(ctx, f.a.ID, f.a1.ID)
	if err != nil || again.ID != box.ID {
		t.Fatalf("second lookup made another box: %v %v", again.ID, err)
	}
	if box.UserID != f.a1.ID || box.MaxSeconds != 180 || !box.EmailNotify {
		t.Fatalf("box %+v", box)
	}
	if _, err := s.UserVoicemailBox(ctx, f.a.ID, f.aLight.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("light licence box: %v", err)
	}
	if _, err := s.UserVoicemailBox(ctx, f.b.ID, f.a1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant's user: %v", err)
	}
	g, err := s.CreateHuntGroup(ctx, HuntGroup{TenantID: f.a.ID, Name: "Sales", Strategy: "ring_all", MemberTimeout: 10 * time.Second,
		Timeout: 30 * time.Second, Members: []string{f.a1.ID}, Overflow: Destination{Type: DestVoicemail, ID: f.a1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := s.GroupVoicemailBox(ctx, f.a.ID, g.ID)
	if err != nil || gb.GroupID != g.ID || gb.UserID != "" {
		t.Fatalf("group box %+v %v", gb, err)
	}

	// Language: the user's (default nl), then the tenant's for a group box.
	if lang, err := s.VoicemailLanguage(ctx, box); err != nil || lang != "nl" {
		t.Fatalf("user box language %q %v", lang, err)
	}
	if lang, err := s.VoicemailLanguage(ctx, gb); err != nil || lang != "" {
		t.Fatalf("group box language %q %v", lang, err)
	}

	if err := s.SetVoicemailPIN(ctx, f.b.ID, box.ID, "h"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PIN through another tenant: %v", err)
	}
	if err := s.SetVoicemailPIN(ctx, f.a.ID, box.ID, "hash"); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.VoicemailBoxByID(ctx, f.a.ID, box.ID); b.PINHash != "hash" {
		t.Fatalf("pin hash %q", b.PINHash)
	}

	if err := s.SetVoicemailGreeting(ctx, box.ID, GreetingBusy, "/x/busy.wav"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVoicemailGreeting(ctx, box.ID, GreetingBusy, "/x/busy2.wav"); err != nil {
		t.Fatal(err)
	}
	if gr, err := s.VoicemailGreetings(ctx, box.ID); err != nil || len(gr) != 1 || gr[GreetingBusy] != "/x/busy2.wav" {
		t.Fatalf("greetings %v %v", gr, err)
	}
	if p, err := s.DeleteVoicemailGreeting(ctx, box.ID, GreetingBusy); err != nil || p != "/x/busy2.wav" {
		t.Fatalf("delete greeting %q %v", p, err)
	}

	at := time.UnixMilli(1_780_000_000_123).UTC()
	m := VoicemailMessage{ID: NewVoicemailMessageID(), TenantID: f.a.ID, BoxID: box.ID, Caller: "202", CallerName: "A 2",
		ReceivedAt: at, Duration: 4200 * time.Millisecond, Path: "/x/m1.wav"}
	if created, err := s.CreateVoicemailMessage(ctx, m); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	// The same file met again (recovery) is not a second message.
	if created, err := s.CreateVoicemailMessage(ctx, VoicemailMessage{TenantID: f.a.ID, BoxID: box.ID, ReceivedAt: at, Path: "/x/m1.wav"}); err != nil || created {
		t.Fatalf("duplicate path: %v %v", created, err)
	}
	m2 := m
	m2.ID, m2.Path, m2.ReceivedAt = NewVoicemailMessageID(), "/x/m2.wav", at.Add(time.Minute)
	if _, err := s.CreateVoicemailMessage(ctx, m2); err != nil {
		t.Fatal(err)
	}
	list, err := s.VoicemailMessages(ctx, f.a.ID, box.ID)
	if err != nil || len(list) != 2 || list[0] != m || list[1].ID != m2.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	if l, _ := s.VoicemailMessages(ctx, f.b.ID, box.ID); len(l) != 0 {
		t.Fatalf("another tenant sees %d messages", len(l))
	}
	if n, o, err := s.VoicemailCounts(ctx, f.a.ID, box.ID); err != nil || n != 2 || o != 0 {
		t.Fatalf("counts %d/%d %v", n, o, err)
	}
	if err := s.MarkVoicemailRead(ctx, f.a.ID, box.ID, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkVoicemailRead(ctx, f.b.ID, box.ID, m.ID, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mark through another tenant: %v", err)
	}
	if n, o, _ := s.VoicemailCounts(ctx, f.a.ID, box.ID); n != 1 || o != 1 {
		t.Fatalf("counts after read %d/%d", n, o)
	}
	if n, o, err := s.UserVoicemailCounts(ctx, f.a.ID, f.a1.ID); err != nil || n != 1 || o != 1 {
		t.Fatalf("counts by user %d/%d %v", n, o, err)
	}
	if n, o, err := s.UserVoicemailCounts(ctx, f.b.ID, f.a1.ID); err != nil || n != 0 || o != 0 {
		t.Fatalf("counts by user through another tenant %d/%d %v", n, o, err)
	}
	if _, err := s.DeleteVoicemailMessage(ctx, f.b.ID, box.ID, m.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete through another tenant: %v", err)
	}
	if p, err := s.DeleteVoicemailMessage(ctx, f.a.ID, box.ID, m.ID); err != nil || p != "/x/m1.wav" {
		t.Fatalf("delete %q %v", p, err)
	}
	if n, o, _ := s.VoicemailCounts(ctx, f.a.ID, box.ID); n != 1 || o != 0 {
		t.Fatalf("counts after delete %d/%d", n, o)
	}
	// A terminated licence takes its box and messages with it.
	if err := s.TerminateUser(ctx, f.a.ID, f.a1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VoicemailBoxByID(ctx, f.a.ID, box.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("box of a terminated licence: %v", err)
	}
}
