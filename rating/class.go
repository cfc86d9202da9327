package rating

import "pbx/numbering"

// Class is a destination class of the usage report.
type Class string

// Destination classes, as the service invoices them.
const (
	NationalFixed Class = "national_fixed" // Belgian geographic and 078/077 numbers
	Mobile        Class = "mobile"
	International Class = "international"
	// Special: freephone, shared cost, premium and short numbers.
	Special Class = "special"
)

// Classes lists the classes in report order.
var Classes = []Class{NationalFixed, Mobile, International, Special}

// Classify gives the class of a called number (E.164, or a short number
// such as 1307); what numbering cannot read is special.
func Classify(number string) Class {
	c, err := numbering.Classify(number)
	if err != nil {
		return Special
	}
	switch c {
	case numbering.Geographic, numbering.NonGeo:
		return NationalFixed
	case numbering.Mobile:
		return Mobile
	case numbering.Foreign:
		return International
	}
	return Special
}

// Guarded reports whether calls of this number are blocked by the
// toll-fraud guard once it trips: international and premium ones.
func Guarded(number string) bool {
	c, err := numbering.Classify(number)
	return err == nil && (c == numbering.Foreign || c == numbering.Premium)
}

// External reports whether a forwarding target is a number of the public
// network rather than an extension.
func External(target string) bool {
	if target == "" {
		return false
	}
	_, err := numbering.Normalize(target)
	return err == nil
}
