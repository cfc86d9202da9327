package dialplan

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"pbx/callctl"
	"pbx/location"
	"pbx/store"
)

func (p *Plan) emergencyStore() EmergencyStore {
	if p.Emergency == nil {
		return nil
	}
	return p.Emergency.Store
}

// emergencyCaller is the identity an emergency call presents: a public
// number of the tenant that leads to the caller (the service's call back
// rings the caller), else the number the caller presents on other calls,
// else the tenant's main number. CLIR does not apply (ePrivacy Directive
// art. 10(b)).
func (p *Plan) emergencyCaller(ctx context.Context, o callctl.Origin, u store.User, log *slog.Logger) callctl.Party {
	party := callctl.Party{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Number: o.Caller.Number, Domain: o.Domain, UserID: o.UserID}
	if party.Name == "" {
		party.Name = o.Caller.Name
	}
	if st := p.emergencyStore(); st != nil {
		if ns, err := st.NumbersTo(ctx, o.TenantID, store.DestUser, o.UserID); err == nil && len(ns) > 0 {
			party.Number = ns[0].E164
			return party
		} else if err != nil {
			log.Warn("emergency call: the caller's numbers", "error", err)
		}
		if p.Routes != nil {
			if n, err := p.Routes.UserCallerID(ctx, o.TenantID, o.UserID); err == nil && n.TenantID == o.TenantID {
				party.Number = n.E164
				return party
			}
		}
		if c, err := st.TenantCalling(ctx, o.TenantID); err == nil && c.MainNumber != "" {
			party.Number = c.MainNumber
			return party
		} else if err != nil {
			log.Warn("emergency call: the tenant's main number", "error", err)
		}
	}
	log.Warn("emergency call: no public number to present, the extension is sent", "number", party.Number)
	return party
}

// emergencyLocation is where the caller is: what its INVITE conveyed,
// else what its device sent in its REGISTER (a softphone away from its
// site), else its licence's site; source says which ("invite",
// "register", "site"; "none" when nothing is known).
func (p *Plan) emergencyLocation(ctx context.Context, in callctl.Leg, o callctl.Origin, u store.User, log *slog.Logger) (location.Location, string) {
	if r, ok := in.(callctl.Request); ok {
		if geo := r.RequestHeader("Geolocation"); len(geo) > 0 {
			loc, err := location.Conveyed(geo, locationParts(r.RequestParts()))
			if err == nil {
				return loc, "invite"
			}
			log.Warn("emergency call: the INVITE's location is not usable", "error", err)
		}
	}
	st := p.emergencyStore()
	if st != nil && o.DeviceID != "" {
		doc, err := st.DeviceLocation(ctx, o.DeviceID, p.now())
		if err != nil {
			log.Warn("emergency call: the device's registered location", "error", err)
		}
		if doc != "" {
			if loc, err := location.Parse([]byte(doc)); err == nil {
				return loc, "register"
			}
		}
	}
	if st != nil && u.SiteID != "" {
		site, err := st.Site(ctx, o.TenantID, u.SiteID)
		if err == nil {
			civic := location.Civic{Country: site.Country, A3: site.City, RD: site.Street, HNO: site.Number, PC: site.PostalCode, LOC: site.Name}
			if loc := (location.Location{Civic: &civic, Method: "Manual"}); loc.Valid() {
				return loc, "site"
			}
		} else {
			log.Warn("emergency call: the caller's site", "site_id", u.SiteID, "error", err)
		}
	}
	log.Error("emergency call without location: the device sent none and the licence has no site")
	return location.Location{}, "none"
}

// locationParts are a request's body parts as package location reads them.
func locationParts(parts []callctl.BodyPart) []location.Part {
	out := make([]location.Part, 0, len(parts))
	for _, bp := range parts {
		lp := location.Part{ContentType: bp.ContentType, Body: bp.Body}
		for _, h := range bp.Headers {
			if strings.EqualFold(h.Name, "Content-ID") {
				lp.ContentID = h.Value
			}
		}
		out = append(out, lp)
	}
	return out
}

// EmergencyEvent is what the tenant's webhook is sent about an emergency
// call (event "emergency_call").
type EmergencyEvent struct {
	CallID         string             `json:"call_id"`
	Number         string             `json:"number"`
	Class          string             `json:"class"`
	UserID         string             `json:"user_id"`
	UserName       string             `json:"user_name"`
	DeviceID       string             `json:"device_id"`
	Caller         string             `json:"caller"`
	LocationSource string             `json:"location_source"`
	Location       *location.Location `json:"location,omitempty"`
	At             time.Time          `json:"at"`
}

// reportEmergency logs an emergency call, then records it and tells the
// tenant's administrators in the background: neither may delay the call.
func (p *Plan) reportEmergency(ctx context.Context, call callctl.Call, dialled string, class EmergencyClass, caller callctl.Party, trunkID string,
	loc location.Location, source string, log *slog.Logger) {
	o := call.Origin()
	ev := EmergencyEvent{CallID: call.ID(), Number: dialled, Class: class.String(), UserID: o.UserID, UserName: caller.Name,
		DeviceID: o.DeviceID, Caller: caller.Number, LocationSource: source, At: p.now().UTC()}
	var locJSON []byte
	if source != "none" {
		ev.Location = &loc
		locJSON, _ = json.Marshal(loc)
	}
	log.Warn("emergency call", "number", ev.Number, "caller", ev.Caller, "trunk_id", trunkID, "location_source", source, "location", string(locJSON))
	e := p.Emergency
	if e == nil {
		return
	}
	e.reports.Add(1)
	go func() {
		defer e.reports.Done()
		// The call's own context ends with the call; the report must not.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if e.Store != nil {
			if _, err := e.Store.RecordEmergencyCall(rctx, store.EmergencyCall{TenantID: o.TenantID, UserID: o.UserID, DeviceID: o.DeviceID,
				CallID: ev.CallID, Number: ev.Number, Class: ev.Class, Caller: ev.Caller, TrunkID: trunkID, LocationSource: source,
				Location: string(locJSON), CreatedAt: ev.At}); err != nil {
				log.Error("emergency call not recorded", "error", err)
			}
		}
		if e.Notify != nil {
			if err := e.Notify.Send(rctx, o.TenantID, "emergency_call", ev); err != nil {
				log.Error("emergency call: the tenant's administrators not told", "error", err)
			}
		}
	}()
}
