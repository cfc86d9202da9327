package dialplan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/location"
	"pbx/store"
)

// fakeEmergency is the store and the webhook of emergency calls.
type fakeEmergency struct {
	mu        sync.Mutex
	sites     map[string]store.Site
	locations map[string]string // device → PIDF-LO
	numbers   []store.Number
	main      string
	recorded  []store.EmergencyCall
	sent      []EmergencyEvent
}

func (f *fakeEmergency) Site(_ context.Context, tenantID, id string) (store.Site, error) {
	if s, ok := f.sites[id]; ok && s.TenantID == tenantID {
		return s, nil
	}
	return store.Site{}, store.ErrNotFound
}

func (f *fakeEmergency) DeviceLocation(_ context.Context, deviceID string, _ time.Time) (string, error) {
	return f.locations[deviceID], nil
}

func (f *fakeEmergency) NumbersTo(_ context.Context, tenantID, destType, destID string) ([]store.Number, error) {
	var out []store.Number
	for _, n := range f.numbers {
		if n.TenantID == tenantID && n.Destination.Type == destType && n.Destination.ID == destID {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeEmergency) TenantCalling(_ context.Context, tenantID string) (store.TenantCalling, error) {
	return store.TenantCalling{TenantID: tenantID, MainNumber: f.main}, nil
}

func (f *fakeEmergency) RecordEmergencyCall(_ context.Context, c store.EmergencyCall) (store.EmergencyCall, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recorded = append(f.recorded, c)
	return c, nil
}

func (f *fakeEmergency) Send(_ context.Context, tenantID, event string, data any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev, ok := data.(EmergencyEvent); ok && event == "emergency_call" && tenantID == "t1" {
		f.sent = append(f.sent, ev)
	}
	return nil
}

const softphoneLocation = `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
 xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="sip:200@acme.example"><tuple id="t"><status><gp:geopriv>
 <gp:location-info><ca:civicAddress><ca:country>BE</ca:country><ca:A3>%s</ca:A3><ca:RD>Markt</ca:RD><ca:HNO>1</ca:HNO><ca:PC>%s</ca:PC>
 </ca:civicAddress></gp:location-info><gp:method>Manual</gp:method></gp:geopriv></status></tuple></presence>`

func pidf(city, pc string) string { return fmt.Sprintf(softphoneLocation, city, pc) }

// emergencySetup is a tenant whose caller 200 sits at site s1, with a
// number leading to it, two trunks and a default route through b.
func emergencySetup(billing string, caller func(*store.User)) (*Plan, *fakeEmergency, *fakeRoutes) {
	st := newStore()
	u := st.users["200"]
	u.SiteID = "s1"
	if caller != nil {
		caller(&u)
	}
	st.users["200"] = u
	ten := st.tenants[tenantID]
	ten.BillingState = billing
	st.tenants[tenantID] = ten
	r := newRoutes()
	r.trunks = []store.Trunk{{ID: "a", Host: "a.carrier.test"}, {ID: "b", Host: "b.carrier.test", Username: "acme"}}
	// 112 takes the +32 route, before the default route's trunk.
	r.outbound = []store.OutboundRoute{{Prefix: "+32", Trunks: []string{"b"}}, {Prefix: "", Trunks: []string{"a"}}}
	em := &fakeEmergency{
		sites:     map[string]store.Site{"s1": {ID: "s1", TenantID: tenantID, Name: "HQ", Street: "Wetstraat", Number: "16", PostalCode: "1000", City: "Brussel", Country: "BE"}},
		locations: map[string]string{},
		numbers:   []store.Number{{TenantID: tenantID, E164: "+3221234567", Destination: store.Destination{Type: store.DestUser, ID: "u200"}}},
		main:      "+3227000000",
	}
	p := &Plan{Store: st, Locator: fakeLocator{}, Routes: r, Emergency: &EmergencyServices{Store: em, Notify: em}}
	return p, em, r
}

// sentLocation reads the location of a dial's first target, checking
// that the Geolocation header points at its PIDF-LO part.
func sentLocation(t *testing.T, tg callctl.Target) location.Location {
	t.Helper()
	var geo []string
	for _, h := range tg.Headers {
		if h.Name == "Geolocation" {
			geo = append(geo, h.Value)
		}
	}
	loc, err := location.Conveyed(geo, locationParts(tg.Parts))
	if err != nil {
		t.Fatalf("target %s: %v (headers %v)", tg.URI, err, tg.Headers)
	}
	return loc
}

// An emergency call goes out through the route's trunk, then every other
// one, whatever the licence and the billing state; it presents the
// caller's public number, carries the site's address, and is recorded
// and reported.
func TestEmergencyPlacedInEveryState(t *testing.T) {
	for _, tc := range []struct {
		name, billing string
		caller        func(*store.User)
	}{
		{"active", BillingActive, nil},
		{"restricted", BillingRestricted, nil},
		{"service minimum", BillingServiceMinimum, nil},
		{"suspended tenant", BillingSuspended, nil},
		{"suspended licence", BillingActive, func(u *store.User) { u.Status, u.SuspendedUntil = "suspended", time.Now().Add(time.Hour) }},
		{"terminated licence, CLIR", BillingSuspended, func(u *store.User) { u.Status, u.CLIR = "terminated", true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, em, _ := emergencySetup(tc.billing, tc.caller)
			call := deviceCall("112")
			call.Script("b", fake.Unavailable) // the route's trunk fails: the other one takes it
			if br := route(t, p, call); br == nil {
				t.Fatalf("not bridged: %v", call.InboundLeg().Hangups())
			}
			p.Emergency.Wait()
			dials := call.Dials()
			if len(dials) != 1 || len(dials[0].Destinations) != 2 {
				t.Fatalf("dials %+v", dials)
			}
			d := dials[0]
			if d.Strategy != callctl.Sequential || d.StopOn == nil || d.StopOn(503) || d.StopOn(403) || !d.StopOn(486) {
				t.Fatalf("dial %+v", d)
			}
			for i, want := range []string{"b", "a"} {
				dest := d.Destinations[i]
				tg := dest.Targets[0]
				if dest.Tag != want || !strings.HasPrefix(tg.URI, "sip:112@"+want+".carrier.test") || dest.CallerID == nil || dest.CallerID.Number != "+3221234567" {
					t.Fatalf("destination %d: %+v %+v", i, dest, dest.CallerID)
				}
				for _, h := range tg.Headers {
					if strings.EqualFold(h.Name, "Privacy") {
						t.Fatalf("emergency call sent with Privacy: %s", h.Value)
					}
				}
				loc := sentLocation(t, tg)
				if c := loc.Civic; c == nil || *c != (location.Civic{Country: "BE", A3: "Brussel", RD: "Wetstraat", HNO: "16", PC: "1000", LOC: "HQ"}) {
					t.Fatalf("location %+v", loc.Civic)
				}
			}
			if d.Destinations[1].Targets[0].Auth != nil || d.Destinations[0].Targets[0].Auth == nil {
				t.Fatal("trunk credentials not with their trunk")
			}
			if len(em.recorded) != 1 || em.recorded[0].LocationSource != "site" || em.recorded[0].Caller != "+3221234567" || em.recorded[0].TrunkID != "b" ||
				em.recorded[0].Number != "112" || em.recorded[0].Class != "on_site" || !strings.Contains(em.recorded[0].Location, `"pc":"1000"`) {
				t.Fatalf("recorded %+v", em.recorded)
			}
			if len(em.sent) != 1 || em.sent[0].CallID != call.ID() || em.sent[0].Location == nil || em.sent[0].UserID != "u200" {
				t.Fatalf("reported %+v", em.sent)
			}
		})
	}
}

// The location sent is the INVITE's when it conveyed one, else the one
// the device registered, else the site's; without any, the call still
// goes out, without Geolocation.
func TestEmergencyLocationSources(t *testing.T) {
	for _, tc := range []struct {
		name       string
		invite     bool
		registered bool
		site       bool
		want       string // source
		city       string
	}{
		{"invite wins", true, true, true, "invite", "Gent"},
		{"registered over site", false, true, true, "register", "Leuven"},
		{"site", false, false, true, "site", "Brussel"},
		{"nothing", false, false, false, "none", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, em, _ := emergencySetup(BillingActive, func(u *store.User) {
				if !tc.site {
					u.SiteID = ""
				}
			})
			if tc.registered {
				em.locations["d200"] = pidf("Leuven", "3000")
			}
			call := deviceCall("+32 70 245 245")
			if tc.invite {
				in := call.InboundLeg()
				in.Headers = []callctl.Header{{Name: "geolocation", Value: "<cid:abc@phone.example>"}}
				in.Parts = []callctl.BodyPart{{ContentType: "application/sdp", Body: []byte("v=0")},
					{ContentType: location.ContentType, Headers: []callctl.Header{{Name: "Content-Id", Value: "<abc@phone.example>"}}, Body: []byte(pidf("Gent", "9000"))}}
			}
			if route(t, p, call) == nil {
				t.Fatalf("not bridged: %v", call.InboundLeg().Hangups())
			}
			p.Emergency.Wait()
			tg := call.Dials()[0].Destinations[0].Targets[0]
			if !strings.HasPrefix(tg.URI, "sip:+3270245245@") {
				t.Fatalf("remote-help number sent as %s", tg.URI)
			}
			if em.recorded[0].LocationSource != tc.want || em.recorded[0].Class != "remote_help" {
				t.Fatalf("recorded %+v", em.recorded[0])
			}
			if tc.want == "none" {
				if len(tg.Parts) != 0 || slices.ContainsFunc(tg.Headers, func(h callctl.Header) bool { return h.Name == "Geolocation" }) {
					t.Fatalf("location sent without one: %+v", tg)
				}
				return
			}
			if loc := sentLocation(t, tg); loc.Civic == nil || loc.Civic.A3 != tc.city {
				t.Fatalf("location %+v", loc.Civic)
			}
		})
	}
}

// A configured number is an emergency number too; without any trunk the
// call is refused as congestion, and still logged.
func TestEmergencyConfiguredNumberWithoutTrunk(t *testing.T) {
	p, em, r := emergencySetup(BillingActive, nil)
	p.Emergency.Numbers = []string{"1722"}
	r.trunks, r.outbound = nil, nil
	call := deviceCall("1722")
	route(t, p, call)
	p.Emergency.Wait()
	if got := call.InboundLeg().Hangups(); !slices.Equal(got, []callctl.Cause{callctl.CauseCongestion}) || len(em.recorded) != 1 || em.recorded[0].TrunkID != "" {
		t.Fatalf("hung up with %v, recorded %+v", got, em.recorded)
	}
	if p.emergencyClass("1733") != NotEmergency {
		t.Fatal("1733 taken for an emergency number")
	}
}

// The number presented to the emergency service is one that rings the
// caller back: a number leading to the caller, else the number the caller
// presents on other calls, else the tenant's main number.
func TestEmergencyCallerNumber(t *testing.T) {
	for _, tc := range []struct {
		name          string
		direct, chose bool
		want          string
	}{
		{"a number leads to the caller", true, true, "+3221234567"},
		{"the caller's chosen number", false, true, "+3221239999"},
		{"the tenant's main number", false, false, "+3227000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, em, r := emergencySetup(BillingActive, func(u *store.User) { u.CLIR = true })
			if !tc.direct {
				em.numbers = nil
			}
			if tc.chose {
				if r.callerID == nil {
					r.callerID = map[string]store.Number{}
				}
				r.callerID["u200"] = store.Number{TenantID: tenantID, E164: "+3221239999"}
			}
			call := deviceCall("*31*112")
			if route(t, p, call) == nil {
				t.Fatalf("not bridged: %v", call.InboundLeg().Hangups())
			}
			p.Emergency.Wait()
			d := call.Dials()[0].Destinations[0]
			if d.CallerID == nil || d.CallerID.Number != tc.want || !strings.HasPrefix(d.Targets[0].URI, "sip:112@") {
				t.Fatalf("presented %+v to %s", d.CallerID, d.Targets[0].URI)
			}
		})
	}
}
