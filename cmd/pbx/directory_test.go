package main

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"pbx/provisioning/format"
)

// TestContactNamedOnIncomingCall: a carrier's call from a shared contact's
// number rings the user with the contact's name in From; after an edit the
// next call shows the new name; another tenant's contact names nobody here.
func TestContactNamedOnIncomingCall(t *testing.T) {
	a := testApp(t, t.TempDir())
	acme := seedTenant(t, a, "Acme", "201")
	other := seedTenant(t, a, "Other", "201")
	addTrunk(t, a)
	addNumber(t, a, acme[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": acme[0].user.ID})
	base := "/api/v1/tenants/" + acme[0].tenant.ID + "/contacts"
	c := apiCall(t, a, "POST", base, map[string]any{"name": "Bakkerij Janssens", "numbers": []string{"0470 00 00 01"}}, 201)
	apiCall(t, a, "POST", "/api/v1/tenants/"+other[0].tenant.ID+"/contacts", map[string]any{"name": "Other's supplier", "numbers": []string{"+32470000002"}}, 201)
	alice := newSoftphone(t, a, acme[0], "udp")

	ring := func(from, want string) {
		t.Helper()
		carrier := newTrunkCaller(t, a, from)
		var got string
		out, in := connectWith(t, carrier, alice, "021234567", "0 101", dialOpt{}, func(in *pcall) {
			got = in.invite.From().DisplayName
		})
		endCall(t, a, out, in)
		if got != want {
			t.Fatalf("call from %s: the ringing phone shows %q, want %q", from, got, want)
		}
	}
	ring("+32470000001", "Bakkerij Janssens")
	apiCall(t, a, "PUT", base+"/"+c["id"].(string), map[string]any{"name": "Bakkerij Janssens & Zn", "numbers": []string{"+32470000001"}}, 200)
	ring("+32470000001", "Bakkerij Janssens & Zn")
	// The test carrier sends "Phone <number>" as display name: a number
	// no contact of this tenant has keeps it.
	ring("+32470000002", "Phone +32470000002")
}

// TestCompanyDirectoryFetchedByPhones: a Yealink, a Grandstream and a
// Gigaset fetch the directory URL their own file gives them, each in its
// own format: the tenant's full licences by extension and its contacts,
// nothing of another tenant; an edit shows at the next fetch.
func TestCompanyDirectoryFetchedByPhones(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := newCatalogueTenant(t, a, "Brouwerij")
	owner := ten.user("full", "201")
	ten.user("light", "")
	rival := newCatalogueTenant(t, a, "Rival")
	apiCall(t, a, "POST", "/api/v1/tenants/"+rival.id+"/contacts", map[string]any{"name": "Rival Secret", "numbers": []string{"+3227770000"}}, 201)
	contact := apiCall(t, a, "POST", "/api/v1/tenants/"+ten.id+"/contacts", map[string]any{"name": "Mouterij", "numbers": []string{"+3250123456", "0470 12 34 56"}}, 201)

	phones := []struct {
		body      map[string]any
		file, ua  string
		directory func(body []byte) string
		parse     func(b []byte) ([]format.DirEntry, error)
	}{
		{map[string]any{"kind": "yealink", "mac": "805ec0a1b2c3", "model": "T54W"}, "805ec0a1b2c3.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3",
			func(b []byte) string {
				cfg, err := format.ParseYealink(b)
				if err != nil {
					t.Fatal(err)
				}
				return cfg.Values["remote_phonebook.data.1.url"]
			}, format.ParseYealinkDirectory},
		{map[string]any{"kind": "grandstream", "mac": "c074ad000820", "model": "WP820"}, "cfgc074ad000820.xml", "Grandstream Model HW WP820 V1.0A SW 1.0.7.81 DevId c074ad000820",
			func(b []byte) string {
				gs, err := format.ParseGrandstream(b)
				if err != nil {
					t.Fatal(err)
				}
				return "https://" + gs.Values[331] + "/phonebook.xml"
			}, format.ParseGrandstreamPhonebook},
		{map[string]any{"kind": "gigaset", "mac": "7c2f80a1b2c3", "model": "N510"}, "7C2F80A1B2C3.xml", "N510 IP PRO/42.262.00.000.000;7C2F80A1B2C3",
			func(b []byte) string {
				pf, err := format.ParseProviderFrame(b)
				if err != nil {
					t.Fatal(err)
				}
				u, _ := pf.String("BS_XML_Netdirs.astNetdirProvider[0].aucServerURL[0]")
				return u + "command=get_list&type=pb"
			}, func(b []byte) ([]format.DirEntry, error) {
				l, err := format.ParseGigasetList(b)
				if err != nil {
					return nil, err
				}
				return l.Entries, nil
			}},
	}
	type dirURL struct{ url, ua string }
	var urls []dirURL
	var parsers []func([]byte) ([]format.DirEntry, error)
	for _, p := range phones {
		dev := ten.device(owner, p.body)
		code, body := provFetch(t, ten.provURL(p.file), p.ua, dev)
		if code != 200 {
			t.Fatalf("%s: %d %s", p.file, code, body)
		}
		u := p.directory(body)
		if !strings.HasPrefix(u, "https://"+a.httpsLn.Addr().String()+"/prov/pb/") {
			t.Fatalf("%s: directory URL %q", p.file, u)
		}
		urls = append(urls, dirURL{u, p.ua})
		parsers = append(parsers, p.parse)
	}
	get := func(i int) []format.DirEntry {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("GET", urls[i].url, nil)
		req.Header.Set("User-Agent", urls[i].ua)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("directory %d: %d %s", i, res.StatusCode, b)
		}
		if strings.Contains(string(b), "Rival") {
			t.Fatalf("another tenant's contact in directory %d", i)
		}
		es, err := parsers[i](b)
		if err != nil {
			t.Fatalf("directory %d: %v\n%s", i, err, b)
		}
		return es
	}
	has := func(es []format.DirEntry, name, number string) bool {
		return slices.ContainsFunc(es, func(e format.DirEntry) bool { return e.Name == name && slices.Contains(e.Numbers, number) })
	}
	for i := range urls {
		es := get(i)
		if len(es) != 2 || !has(es, "U201 Test", "201") || !has(es, "Mouterij", "+32470123456") {
			t.Fatalf("directory %d: %+v", i, es)
		}
	}
	apiCall(t, a, "PUT", "/api/v1/tenants/"+ten.id+"/contacts/"+contact["id"].(string), map[string]any{"name": "Mouterij Dingemans", "numbers": []string{"+3250123456"}}, 200)
	for i := range urls {
		if es := get(i); !has(es, "Mouterij Dingemans", "+3250123456") || has(es, "Mouterij", "+32470123456") {
			t.Fatalf("directory %d after the edit: %+v", i, es)
		}
	}
	// The rival tenant's device, with its own valid token, cannot read this
	// tenant's directory by swapping in this tenant's MAC.
	rdev := rival.device(rival.user("full", "301"), map[string]any{"kind": "yealink", "mac": "805ec0000301", "model": "T54W"})
	_, body := provFetch(t, rival.provURL("805ec0000301.cfg"), "Yealink SIP-T54W 96.86.0.100 80:5e:c0:00:03:01", rdev)
	cfg, _ := format.ParseYealink(body)
	ru, _ := url.Parse(cfg.Values["remote_phonebook.data.1.url"])
	parts := strings.Split(ru.Path, "/") // "", prov, pb, mac, token, file
	parts[3] = "805ec0a1b2c3"
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
	defer c.CloseIdleConnections()
	res, err := c.Get("https://" + ru.Host + strings.Join(parts, "/"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("another tenant's token on this tenant's MAC: %d", res.StatusCode)
	}
}
