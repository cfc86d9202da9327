package b2bua

import (
	"testing"

	"pbx/store"
)

// A light licence has no extension: it presents as anonymous, with its name.
func TestCallerParty(t *testing.T) {
	ten := store.Tenant{ID: "t1", Domain: "acme.example"}
	for _, tc := range []struct {
		user    store.User
		name    string
		uriUser string
		number  string
	}{
		{store.User{ID: "u1", FirstName: "An", LastName: "Peeters", Licence: store.LicenceFull, Extension: "201"}, "An Peeters", "201", "201"},
		{store.User{ID: "u2", FirstName: "Lobby", LastName: "Phone", Licence: store.LicenceLight}, "Lobby Phone", "anonymous", ""},
	} {
		p := callerParty(store.DeviceAuth{User: tc.user, Tenant: ten})
		if p.Name != tc.name || p.Number != tc.number || p.UserID != tc.user.ID || p.Domain != "acme.example" {
			t.Errorf("callerParty(%s) = %+v", tc.user.Licence, p)
		}
		if u := partyURI(p); u.User != tc.uriUser || u.Host != "acme.example" {
			t.Errorf("uri of %+v = %s", p, u.String())
		}
	}
}
