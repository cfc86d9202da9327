package rating

import (
	"errors"
	"testing"
)

func TestParseEuro(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Micro
	}{{"0.0333", 33_300}, {"12", 12_000_000}, {"1.5", 1_500_000}, {".05", 50_000}, {"0.000001", 1}, {" 2.10 ", 2_100_000}} {
		if got, err := ParseEuro(c.in); err != nil || got != c.want {
			t.Errorf("ParseEuro(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", ".", "-1", "1,5", "0.0000001", "1e3", "abc", "1.2.3", "12345678901"} {
		if _, err := ParseEuro(bad); !errors.Is(err, ErrAmount) {
			t.Errorf("ParseEuro(%q) accepted: %v", bad, err)
		}
	}
	for m, want := range map[Micro]string{33_300: "0.0333", 12_000_000: "12.00", 1_500_000: "1.50", 1: "0.000001", 0: "0.00"} {
		if got := m.String(); got != want {
			t.Errorf("%d micro-euros written %q, want %q", m, got, want)
		}
	}
	if got := Cents(123456).String(); got != "1234.56" {
		t.Errorf("cents written %q", got)
	}
}

// TestPriceExactCents: per-second billing, each call rounded up to the
// cent, never floating point.
func TestPriceExactCents(t *testing.T) {
	perMin := func(s string) Micro {
		m, err := ParseEuro(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	national := Rate{PerMinute: perMin("0.06")} // 6 cents a minute: 0.1 cent a second
	withSetup := Rate{PerMinute: perMin("0.06"), Setup: perMin("0.15")}
	odd := Rate{PerMinute: perMin("0.0333")}
	for _, c := range []struct {
		name    string
		r       Rate
		seconds int
		want    Cents
	}{
		{"1 s", national, 1, 1},   // 0.1 cent -> 1
		{"59 s", national, 59, 6}, // 5.9 cents -> 6
		{"60 s", national, 60, 6}, // exactly 6
		{"61 s", national, 61, 7}, // 6.1 -> 7
		{"0 s", national, 0, 0},   // answered and hung up at once
		{"setup, 0 s", withSetup, 0, 15},
		{"setup, 1 s", withSetup, 1, 16},   // 15 + 0.1 -> 16
		{"setup, 60 s", withSetup, 60, 21}, // 15 + 6
		{"setup, 61 s", withSetup, 61, 22}, // 15 + 6.1 -> 22
		{"0.0333, 1 s", odd, 1, 1},         // 0.0555 cent
		{"0.0333, 59 s", odd, 59, 4},       // 3.2745 cents
		{"0.0333, 60 s", odd, 60, 4},       // 3.33
		{"0.0333, 61 s", odd, 61, 4},       // 3.3855
		{"0.0333, 1 h", odd, 3600, 200},    // 199.8
		{"0.0333, 601 s", odd, 601, 34},    // 33.3555
		{"0.0333, 600 s", odd, 600, 34},    // 33.3 -> 34
		{"free", Rate{}, 3600, 0},
	} {
		if got := c.r.Price(c.seconds); got != c.want {
			t.Errorf("%s: %d cents, want %d", c.name, got, c.want)
		}
	}
}

func TestLongestPrefix(t *testing.T) {
	rates := []Rate{{Prefix: "32", Name: "BE"}, {Prefix: "324", Name: "BE 04"}, {Prefix: "3247", Name: "BE mobile 047"}, {Prefix: "1", Name: "NANP"}}
	for number, want := range map[string]string{"+32470000001": "BE mobile 047", "+3242223344": "BE 04", "+3221234567": "BE", "+12125550100": "NANP"} {
		if r, ok := Longest(rates, number); !ok || r.Name != want {
			t.Errorf("%s: %+v %v, want %s", number, r, ok, want)
		}
	}
	if r, ok := Longest(rates, "+447700900000"); ok {
		t.Errorf("UK number rated %+v", r)
	}
	if p := Prefixes("+3221"); len(p) != 4 || p[0] != "3221" || p[3] != "3" {
		t.Errorf("prefixes %v", p)
	}
}

func TestClassify(t *testing.T) {
	for number, want := range map[string]Class{"+3221234567": NationalFixed, "+3278123456": NationalFixed, "+32470000001": Mobile,
		"+447700900000": International, "+3290012345": Special, "+3270123456": Special, "+3280012345": Special, "1307": Special} {
		if got := Classify(number); got != want {
			t.Errorf("%s: %s, want %s", number, got, want)
		}
	}
	for number, want := range map[string]bool{"+447700900000": true, "+3290612345": true, "+3221234567": false, "+32470000001": false} {
		if Guarded(number) != want {
			t.Errorf("guarded(%s) != %v", number, want)
		}
	}
}
