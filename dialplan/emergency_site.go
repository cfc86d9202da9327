package dialplan

import (
	"context"
	"log/slog"

	"pbx/callctl"
	"pbx/numbering"
	"pbx/store"
)

// presentSite tells each trunk that asks for it (EmergencySiteIdentity)
// which site an on-site emergency call comes from: some carriers locate a
// nomadic caller (a number used away from its registered address) by a
// number registered at the caller's site rather than by the PIDF-LO
// (Proximus's conditions for its VoIP service, art. 24). The site is the
// caller's licence's: where a softphone says it is changes its PIDF-LO,
// not the site number. Without a site number the call goes out as to any
// other trunk. Remote-help calls keep the caller's own number: those
// services call the caller back and dispatch nobody.
func (p *Plan) presentSite(ctx context.Context, o callctl.Origin, u store.User, class EmergencyClass, number string,
	trunks []store.Trunk, dests []callctl.Destination, log *slog.Logger) {
	if class != OnSite {
		return
	}
	site, looked := "", false
	for i, tr := range trunks {
		mode := tr.EmergencySiteIdentity
		if mode == "" || i >= len(dests) {
			continue
		}
		if !looked {
			site, looked = p.siteEmergencyNumber(ctx, o, u, log), true
		}
		if site == "" {
			log.Warn("emergency call: the trunk asks for the caller's site number and there is none; it goes without",
				"trunk_id", tr.ID, "emergency_site_identity", mode, "site_id", u.SiteID)
			continue
		}
		log.Info("emergency call: the caller's site number presented", "trunk_id", tr.ID, "emergency_site_identity", mode, "site_number", site)
		pai := callctl.Header{Name: "P-Asserted-Identity", Value: "<sip:" + site + "@" + o.Domain + ";user=phone>"}
		for j := range dests[i].Targets {
			t := &dests[i].Targets[j]
			t.Headers = append(t.Headers, pai)
			// phone-context qualifies a local number only (RFC 3966):
			// a configured emergency number in E.164 goes as it is.
			if mode == store.EmergencySitePhoneContext && numbering.Short(number) {
				t.URI = "sip:" + number + ";phone-context=" + site + "@" + t.Via + ";user=phone"
			}
		}
	}
}

// siteEmergencyNumber is the emergency number of the caller's site, or "".
func (p *Plan) siteEmergencyNumber(ctx context.Context, o callctl.Origin, u store.User, log *slog.Logger) string {
	st := p.emergencyStore()
	if st == nil || u.SiteID == "" {
		return ""
	}
	site, err := st.Site(ctx, o.TenantID, u.SiteID)
	if err != nil {
		log.Warn("emergency call: the caller's site", "site_id", u.SiteID, "error", err)
		return ""
	}
	return site.EmergencyNumber
}
