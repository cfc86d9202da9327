// Package numbering owns the Belgian numbering plan as the softswitch needs
// it: turning a number as it arrives (from a carrier's Request-URI, a
// user's dialling, an administrator's form) into E.164, saying what kind
// of number it is (geographic, mobile, freephone, shared cost, premium,
// short, emergency, foreign), and reading what a user dials toward the
// public network as a carrier is to be sent it (ParseDialled, with the
// foreign premium ranges barred like Belgium's). It is pure: no SIP, no
// store.
//
// Sources: the BIPT numbering principles and the Royal Decrees of 2 Feb
// 2007 (emergency services) and 27 Apr 2007 (numbering), as summarised in
// the project's telephony reference.
package numbering

import (
	"errors"
	"fmt"
	"strings"
)

// Country is the country calling code numbers without one belong to.
const Country = "32"

// Class is the kind of a number.
type Class string

// Classes of numbers.
const (
	Geographic Class = "geographic" // BE zonal number (02, 03, 010, ...)
	Mobile     Class = "mobile"     // BE 045x-049x
	Freephone  Class = "freephone"  // BE 0800
	SharedCost Class = "shared_cost"
	NonGeo     Class = "non_geographic" // BE 078 (zonal tariff), 077 (M2M)
	Premium    Class = "premium"        // BE 090x
	Foreign    Class = "foreign"        // another country's E.164 number
)

// Errors of Normalize; errors wrap ErrInvalid.
var ErrInvalid = errors.New("numbering: not a valid telephone number")

// Normalize turns a number in any usual form into E.164 ("+3221234567"):
// "+32 2 123 45 67", "+32 (0)2 123 45 67", "0032 2 123 45 67", "02/123.45.67" (national, with
// its trunk prefix), "3221234567" (country code without prefix), and the
// user part of a tel: or sip: URI ("+3221234567;user=phone"). Separators
// (space . - / ( )) are ignored. A Belgian number must have the length its
// range has (8 national significant digits, 9 for mobiles); a foreign one
// 8 to 15 digits in all.
func Normalize(s string) (string, error) {
	raw := s
	if i := strings.IndexAny(s, ";@"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "sip:")
	// "+32 (0)2 123 45 67": the trunk prefix shown in brackets after the
	// country code is not dialled.
	if i := strings.Index(s, "(0)"); i > 0 {
		s = s[:i] + s[i+3:]
	}
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" .-/()", r):
		default:
			return "", fmt.Errorf("%w: %q has the character %q", ErrInvalid, raw, r)
		}
	}
	d := b.String()
	var intl string // digits after the country code's start
	switch {
	case strings.HasPrefix(d, "+"):
		intl = d[1:]
	case strings.HasPrefix(d, "00"):
		intl = d[2:]
	case strings.HasPrefix(d, "0"):
		intl = Country + d[1:]
	case strings.HasPrefix(d, Country) && len(d) >= 10:
		intl = d
	default:
		return "", fmt.Errorf("%w: %q is neither national (0...) nor international (+..., 00...)", ErrInvalid, raw)
	}
	if strings.HasPrefix(intl, "0") || len(intl) < 8 || len(intl) > 15 {
		return "", fmt.Errorf("%w: %q has %d digits after the country code's start", ErrInvalid, raw, len(intl))
	}
	e := "+" + intl
	if strings.HasPrefix(intl, Country) {
		if _, err := classifyBE(intl[len(Country):]); err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrInvalid, raw, err)
		}
	}
	return e, nil
}

// Classify says what kind of number an E.164 number is.
func Classify(e164 string) (Class, error) {
	if !strings.HasPrefix(e164, "+") {
		return "", fmt.Errorf("%w: %q is not E.164", ErrInvalid, e164)
	}
	d := e164[1:]
	if strings.HasPrefix(d, Country) {
		return classifyBE(d[len(Country):])
	}
	return Foreign, nil
}

// classifyBE classifies a Belgian national significant number (without
// the trunk prefix 0) and checks its length.
func classifyBE(nsn string) (Class, error) {
	want, class := 8, Geographic
	switch {
	case strings.HasPrefix(nsn, "800"):
		class = Freephone
	case strings.HasPrefix(nsn, "70"):
		class = SharedCost
	case strings.HasPrefix(nsn, "78"), strings.HasPrefix(nsn, "77"):
		class = NonGeo
	case strings.HasPrefix(nsn, "90"):
		class = Premium
	case len(nsn) >= 2 && nsn[0] == '4' && nsn[1] >= '5':
		want, class = 9, Mobile
	case nsn == "" || nsn[0] == '0':
		return "", errors.New("no national number")
	}
	if len(nsn) != want {
		return "", fmt.Errorf("a Belgian %s number has %d digits after 0, not %d", strings.ReplaceAll(string(class), "_", " "), want, len(nsn))
	}
	return class, nil
}

// National is the number as dialled inside Belgium ("021234567") for a
// Belgian E.164 number, the 00 form for others.
func National(e164 string) string {
	d := strings.TrimPrefix(e164, "+")
	if strings.HasPrefix(d, Country) {
		return "0" + d[len(Country):]
	}
	return "00" + d
}
