package api

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNormalizeMAC(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"805EC0A1B2C3", "805ec0a1b2c3"},
		{"80:5e:c0:a1:b2:c3", "805ec0a1b2c3"},
		{"80-5E-C0-A1-B2-C3", "805ec0a1b2c3"},
		{"805e.c0a1.b2c3", "805ec0a1b2c3"},
		{" 80:5E:C0:A1:B2:C3 ", "805ec0a1b2c3"},
		{"", ""},
		{"805EC0A1B2", ""},
		{"805EC0A1B2C3D4", ""},
		{"80:5e:c0:a1:b2-c3", ""},
		{"80:5e:c0:a1:b2:g3", ""},
		{"80 5e c0 a1 b2 c3", ""},
		{"000000000000", ""},
		{"ffffffffffff", ""},
		{"01:00:5e:00:00:01", ""}, // IPv4 multicast
	} {
		got, err := normalizeMAC(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("normalizeMAC(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Acme":          "acme",
		"  Acme   NV ":  "acme-nv",
		"Café Zoë & Co": "cafe-zoe-co",
		"Straße 42":     "strasse-42",
		"!!!":           "",
		"--a--b--":      "a-b",
		"日本":            "",
		"":              "",
	} {
		if got := slugify(in); got != want {
			t.Errorf("slugify(%q) = %q, want %q", in, got, want)
		}
	}
	long := slugify("a-" + strings.Repeat("b", 80))
	if len(long) > 63 || !slugRE.MatchString(long) {
		t.Errorf("long slug %q", long)
	}
}

func TestParseSuspendUntil(t *testing.T) {
	now := time.Date(2025, 11, 30, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2025-12-01", true},
		{"2025-11-30", false}, // today
		{"2025-11-29", false},
		{"2026-03-02", true}, // Nov 30 + 3 months normalises to Mar 2
		{"2026-03-03", false},
		{"2025-12-1", false},
		{"", false},
	} {
		got, err := parseSuspendUntil(tc.in, now)
		if (err == nil) != tc.ok {
			t.Errorf("parseSuspendUntil(%q) = %v, %v; want ok=%v", tc.in, got, err, tc.ok)
		}
		if err == nil && (got.Hour() != 0 || got.Location() != time.UTC) {
			t.Errorf("parseSuspendUntil(%q) = %v, want midnight UTC", tc.in, got)
		}
	}
}

func TestGeneratedCredentials(t *testing.T) {
	userRE := regexp.MustCompile(`^[a-z][a-z0-9]{11}$`)
	passRE := regexp.MustCompile(`^[A-Za-z0-9]{24}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u, p := newSIPUsername(), newSIPPassword()
		if !userRE.MatchString(u) || !passRE.MatchString(p) || seen[u] || seen[p] {
			t.Fatalf("credential %q / %q", u, p)
		}
		seen[u], seen[p] = true, true
	}
}
