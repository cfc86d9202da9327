package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/location"
	"pbx/numbering"
	"pbx/store"
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

// nationalForm strips separators and reads +32/0032 as the trunk prefix 0.
// numberSeparators are the characters people write between digits.
var numberSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "/", "")

func nationalForm(number string) string {
	n := numberSeparators.Replace(number)
	for _, prefix := range []string{"+32", "0032"} {
		if rest, ok := strings.CutPrefix(n, prefix); ok && len(rest) > 3 {
			n = "0" + rest
		}
	}
	return n
}

// Emergency classifies a dialled number; the international form of a
// Belgian number (+32..., 0032...) is read as its national form. The
// numbers win over extensions of the same digits: a Belgian PBX must
// route 100, 101 and 112 to the emergency services.
func Emergency(number string) EmergencyClass {
	return emergencyNumbers[nationalForm(number)]
}

// EmergencyServices is what emergency calls need beyond routing: where
// the caller is, what number presents it, a log, and the tenant's
// administrators to tell. Every field may be nil: the call is placed all
// the same.
type EmergencyServices struct {
	Store EmergencyStore
	// Notify tells the tenant's administrators (its webhook).
	Notify Notifier
	// Numbers are more on-site emergency numbers (in national form or
	// as dialled), beside 112, 100, 101 and the remote-help numbers.
	Numbers []string

	reports sync.WaitGroup
}

// EmergencyStore is what emergency calls read and record.
type EmergencyStore interface {
	Site(ctx context.Context, tenantID, id string) (store.Site, error)
	// DeviceLocation is the PIDF-LO the device sent in its REGISTER.
	DeviceLocation(ctx context.Context, deviceID string, now time.Time) (string, error)
	NumbersTo(ctx context.Context, tenantID, destType, destID string) ([]store.Number, error)
	TenantCalling(ctx context.Context, tenantID string) (store.TenantCalling, error)
	RecordEmergencyCall(ctx context.Context, c store.EmergencyCall) (store.EmergencyCall, error)
}

// Notifier tells a tenant's administrators of an event (package webhook).
type Notifier interface {
	Send(ctx context.Context, tenantID, event string, data any) error
}

// Wait returns once the reports of the emergency calls placed so far
// (log, store, webhook queue) are done.
func (e *EmergencyServices) Wait() {
	if e != nil {
		e.reports.Wait()
	}
}

// emergencyClass is Emergency, with the configured numbers.
func (p *Plan) emergencyClass(number string) EmergencyClass {
	if c := Emergency(number); c != NotEmergency {
		return c
	}
	if e := p.Emergency; e != nil && number != "" {
		n := nationalForm(number)
		if slices.ContainsFunc(e.Numbers, func(x string) bool { return nationalForm(x) == n }) {
			return OnSite
		}
	}
	return NotEmergency
}

// emergencyRingTime is how long each trunk rings an emergency service:
// long, since giving up is never better.
const emergencyRingTime = 3 * time.Minute

// emergency places a call to an emergency number through the carrier,
// whatever the caller's licence, barring or billing state: the device
// authenticated, that is all it takes. The caller's public number is
// presented even under CLIR, its location goes with the call, and the
// call is logged and reported to the tenant's administrators. dialled is
// the number without a prefix (*31*) that does not apply.
func (p *Plan) emergency(ctx context.Context, call callctl.Call, dialled string, class EmergencyClass, log *slog.Logger) {
	in := call.Inbound()
	o := call.Origin()
	number := carrierNumber(dialled)
	log = log.With("emergency", class.String(), "tenant_id", o.TenantID, "user_id", o.UserID, "device_id", o.DeviceID)
	u, err := p.Store.User(ctx, o.TenantID, o.UserID)
	if err != nil {
		// Gone or unreadable: the call goes out all the same, without
		// the licence's site.
		log.Warn("emergency call: the caller's licence could not be read", "error", err)
		u = store.User{ID: o.UserID, TenantID: o.TenantID}
	}
	caller := p.emergencyCaller(ctx, o, u, log)
	loc, source := p.emergencyLocation(ctx, in, o, u, log)
	headers := []callctl.Header{{Name: "Priority", Value: "emergency"}}
	var parts []callctl.BodyPart
	if source != "none" {
		cid := store.NewID("loc") + "@" + o.Domain
		doc, err := location.Build(location.Document{Entity: "sip:" + caller.Number + "@" + o.Domain, DeviceID: o.DeviceID, Location: loc, Timestamp: p.now()})
		if err == nil {
			headers = append(headers, callctl.Header{Name: "Geolocation", Value: location.Geolocation(cid)},
				callctl.Header{Name: "Geolocation-Routing", Value: "yes"})
			parts = append(parts, callctl.BodyPart{ContentType: location.ContentType, Body: doc,
				Headers: []callctl.Header{{Name: "Content-ID", Value: "<" + cid + ">"}, {Name: "Content-Disposition", Value: "by-reference;handling=optional"}}})
		} else {
			log.Error("emergency call: location not written", "error", err)
			source = "none"
		}
	}
	trunks, err := p.emergencyTrunks(ctx, number)
	if err != nil || len(trunks) == 0 {
		log.Error("emergency call NOT placed: no trunk", "number", dialled, "error", err)
		p.reportEmergency(ctx, call, dialled, class, caller, "", loc, source, log)
		in.Hangup(callctl.CauseCongestion)
		return
	}
	p.reportEmergency(ctx, call, dialled, class, caller, trunks[0].ID, loc, source, log)
	dests, err := p.externalTargets(ctx, trunks, number, headers, parts)
	if err != nil {
		log.Error("emergency call NOT placed: trunk credentials", "error", err)
		in.Hangup(callctl.CauseFailure)
		return
	}
	for i := range dests {
		dests[i].CallerID = &caller
	}
	p.presentSite(ctx, o, u, class, number, trunks, dests, log)
	res, err := call.Dial(ctx, callctl.DialSpec{Destinations: dests, Strategy: callctl.Sequential, Timeout: emergencyRingTime,
		EarlyMedia: true, StopOn: emergencyStop}).Wait(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("emergency call failed at every trunk", "number", number, "error", err)
		}
		in.Hangup(callctl.CauseOf(err))
		return
	}
	callee := callctl.Party{Number: number}
	call.SetCallee(callee)
	p.connect(ctx, call, call.Origin().TenantID, res.Leg, callee)
}

// emergencyStop ends an emergency dial only on the service's own answers
// (busy, declined); any other failure, a carrier's refusal included,
// moves on to the next trunk.
func emergencyStop(status int) bool {
	return status == 486 || status == 600 || status == 603
}

// carrierNumber is what the carrier is sent for an emergency number: a
// short number as dialled (112 has no E.164 form), else E.164.
func carrierNumber(dialled string) string {
	n := nationalForm(dialled)
	if numbering.Short(n) {
		return n
	}
	if e, err := numbering.Normalize(n); err == nil {
		return e
	}
	return n
}

// emergencyTrunks are the trunks of the number's outbound route (the
// default route when none is more specific), then every other trunk:
// an emergency call tries them all before it fails.
func (p *Plan) emergencyTrunks(ctx context.Context, number string) ([]store.Trunk, error) {
	if p.Routes == nil {
		return nil, store.ErrNotFound
	}
	key := number
	if d, err := numbering.ParseDialled(number); err == nil {
		key = d.Key // a short number takes the +32 route
	}
	route, err := p.routeTrunks(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	all, err := p.Routes.Trunks(ctx)
	if err != nil && len(route) == 0 {
		return nil, err
	}
	for _, t := range all {
		if !slices.ContainsFunc(route, func(r store.Trunk) bool { return r.ID == t.ID }) {
			route = append(route, t)
		}
	}
	return route, nil
}
