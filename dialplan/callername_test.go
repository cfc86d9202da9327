package dialplan

import (
	"context"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// namedStore is a fakeStore whose tenants have shared contacts.
type namedStore struct {
	*fakeStore
	names map[string]string // tenant + " " + e164 -> name
}

func (s namedStore) ContactNameByNumber(_ context.Context, tenantID, number string) (string, error) {
	if n, ok := s.names[tenantID+" "+number]; ok {
		return n, nil
	}
	return "", store.ErrNotFound
}

// TestCarrierCallerNamedFromContacts: a carrier call from a contact's
// number, in whatever form the carrier writes it, rings the user with the
// contact's name; another tenant's contact or no contact leaves the
// caller as it came.
func TestCarrierCallerNamedFromContacts(t *testing.T) {
	for _, c := range []struct {
		from, sent, want string
	}{
		{"+32470000001", "Carrier Name", "Bakkerij Janssens"},
		{"0470 00 00 01", "", "Bakkerij Janssens"},
		{"+32470000002", "Carrier Name", "Carrier Name"}, // only tenant t2 knows it
		{"", "Anonymous", "Anonymous"},
	} {
		t.Run(c.from, func(t *testing.T) {
			p, _ := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
			p.Store = namedStore{p.Store.(*fakeStore), map[string]string{
				tenantID + " +32470000001": "Bakkerij Janssens",
				tenant2 + " +32470000002":  "Other tenant's contact",
			}}
			call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: "tr1", Source: "127.0.0.2:5060",
				Caller: callctl.Party{Number: c.from, Name: c.sent}}, "+3221234567")
			bridgedTo(t, route(t, p, call), "201")
			ds := call.Dials()
			if len(ds) != 1 {
				t.Fatalf("%d dials", len(ds))
			}
			got := c.sent
			if id := ds[0].Destinations[0].CallerID; id != nil {
				got = id.Name
				if id.Number != c.from {
					t.Fatalf("presented number %q, want %q as sent", id.Number, c.from)
				}
			}
			if got != c.want {
				t.Fatalf("callee sees %q, want %q", got, c.want)
			}
		})
	}
}

// TestCarrierCallerNamedInHuntGroup: the contact's name also shows on the
// members a hunt group rings.
func TestCarrierCallerNamedInHuntGroup(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
	p.Store = namedStore{p.Store.(*fakeStore), map[string]string{tenantID + " +32470000001": "Bakkerij Janssens"}}
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u201", "u202"}}
	call := trunkCall("+3221234567")
	route(t, p, call)
	ds := call.Dials()
	if len(ds) == 0 {
		t.Fatal("no dial")
	}
	for _, d := range ds[0].Destinations {
		if d.CallerID == nil || d.CallerID.Name != "Bakkerij Janssens" || d.CallerID.Number != "+32470000001" {
			t.Fatalf("member %s sees %+v", d.Tag, d.CallerID)
		}
	}
}
