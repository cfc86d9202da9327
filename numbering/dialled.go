package numbering

import (
	"fmt"
	"strings"
)

// ShortNumber is the class of a Belgian short number (1207, 1307, 1722 ...).
const ShortNumber Class = "short"

// Dialled is a number a user dialled toward the public network, as a
// carrier is to be sent it.
type Dialled struct {
	// Number is the Request-URI's user part: E.164, or a short number as
	// dialled (short numbers have no E.164 form).
	Number string
	// Key is what outbound routes match: Number when it is E.164, the
	// country code and the short number ("+321207") for a short number,
	// so that a Belgian route carries it.
	Key   string
	Class Class
	// International: the number is another country's.
	International bool
}

// intlPremium are the E.164 prefixes of premium-rate ranges abroad that
// are barred with Belgium's own: ITU's International Premium Rate Service
// and the premium ranges of neighbouring and frequently called countries.
// The list is the softswitch's choice (no regulator publishes one); a
// carrier may bar more.
var intlPremium = []string{
	"+979",             // ITU International Premium Rate Service
	"+3190",            // Netherlands 090x
	"+3389",            // France 089x
	"+449",             // United Kingdom 09
	"+49900", "+49137", // Germany 0900, 0137 (televoting)
	"+35290",           // Luxembourg 90x
	"+4390",            // Austria 090x
	"+39899", "+39892", // Italy 899, 892
	"+34803", "+34806", "+34807", // Spain
	"+8816", "+8817", "+870", // satellite networks, charged as premium
}

// ParseDialled reads what a user dialled to reach the public network:
// national ("02 123 45 67", "0470 12 34 56"), international ("00...",
// "+..."), freephone, shared-cost and premium (0800, 070, 090x) numbers,
// and Belgian short numbers ("1207"). Emergency numbers are the
// dialplan's concern before this.
func ParseDialled(s string) (Dialled, error) {
	d := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" .-/()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if Short(d) {
		return Dialled{Number: d, Key: "+" + Country + d, Class: ShortNumber}, nil
	}
	e, err := Normalize(s)
	if err != nil {
		return Dialled{}, err
	}
	class, err := Classify(e)
	if err != nil {
		return Dialled{}, fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
	}
	out := Dialled{Number: e, Key: e, Class: class, International: class == Foreign}
	if out.International {
		for _, p := range intlPremium {
			if strings.HasPrefix(e, p) {
				out.Class = Premium
				break
			}
		}
	}
	return out, nil
}
