package dialplan

import (
	"context"
	"log/slog"
	"strings"

	"pbx/callctl"
)

// EmergencyClass says whether a number is one of Belgium's emergency
// services (Electronic Communications Act art. 107; Royal Decree of
// 2 February 2007, art. 2; BIPT's list of emergency numbers).
type EmergencyClass int

// Classes of emergency numbers.
const (
	NotEmergency EmergencyClass = iota
	// OnSite: help that comes to the caller (112, 100 ambulance and fire,
	// 101 police); the call must carry the caller's location.
	OnSite
	// RemoteHelp: help given on the phone (poison centre, suicide
	// prevention, Tele-Onthaal, children's helplines, Child Focus,
	// violence helplines); free and never barred.
	RemoteHelp
)

func (c EmergencyClass) String() string {
	switch c {
	case OnSite:
		return "on_site"
	case RemoteHelp:
		return "remote_help"
	}
	return "none"
}

// emergencyNumbers are in national form.
var emergencyNumbers = map[string]EmergencyClass{
	"112": OnSite, "100": OnSite, "101": OnSite,
	"070245245": RemoteHelp,                                              // poison centre
	"080032123": RemoteHelp, "026499555": RemoteHelp, "1813": RemoteHelp, // suicide prevention
	"106": RemoteHelp, "107": RemoteHelp, "108": RemoteHelp, // Tele-Onthaal / Télé-Accueil
	"102": RemoteHelp, "103": RemoteHelp, "104": RemoteHelp, // children's helplines
	"110": RemoteHelp, "116000": RemoteHelp, // Child Focus
	"080030030": RemoteHelp, // domestic violence
	"080098100": RemoteHelp, // SOS Viol
	"1712":      RemoteHelp, // violence and abuse
}

// Emergency classifies a dialled number; the international form of a
// Belgian number (+32..., 0032...) is read as its national form. The
// numbers win over extensions of the same digits: a Belgian PBX must
// route 100, 101 and 112 to the emergency services.
func Emergency(number string) EmergencyClass {
	n := strings.NewReplacer(" ", "", "-", "", ".", "", "/", "").Replace(number)
	for _, prefix := range []string{"+32", "0032"} {
		if rest, ok := strings.CutPrefix(n, prefix); ok && len(rest) > 3 {
			n = "0" + rest
		}
	}
	return emergencyNumbers[n]
}

// emergency routes a call to an emergency number, whatever the caller's
// licence or billing state. There is no carrier route yet (trunks come
// later), so the call cannot leave the platform: it is refused as
// congestion (503), logged as an error, since a failed emergency call is
// an incident an operator must see.
func (p *Plan) emergency(ctx context.Context, call callctl.Call, class EmergencyClass, log *slog.Logger) {
	log.Error("emergency call not routed: no carrier route exists", "class", class.String(),
		"tenant_id", call.Origin().TenantID, "user_id", call.Origin().UserID)
	call.Inbound().Hangup(callctl.CauseCongestion)
}
