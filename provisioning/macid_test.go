package provisioning

import (
	"net/http"
	"strings"
	"testing"
)

// TestGigasetMACIDSpellings: the MAC-ID typed with or without the label's
// dashes, in any case, opens the base's own file by digest, and by basic
// authentication over HTTPS; a wrong one, or basic over plain HTTP, does not.
func TestGigasetMACIDSpellings(t *testing.T) {
	const macID = "K7QW2M9XPLR4"
	spellings := []string{"K7QW2M9XPLR4", "k7qw2m9xplr4", "K7QW-2M9X-PLR4", "k7qw-2m9x-plr4"}
	for _, tls := range []bool{false, true} {
		e := newEnv(t, tls, nil)
		n510 := e.devs["gigaset-n510"]
		e.dir.update(n510.dev.MAC, func(d *Device) { d.MACID = macID })
		m, _ := LookupModel(n510.dev.Model)
		path := PathPrefix + m.FileName(n510.dev.MAC)
		user := strings.ToUpper(n510.dev.MAC)
		basic := func(pass string) response {
			r, _ := http.NewRequest("GET", "/", nil)
			r.SetBasicAuth(user, pass)
			return e.do(t, e.baseTransport(), "GET", path, n510.ua, http.Header{"Authorization": r.Header.Values("Authorization")})
		}
		for _, id := range spellings {
			for _, alg := range []string{"MD5", "SHA-256"} {
				if r := e.get(t, path, n510.ua, user, id, alg); r.status != http.StatusOK {
					t.Errorf("TLS %v: digest %s with MAC-ID %q: status %d", tls, alg, id, r.status)
				}
			}
			want := http.StatusUnauthorized
			if tls {
				want = http.StatusOK
			}
			if r := basic(id); r.status != want {
				t.Errorf("TLS %v: basic with MAC-ID %q: status %d, want %d", tls, id, r.status, want)
			}
		}
		for _, wrong := range []string{"K7QW-2M9X-PLR5", "K7QW2M9XPLR", ""} {
			if r := e.get(t, path, n510.ua, user, wrong, "MD5"); r.status != http.StatusUnauthorized {
				t.Errorf("TLS %v: digest with wrong MAC-ID %q: status %d", tls, wrong, r.status)
			}
			if r := basic(wrong); r.status != http.StatusUnauthorized {
				t.Errorf("TLS %v: basic with wrong MAC-ID %q: status %d", tls, wrong, r.status)
			}
		}
		if strings.Contains(e.logs.String(), macID) || strings.Contains(strings.ToLower(e.logs.String()), "k7qw") {
			t.Error("the MAC-ID was logged")
		}
	}
}
