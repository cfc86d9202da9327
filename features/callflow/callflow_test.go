package callflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// dir is a tenant's directory for the tests: u1 full, u2 light, hg1, vm1,
// audio a1 and a2.
type dir struct{}

func (dir) User(_ context.Context, id string) error {
	switch id {
	case "u1":
		return nil
	case "u2":
		return ErrLight
	}
	return ErrNotFound
}
func (dir) HuntGroup(_ context.Context, id string) error { return known(id, "hg1") }
func (dir) Voicemail(_ context.Context, id string) error { return known(id, "vm1") }
func (dir) Audio(_ context.Context, id string) error     { return known(id, "a1", "a2") }

func known(id string, ids ...string) error {
	if slices.Contains(ids, id) {
		return nil
	}
	return ErrNotFound
}

const office = `{
  "name": "Reception",
  "start": "hours",
  "nodes": {
    "hours": {"type": "schedule", "holidays": "BE",
      "hours": [{"days": ["mon","tue","wed","thu","fri"], "from": "08:00", "to": "12:30"},
                {"days": ["mon","tue","wed","thu","fri"], "from": "13:30", "to": "17:00"}],
      "exceptions": [{"date": "2026-12-24", "hours": [{"days": [], "from": "08:00", "to": "12:00"}]},
                     {"date": "2026-12-28", "closed": true}],
      "open": "welcome", "closed": "closed_msg"},
    "welcome": {"type": "play", "audio": "a1", "next": "menu"},
    "menu": {"type": "menu", "prompt": "a2", "options": {"1": "sales", "2": "support", "0": "operator"},
      "timeout": 4, "retries": 1, "invalid": "operator"},
    "sales": {"type": "hunt_group", "id": "hg1"},
    "support": {"type": "external", "number": "+3221234567"},
    "operator": {"type": "user", "id": "u1"},
    "closed_msg": {"type": "play", "audio": "a1", "next": "vm"},
    "vm": {"type": "voicemail", "id": "vm1"}
  }
}`

func mustParse(t *testing.T, s string) Graph {
	t.Helper()
	g, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func brussels(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Europe/Brussels")
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestValidFlow(t *testing.T) {
	if err := Validate(context.Background(), mustParse(t, office), dir{}); err != nil {
		t.Fatalf("valid flow refused: %v", err)
	}
}

func TestDryRun(t *testing.T) {
	g := mustParse(t, office)
	for _, tc := range []struct {
		at, digits string
		path       string
		dest       Destination
	}{
		{"2026-12-02 09:00", "1", "hours welcome menu sales", Destination{Type: "hunt_group", ID: "hg1"}},
		{"2026-12-02 09:00", "2", "hours welcome menu support", Destination{Type: "external", Number: "+3221234567"}},
		{"2026-12-02 09:00", "9", "hours welcome menu operator", Destination{Type: "user", ID: "u1"}}, // invalid twice → invalid branch
		{"2026-12-02 09:00", "91", "hours welcome menu sales", Destination{Type: "hunt_group", ID: "hg1"}},
		{"2026-12-02 09:00", "", "hours welcome menu operator", Destination{Type: "user", ID: "u1"}},
		{"2026-12-02 12:45", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},       // lunch
		{"2026-12-05 10:00", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},       // Saturday
		{"2026-12-25 10:00", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},       // Christmas (a Friday)
		{"2026-05-14 10:00", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},       // Ascension 2026
		{"2026-12-24 11:00", "1", "hours welcome menu sales", Destination{Type: "hunt_group", ID: "hg1"}}, // exception hours
		{"2026-12-24 14:00", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},
		{"2026-12-28 10:00", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}}, // exception closed (Monday)
		{"2026-03-30 07:59", "1", "hours closed_msg vm", Destination{Type: "voicemail", ID: "vm1"}},
		{"2026-03-30 08:00", "1", "hours welcome menu sales", Destination{Type: "hunt_group", ID: "hg1"}}, // first Monday of summer time
	} {
		path, dest, err := DryRun(context.Background(), g, "", brussels(t, tc.at), tc.digits)
		if err != nil || strings.Join(path, " ") != tc.path || dest != tc.dest {
			t.Errorf("%s %q: path %v dest %+v err %v; want %s → %+v", tc.at, tc.digits, path, dest, err, tc.path, tc.dest)
		}
	}
	// The same instant seen from a schedule in another zone.
	g.Nodes["hours"] = func(n Node) Node { n.Timezone = "America/New_York"; return n }(g.Nodes["hours"])
	if path, _, _ := DryRun(context.Background(), g, "", brussels(t, "2026-12-02 09:00"), "1"); path[1] != "closed_msg" {
		t.Errorf("09:00 in Brussels is 03:00 in New York, yet the path is %v", path)
	}
}

func TestVoicemailAccessNode(t *testing.T) {
	g := mustParse(t, `{"name":"m","start":"m","music":"jazz","nodes":{"m":{"type":"menu","options":{"9":"v"}},"v":{"type":"voicemail_access"}}}`)
	if err := Validate(context.Background(), g, dir{}); err != nil {
		t.Fatal(err)
	}
	_, dest, err := DryRun(context.Background(), g, "", time.Now(), "9")
	if err != nil || dest.Type != TypeVoicemailAccess {
		t.Fatalf("dest %+v err %v", dest, err)
	}
}

func TestMenuWithoutInvalidHangsUp(t *testing.T) {
	g := mustParse(t, `{"name":"m","start":"m","nodes":{"m":{"type":"menu","options":{"1":"u"}},"u":{"type":"user","id":"u1"}}}`)
	_, dest, err := DryRun(context.Background(), g, "", time.Now(), "")
	if err != nil || dest.Type != TypeHangup {
		t.Fatalf("dest %+v err %v", dest, err)
	}
}

func TestValidationFindsEverything(t *testing.T) {
	bad := `{
  "name": "",
  "start": "nowhere",
  "music": "Bad Class!",
  "nodes": {
    "a": {"type": "schedule", "hours": [{"days": ["mon","xyz"], "from": "18:00", "to": "08:00"}], "timezone": "Mars/Olympus", "open": "b"},
    "b": {"type": "play", "audio": "nope", "next": "ghost"},
    "c": {"type": "menu", "options": {"11": "d", "2": "zz"}, "timeout": 99, "retries": -1},
    "d": {"type": "user", "id": "u2"},
    "e": {"type": "user", "id": "other-tenant-user"},
    "f": {"type": "hunt_group"},
    "g": {"type": "external", "number": "12ab"},
    "h": {"type": "teleport"},
    "i": {"type": "play", "audio": "a1", "next": "i"}
  }
}`
	err := Validate(context.Background(), mustParse(t, bad), dir{})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{
		"name", "start", "music",
		"nodes.a.hours[0].days", "nodes.a.hours[0].to", "nodes.a.timezone", "nodes.a.closed",
		"nodes.b.audio", "nodes.b.next",
		"nodes.c.options.11", "nodes.c.options.2", "nodes.c.timeout", "nodes.c.retries",
		"nodes.d.id", "nodes.e.id", "nodes.f.id", "nodes.g.number", "nodes.h.type", "nodes.i.next",
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.Field] = p.Detail
	}
	for _, f := range want {
		if _, ok := got[f]; !ok {
			t.Errorf("no problem reported for %s; got %v", f, ps)
		}
	}
	if !strings.Contains(got["nodes.d.id"], "light licence") {
		t.Errorf("light licence: %q", got["nodes.d.id"])
	}
	if !strings.Contains(got["nodes.e.id"], "no user of this tenant") {
		t.Errorf("other tenant: %q", got["nodes.e.id"])
	}
}

func TestUnreachableAndSilentLoops(t *testing.T) {
	g := mustParse(t, `{"name":"x","start":"s","nodes":{
	  "s": {"type":"schedule","hours":[{"days":["mon"],"from":"08:00","to":"09:00"}],"open":"p1","closed":"p2"},
	  "p1": {"type":"play","audio":"a1","next":"p2"},
	  "p2": {"type":"play","audio":"a2","next":"s"},
	  "lonely": {"type":"hangup"}}}`)
	err := Validate(context.Background(), g, dir{})
	if err == nil || !strings.Contains(err.Error(), "nodes.lonely.type is not reachable") {
		t.Fatalf("unreachable node not reported: %v", err)
	}
	delete(g.Nodes, "lonely")
	err = Validate(context.Background(), g, dir{})
	if err == nil || !strings.Contains(err.Error(), "loop that never waits") {
		t.Fatalf("silent loop not reported: %v", err)
	}
	// Through a menu, the same loop waits for the caller: valid.
	g.Nodes["m"] = Node{Type: TypeMenu, Options: map[string]string{"1": "s"}}
	g.Nodes["p2"] = Node{Type: TypePlay, Audio: "a2", Next: "m"}
	if err := Validate(context.Background(), g, dir{}); err != nil {
		t.Fatalf("loop through a menu refused: %v", err)
	}
}

func TestParseRefusesUnknownFields(t *testing.T) {
	if _, err := Parse([]byte(`{"name":"x","start":"a","nodes":{"a":{"type":"hangup","colour":"red"}}}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestBelgianHolidays(t *testing.T) {
	for _, tc := range []struct{ date, want string }{
		{"2026-04-05", ""}, // Easter Sunday is a Sunday anyway
		{"2026-04-06", "easter_monday"},
		{"2026-05-14", "ascension"},
		{"2026-05-25", "whit_monday"},
		{"2027-03-29", "easter_monday"},
		{"2027-05-06", "ascension"},
		{"2026-07-21", "national_day"},
		{"2026-11-11", "armistice"},
		{"2026-07-22", ""},
	} {
		d, _ := time.Parse(time.DateOnly, tc.date)
		if got := BelgianHoliday(d); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.date, got, tc.want)
		}
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "08:30": 510, "24:00": 1440, "23:59": 1439} {
		if got, err := clock(in); err != nil || got != want {
			t.Errorf("clock(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-1:00", " 8:00", "8:00", "24:01", "12:60", "1a:00", "12:3-", "+1:00"} {
		if got, err := clock(in); err == nil {
			t.Errorf("clock(%q) = %d, want an error", in, got)
		}
	}
}

func TestNodeNames(t *testing.T) {
	g := mustParse(t, `{"name":"x","start":"a.b","nodes":{"a.b":{"type":"hangup"}}}`)
	err := Validate(context.Background(), g, dir{})
	if err == nil || !strings.Contains(err.Error(), `node name "a.b"`) {
		t.Fatalf("dotted node name: %v", err)
	}
}
