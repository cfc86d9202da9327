package numbering

import "strings"

// Service is what a short or helpline number reaches.
type Service string

// Emergency and helpline services (Royal Decree of 2 Feb 2007, Art. 2).
const (
	// On-site help: highest priority, location sent, never barred.
	SOS       Service = "sos"            // 112
	SOSFire   Service = "sos.fire"       // 100: fire and ambulance
	SOSPolice Service = "sos.police"     // 101
	Helpline  Service = "remote_help"    // poison centre, suicide prevention, Child Focus, ...
	ShortCode Service = "national_short" // other national short numbers (1xxx)
)

// onSite are the on-site emergency numbers.
var onSite = map[string]Service{"112": SOS, "100": SOSFire, "101": SOSPolice}

// remoteHelp are the remote-help services that are never barred and
// always free: poison centre, suicide prevention, Child Focus, helplines.
var remoteHelp = map[string]bool{
	"070245245": true, "080032123": true, "026499555": true, "1813": true,
	"102": true, "103": true, "104": true, "106": true, "107": true, "108": true, "110": true,
	"116000": true, "080030030": true, "080098100": true, "1712": true,
}

// Emergency reports whether dialled (as a user dials it: "112", "101",
// "0032112"... is not one) is an on-site emergency number, and which.
func Emergency(dialled string) (Service, bool) {
	s, ok := onSite[strings.TrimSpace(dialled)]
	return s, ok
}

// NeverBarred reports whether dialled reaches an emergency or remote-help
// service, which no barring profile, credit limit or suspension may block.
func NeverBarred(dialled string) bool {
	d := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" .-/()", r) {
			return -1
		}
		return r
	}, dialled)
	if _, ok := onSite[d]; ok {
		return true
	}
	if strings.HasPrefix(d, "+32") {
		d = "0" + d[3:]
	} else if strings.HasPrefix(d, "0032") {
		d = "0" + d[4:]
	}
	return remoteHelp[d]
}

// Short reports whether dialled is a Belgian short number (1xx, 1xxx,
// 116xxx), which has no E.164 form and must go to a Belgian carrier as is.
func Short(dialled string) bool {
	d := strings.TrimSpace(dialled)
	if len(d) < 3 || len(d) > 6 || d[0] != '1' {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(d) <= 4 || (len(d) == 6 && strings.HasPrefix(d, "116"))
}
