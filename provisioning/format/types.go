// Package format holds strict parsers for the configuration files the
// provisioning package generates: Yealink "key = value" files, Gigaset XML
// (ProviderFrame for N510/N720, <provisioning> for N670/N870/N860),
// Grandstream <gs_provision> P-value XML, and the company directories
// (Yealink remote phonebook, Grandstream phonebook, Gigaset online
// directory answer).
//
// They are stricter than the devices: every key must be known, appear once and
// hold a value of the expected type, so that a generator bug (a key written
// twice, a port that is not a number, a display name that smuggles in a line
// break) fails a test instead of reaching a phone. The tables list the keys the
// generators use plus a few neighbours from the vendor documentation.
package format

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// check validates one value.
type check func(v string) error

func text(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

func nonEmpty(v string) error {
	if v == "" {
		return fmt.Errorf("empty")
	}
	return text(v)
}

func intRange(lo, hi int) check {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || strconv.Itoa(n) != v {
			return fmt.Errorf("%q is not a decimal integer", v)
		}
		if n < lo || n > hi {
			return fmt.Errorf("%d outside %d..%d", n, lo, hi)
		}
		return nil
	}
}

func enum(values ...string) check {
	return func(v string) error {
		for _, x := range values {
			if v == x {
				return nil
			}
		}
		return fmt.Errorf("%q not one of %v", v, values)
	}
}

var (
	boolean = enum("0", "1")
	port    = intRange(1, 65535)
)

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func host(v string) error {
	if net.ParseIP(v) != nil {
		return nil
	}
	if v == "" || len(v) > 253 {
		return fmt.Errorf("%q is not a host name", v)
	}
	for _, l := range strings.Split(v, ".") {
		if !hostLabel.MatchString(l) {
			return fmt.Errorf("%q is not a host name", v)
		}
	}
	return nil
}

func httpURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an http(s) URL without credentials", v)
	}
	return nil
}

var dialString = regexp.MustCompile(`^[0-9*#+]{1,32}$`)

func dial(v string) error {
	if !dialString.MatchString(v) {
		return fmt.Errorf("%q is not a dial string", v)
	}
	return nil
}

var olson = regexp.MustCompile(`^[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+$`)

func olsonZone(v string) error {
	if !olson.MatchString(v) {
		return fmt.Errorf("%q is not an Area/City zone name", v)
	}
	return nil
}

func digits(n int) check {
	re := regexp.MustCompile(fmt.Sprintf(`^[0-9]{%d}$`, n))
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("%q is not %d digits", v, n)
		}
		return nil
	}
}

// segPattern matches dotted keys segment by segment. A segment pattern is a
// literal, "{a-b}" (a decimal integer in a..b, no leading zero), "{Nd}"
// (exactly N digits) or "{x|y|z}" (one of the words).
type segPattern struct {
	segs  []string
	check check
}

func (p segPattern) match(key string) bool {
	parts := strings.Split(key, ".")
	if len(parts) != len(p.segs) {
		return false
	}
	for i, s := range p.segs {
		if !matchSeg(s, parts[i]) {
			return false
		}
	}
	return true
}

func matchSeg(pat, s string) bool {
	if !strings.HasPrefix(pat, "{") {
		return pat == s
	}
	in := pat[1 : len(pat)-1]
	if strings.Contains(in, "|") {
		for _, w := range strings.Split(in, "|") {
			if w == s {
				return true
			}
		}
		return false
	}
	if strings.HasSuffix(in, "d") {
		n, _ := strconv.Atoi(strings.TrimSuffix(in, "d"))
		return digits(n)(s) == nil
	}
	lo, hi, _ := strings.Cut(in, "-")
	a, _ := strconv.Atoi(lo)
	b, _ := strconv.Atoi(hi)
	return intRange(a, b)(s) == nil
}

type table []segPattern

func (t table) lookup(key string) (check, bool) {
	for _, p := range t {
		if p.match(key) {
			return p.check, true
		}
	}
	return nil, false
}

func pat(key string, c check) segPattern { return segPattern{segs: strings.Split(key, "."), check: c} }
