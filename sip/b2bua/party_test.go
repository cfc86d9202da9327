package b2bua

import (
	"testing"
)

// A party without a number (a light licence) presents as anonymous, with
// its name.
func TestPartyURI(t *testing.T) {
	for _, tc := range []struct {
		p       Party
		uriUser string
	}{
		{Party{Name: "An Peeters", Number: "201", Domain: "acme.example", UserID: "u1"}, "201"},
		{Party{Name: "Lobby Phone", Domain: "acme.example", UserID: "u2"}, "anonymous"},
	} {
		if u := partyURI(tc.p); u.User != tc.uriUser || u.Host != "acme.example" {
			t.Errorf("uri of %+v = %s", tc.p, u.String())
		}
	}
}
