package api

import (
	"crypto/rand"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// text checks a free-text field and returns it trimmed.
func (fe *fieldErrors) text(field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		fe.add(field, "is required")
	case utf8.RuneCountInString(v) > max:
		fe.add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(v, unicode.IsControl):
		fe.add(field, "must not contain control characters")
	}
	return v
}

// oneOf checks an enumerated field.
func (fe *fieldErrors) oneOf(field, v string, required bool, allowed ...string) {
	switch {
	case v == "" && required:
		fe.add(field, "is required (one of %s)", strings.Join(allowed, ", "))
	case v != "" && !slices.Contains(allowed, v):
		fe.add(field, "must be one of %s", strings.Join(allowed, ", "))
	}
}

var extensionRE = regexp.MustCompile(`^[0-9]{2,6}$`)

func (fe *fieldErrors) extension(field, v string) {
	if !extensionRE.MatchString(v) {
		fe.add(field, "must be 2 to 6 digits")
	}
}

func (fe *fieldErrors) email(field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		fe.add(field, "must be a plain e-mail address such as an@example.com")
	}
	return v
}

// languages are those the voice prompts exist in.
var languages = []string{"nl", "fr", "de", "en"}

// forwardRE accepts an extension or a national or E.164 number.
var forwardRE = regexp.MustCompile(`^\+?[0-9]{2,20}$`)

func (fe *fieldErrors) forward(field, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !forwardRE.MatchString(v) {
		fe.add(field, "must be an extension or a phone number (digits, optionally a leading +), or empty to cancel")
	}
	return v
}

// Device kinds.
var deviceKinds = []string{"yealink", "gigaset", "grandstream", "softphone", "generic"}

// normalizeMAC accepts 805EC0A1B2C3, 80:5e:c0:a1:b2:c3, 80-5E-C0-A1-B2-C3 and
// 805e.c0a1.b2c3 and returns 12 lower-case hex digits.
func normalizeMAC(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var hex string
	switch {
	case len(s) == 12:
		hex = s
	case len(s) == 17 && (s[2] == ':' || s[2] == '-'):
		sep := s[2]
		for i := 2; i < 17; i += 3 {
			if s[i] != sep {
				return "", fmt.Errorf("mixes separators")
			}
		}
		hex = strings.ReplaceAll(s, string(sep), "")
	case len(s) == 14 && s[4] == '.' && s[9] == '.':
		hex = strings.ReplaceAll(s, ".", "")
	default:
		return "", fmt.Errorf("must be 12 hex digits, optionally grouped as 80:5e:c0:a1:b2:c3 or 80-5E-C0-A1-B2-C3")
	}
	if len(hex) != 12 || strings.ContainsFunc(hex, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) {
		return "", fmt.Errorf("must be 12 hex digits, optionally grouped as 80:5e:c0:a1:b2:c3 or 80-5E-C0-A1-B2-C3")
	}
	if hex == "000000000000" {
		return "", fmt.Errorf("is the null address")
	}
	// The least significant bit of the first octet marks group (multicast and
	// broadcast) addresses, which no phone has.
	if strings.IndexByte("13579bdf", hex[1]) >= 0 {
		return "", fmt.Errorf("is a multicast or broadcast address, not a device's")
	}
	return hex, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

var transliterate = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
)

// slugify turns a tenant name into a DNS label: "Café Zoë & Co" -> "cafe-zoe-co".
func slugify(name string) string {
	s := transliterate.Replace(strings.ToLower(name))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

// parseSuspendUntil reads a "YYYY-MM-DD" date that must lie after today and at
// most three months ahead (UTC). The suspension ends at the start of that day.
func parseSuspendUntil(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("is required (a date YYYY-MM-DD)")
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be a date YYYY-MM-DD")
	}
	y, m, day := now.UTC().Date()
	today := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	latest := today.AddDate(0, 3, 0)
	switch {
	case !d.After(today):
		return time.Time{}, fmt.Errorf("must be in the future (after %s)", today.Format(time.DateOnly))
	case d.After(latest):
		return time.Time{}, fmt.Errorf("must be at most 3 months ahead (%s at the latest)", latest.Format(time.DateOnly))
	}
	return d, nil
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString draws n characters of alphabet uniformly from crypto/rand.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// newSIPUsername is 12 characters starting with a letter: 60 bits, not
// guessable from the tenant, user or extension.
func newSIPUsername() string {
	return randomString(lowerAlnum[:26], 1) + randomString(lowerAlnum, 11)
}

// newSIPPassword is 24 alphanumeric characters (142 bits): no symbols, so it
// survives phone configuration formats and keypads.
func newSIPPassword() string { return randomString(mixedAlnum, 24) }
