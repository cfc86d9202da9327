package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// routingFixture is two tenants, each with two full licences and a light one.
type routingFixture struct {
	s                  *Store
	a, b               Tenant
	a1, a2, aLight, b1 User
}

func newRoutingFixture(t *testing.T, s *Store) routingFixture {
	t.Helper()
	ctx := context.Background()
	f := routingFixture{s: s}
	var err error
	must := func(u User, err error) User {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if f.a, err = f.s.CreateTenant(ctx, Tenant{Name: "A", Domain: "a.test", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	if f.b, err = f.s.CreateTenant(ctx, Tenant{Name: "B", Domain: "b.test"}); err != nil {
		t.Fatal(err)
	}
	f.a1 = must(f.s.CreateUser(ctx, User{TenantID: f.a.ID, FirstName: "A", LastName: "1", Licence: LicenceFull, Extension: "201"}))
	f.a2 = must(f.s.CreateUser(ctx, User{TenantID: f.a.ID, FirstName: "A", LastName: "2", Licence: LicenceFull, Extension: "202"}))
	f.aLight = must(f.s.CreateUser(ctx, User{TenantID: f.a.ID, FirstName: "A", LastName: "L", Licence: LicenceLight}))
	f.b1 = must(f.s.CreateUser(ctx, User{TenantID: f.b.ID, FirstName: "B", LastName: "1", Licence: LicenceFull, Extension: "201"}))
	return f
}

func TestNumbersStore(t *testing.T) { forEachStore(t, testNumbersStore) }

func testNumbersStore(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)
	if got, _ := s.Tenant(ctx, f.a.ID); got.Timezone != "Europe/Paris" {
		t.Fatalf("tenant time zone %q", got.Timezone)
	}
	n, err := s.CreateNumber(ctx, Number{TenantID: f.a.ID, E164: "+3221234567", Destination: Destination{Type: DestUser, ID: f.a1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNumber(ctx, Number{TenantID: f.b.ID, E164: "+3221234567", Destination: Destination{Type: DestUser, ID: f.b1.ID}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("another tenant took the number: %v", err)
	}
	got, err := s.NumberByE164(ctx, "+3221234567")
	if err != nil || got.TenantID != f.a.ID || got.Destination != (Destination{Type: DestUser, ID: f.a1.ID}) {
		t.Fatalf("NumberByE164 = %+v, %v", got, err)
	}
	if _, err := s.NumberByE164(ctx, "+3221234568"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown number: %v", err)
	}
	if _, err := s.Number(ctx, f.b.ID, n.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("B reads A's number")
	}
	if err := s.SetNumberDestination(ctx, f.b.ID, n.ID, Destination{Type: DestExternal, Number: "+33123456789"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B changed A's number: %v", err)
	}

	// Caller id: the tenant's own numbers only.
	if err := s.SetUserCallerID(ctx, f.b.ID, f.b1.ID, n.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B's user took A's number as caller id: %v", err)
	}
	if err := s.SetUserCallerID(ctx, f.a.ID, f.a1.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := s.UserCallerID(ctx, f.a.ID, f.a1.ID); err != nil || c.E164 != "+3221234567" {
		t.Fatalf("UserCallerID = %+v, %v", c, err)
	}
	if err := s.DeleteNumber(ctx, f.a.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserCallerID(ctx, f.a.ID, f.a1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("caller id outlived its number: %v", err)
	}
	// Released, the number can go to B.
	if _, err := s.CreateNumber(ctx, Number{TenantID: f.b.ID, E164: "+3221234567", Destination: Destination{Type: DestUser, ID: f.b1.ID}}); err != nil {
		t.Fatal(err)
	}
}

func TestHuntGroupsStore(t *testing.T) { forEachStore(t, testHuntGroupsStore) }

func testHuntGroupsStore(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)
	g := HuntGroup{TenantID: f.a.ID, Name: "Sales", Extension: "600", Strategy: StrategyRoundRobin, Members: []string{f.a2.ID, f.a1.ID},
		MemberTimeout: 15 * time.Second, Timeout: time.Minute, Queue: &Queue{MaxWait: 2 * time.Minute, Music: "jazz", AnnouncePosition: true},
		Overflow: Destination{Type: DestVoicemail, ID: f.a1.ID}}
	g, err := s.CreateHuntGroup(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.HuntGroup(ctx, f.a.ID, g.ID)
	if err != nil || strings.Join(got.Members, ",") != f.a2.ID+","+f.a1.ID || got.Queue == nil || got.Queue.MaxWait != 2*time.Minute ||
		got.MemberTimeout != 15*time.Second || got.Overflow.Type != DestVoicemail {
		t.Fatalf("HuntGroup = %+v (queue %+v), %v", got, got.Queue, err)
	}
	if byExt, err := s.HuntGroupByExtension(ctx, f.a.ID, "600"); err != nil || byExt.ID != g.ID {
		t.Fatalf("HuntGroupByExtension = %+v, %v", byExt, err)
	}
	if _, err := s.HuntGroup(ctx, f.b.ID, g.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("B reads A's group")
	}
	bad := []HuntGroup{
		{TenantID: f.a.ID, Name: "x", Extension: "201", Strategy: StrategyLinear, Overflow: Destination{Type: DestUser, ID: f.a1.ID}},               // a user's extension
		{TenantID: f.a.ID, Name: "x", Extension: "600", Strategy: StrategyLinear, Overflow: Destination{Type: DestUser, ID: f.a1.ID}},               // another group's
		{TenantID: f.a.ID, Name: "x", Strategy: StrategyLinear, Members: []string{f.aLight.ID}, Overflow: Destination{Type: DestUser, ID: f.a1.ID}}, // light licence
		{TenantID: f.a.ID, Name: "x", Strategy: StrategyLinear, Members: []string{f.b1.ID}, Overflow: Destination{Type: DestUser, ID: f.a1.ID}},     // B's user
		{TenantID: f.a.ID, Name: "x", Strategy: "shout", Overflow: Destination{Type: DestUser, ID: f.a1.ID}},                                        // unknown strategy
	}
	for i, x := range bad {
		if _, err := s.CreateHuntGroup(ctx, x); err == nil {
			t.Errorf("bad group %d accepted", i)
		}
	}
	if _, err := s.CreateHuntGroup(ctx, bad[0]); !errors.Is(err, ErrExtensionTaken) || !errors.Is(err, ErrConflict) {
		t.Errorf("user's extension: %v", err)
	}
	if gs, _ := s.HuntGroups(ctx, f.a.ID); len(gs) != 1 {
		t.Fatalf("a refused group was stored: %d groups", len(gs))
	}

	// Routing state.
	if err := s.HuntGroupAnswered(ctx, g.ID, f.a1.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.HuntGroup(ctx, f.a.ID, g.ID); got.LastAnsweredMember != f.a1.ID {
		t.Fatalf("last answered %q", got.LastAnsweredMember)
	}
	at := time.Date(2026, 12, 4, 9, 0, 0, 123e6, time.UTC)
	if err := s.UserCallEnded(ctx, f.a2.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.UserCallEnded(ctx, "usr_gone", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	idle, err := s.UsersLastCallEnded(ctx, []string{f.a1.ID, f.a2.ID})
	if err != nil || !idle[f.a2.ID].Equal(at) || len(idle) != 1 {
		t.Fatalf("UsersLastCallEnded = %v, %v", idle, err)
	}

	// A terminated member leaves the group.
	if err := s.TerminateUser(ctx, f.a.ID, f.a2.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.HuntGroup(ctx, f.a.ID, g.ID); len(got.Members) != 1 || got.Members[0] != f.a1.ID {
		t.Fatalf("members after termination: %v", got.Members)
	}
	// A group a number leads to cannot be deleted.
	n, err := s.CreateNumber(ctx, Number{TenantID: f.a.ID, E164: "+3250123456", Destination: Destination{Type: DestHuntGroup, ID: g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHuntGroup(ctx, f.a.ID, g.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "+3250123456") {
		t.Fatalf("delete of a used group: %v", err)
	}
	s.DeleteNumber(ctx, f.a.ID, n.ID)
	if err := s.DeleteHuntGroup(ctx, f.b.ID, g.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B deleted A's group: %v", err)
	}
	if err := s.DeleteHuntGroup(ctx, f.a.ID, g.ID); err != nil {
		t.Fatal(err)
	}
}

func TestCallFlowsStore(t *testing.T) { forEachStore(t, testCallFlowsStore) }

func testCallFlowsStore(t *testing.T, s *Store) {
	ctx := context.Background()
	f := newRoutingFixture(t, s)
	au, err := s.CreateAudio(ctx, Audio{TenantID: f.a.ID, Name: "hello.wav", Duration: 1500 * time.Millisecond, Size: 24044})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Audio(ctx, f.a.ID, au.ID); err != nil || got.Duration != 1500*time.Millisecond || got.Size != 24044 {
		t.Fatalf("Audio = %+v, %v", got, err)
	}
	refs := []FlowRef{{RefAudio, au.ID}, {DestUser, f.a1.ID}}
	fl, err := s.CreateCallFlow(ctx, f.a.ID, "Main", []byte(`{"v":1}`), refs)
	if err != nil || fl.Version != 1 {
		t.Fatalf("CreateCallFlow = %+v, %v", fl, err)
	}
	// Another tenant's objects are not references of A's flow.
	if _, err := s.CreateCallFlow(ctx, f.a.ID, "Bad", []byte(`{}`), []FlowRef{{DestUser, f.b1.ID}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B's user in A's flow: %v", err)
	}
	if _, err := s.CreateCallFlow(ctx, f.a.ID, "Bad", []byte(`{}`), []FlowRef{{DestVoicemail, f.aLight.ID}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("light licence in a flow: %v", err)
	}
	if fs, _ := s.CallFlows(ctx, f.a.ID); len(fs) != 1 {
		t.Fatalf("a refused flow was stored: %d flows", len(fs))
	}
	if err := s.DeleteAudio(ctx, f.a.ID, au.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("audio in use deleted: %v", err)
	}
	v2, err := s.PublishCallFlow(ctx, f.a.ID, fl.ID, "Main v2", []byte(`{"v":2}`), nil)
	if err != nil || v2.Version != 2 {
		t.Fatalf("publish = %+v, %v", v2, err)
	}
	// A failed publish changes nothing.
	if _, err := s.PublishCallFlow(ctx, f.a.ID, fl.ID, "Broken", []byte(`{"v":3}`), []FlowRef{{RefAudio, "aud_gone"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("publish with a missing audio: %v", err)
	}
	cur, err := s.CallFlow(ctx, f.a.ID, fl.ID)
	if err != nil || cur.Version != 2 || string(cur.Graph) != `{"v":2}` || cur.Name != "Main v2" {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	old, err := s.CallFlowVersion(ctx, f.a.ID, fl.ID, 1)
	if err != nil || string(old.Graph) != `{"v":1}` {
		t.Fatalf("version 1 = %+v, %v", old, err)
	}
	if _, err := s.CallFlowVersion(ctx, f.b.ID, fl.ID, 1); !errors.Is(err, ErrNotFound) {
		t.Fatal("B reads A's flow")
	}
	if vs, err := s.CallFlowVersions(ctx, f.a.ID, fl.ID); err != nil || len(vs) != 2 || vs[1].Version != 2 {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	// Version 2 plays nothing: the audio is free.
	if err := s.DeleteAudio(ctx, f.a.ID, au.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.CreateNumber(ctx, Number{TenantID: f.a.ID, E164: "+3221234567", Destination: Destination{Type: DestCallFlow, ID: fl.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCallFlow(ctx, f.a.ID, fl.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete of a flow a number leads to: %v", err)
	}
	s.DeleteNumber(ctx, f.a.ID, n.ID)
	if err := s.DeleteCallFlow(ctx, f.a.ID, fl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CallFlowVersion(ctx, f.a.ID, fl.ID, 1); !errors.Is(err, ErrNotFound) {
		t.Fatal("versions outlived their flow")
	}
}
