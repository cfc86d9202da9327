package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/icholy/digest"

	"pbx/provisioning/format"
	"pbx/store"
)

// provFetch GETs a provisioning URL as a device does: its real
// User-Agent, digest with its provisioning credential.
func provFetch(t *testing.T, url, ua string, dev map[string]any) (int, []byte) {
	t.Helper()
	c := &http.Client{Transport: &digest.Transport{Username: dev["provisioning_username"].(string), Password: dev["provisioning_password"].(string),
		Transport: &http.Transport{TLSClientConfig: insecureTLS()}}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("User-Agent", ua)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// provAccount is one SIP account read from a served file.
type provAccount struct{ user, pass, domain string }

// registerAll registers every account a file carries with a sipgo phone,
// and checks that they are exactly the devices created over REST.
func registerAll(t *testing.T, a *app, accs []provAccount, devs ...map[string]any) {
	t.Helper()
	if len(accs) != len(devs) {
		t.Fatalf("file carries %d accounts, want %d: %+v", len(accs), len(devs), accs)
	}
	for i, ac := range accs {
		if ac.user != devs[i]["sip_username"] || ac.pass != devs[i]["sip_password"] || ac.domain != devs[i]["sip_domain"] {
			t.Fatalf("account %d: %q %q %q does not match device %v", i+1, ac.user, ac.pass, ac.domain, devs[i]["id"])
		}
		acc := account{tenant: store.Tenant{Domain: ac.domain}, device: store.Device{SIPUsername: ac.user}, password: ac.pass}
		if res := newPhone(t, a, acc, "udp").register(600, ac.pass); res.StatusCode != 200 {
			t.Fatalf("account %d: register with the provisioned values: %s", i+1, res.StartLine())
		}
	}
}

// catalogueTenant makes a tenant with users over REST.
type catalogueTenant struct {
	t      *testing.T
	a      *app
	id     string
	domain string
}

func newCatalogueTenant(t *testing.T, a *app, name string) *catalogueTenant {
	ten := apiCall(t, a, "POST", "/api/v1/tenants", map[string]any{"name": name}, 201)
	return &catalogueTenant{t: t, a: a, id: ten["id"].(string), domain: ten["domain"].(string)}
}

func (c *catalogueTenant) user(licence, ext string) string {
	body := map[string]any{"first_name": "U" + ext, "last_name": "Test", "email": licence + ext + "@example.be", "licence": licence}
	if ext != "" {
		body["extension"] = ext
	}
	return apiCall(c.t, c.a, "POST", "/api/v1/tenants/"+c.id+"/users", body, 201)["id"].(string)
}

func (c *catalogueTenant) device(user string, body map[string]any) map[string]any {
	return apiCall(c.t, c.a, "POST", "/api/v1/tenants/"+c.id+"/users/"+user+"/devices", body, 201)
}

func (c *catalogueTenant) provURL(file string) string {
	return "https://" + c.a.httpsLn.Addr().String() + "/prov/" + file
}

// TestProvisionedW73PAndN860HandsetsRegister: a Yealink W73P and a Gigaset
// N860 with a second handset of another licence, created over REST with
// their handset models (shown over REST), serve one account per handset,
// bound to its handset; each registers.
func TestProvisionedW73PAndN860HandsetsRegister(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := newCatalogueTenant(t, a, "Magazijn")
	u1, u2, u3, u4 := ten.user("full", "220"), ten.user("full", "221"), ten.user("full", "330"), ten.user("full", "331")

	w73p := ten.device(u1, map[string]any{"kind": "yealink", "mac": "80:5e:c0:00:00:73", "model": "W73P", "handset_model": "W73H"})
	w73h := ten.device(u2, map[string]any{"kind": "yealink", "base_device_id": w73p["id"], "handset_model": "W73H"})
	code, body := provFetch(t, ten.provURL("805ec0000073.cfg"), "Yealink W73P 146.85.0.20 80:5e:c0:00:00:73", w73p)
	if code != 200 {
		t.Fatalf("W73P file: %d %s", code, body)
	}
	cfg, err := format.ParseYealink(body)
	if err != nil {
		t.Fatalf("W73P file does not parse strictly: %v", err)
	}
	var accs []provAccount
	for n := 1; cfg.Values[fmt.Sprintf("account.%d.enable", n)] == "1"; n++ {
		p := fmt.Sprintf("account.%d.", n)
		accs = append(accs, provAccount{cfg.Values[p+"user_name"], cfg.Values[p+"password"], cfg.Values[p+"sip_server.1.address"]})
		if got := cfg.Values[fmt.Sprintf("handset.%d.incoming_lines", n)]; got != strconv.Itoa(n) {
			t.Fatalf("handset %d rings for %q, want its own account %d", n, got, n)
		}
	}
	registerAll(t, a, accs, w73p, w73h)

	n860 := ten.device(u3, map[string]any{"kind": "gigaset", "mac": "7C:2F:80:08:60:01", "model": "N860", "handset_model": "R700H"})
	hs := ten.device(u4, map[string]any{"kind": "gigaset", "base_device_id": n860["id"], "handset_model": "SL800H"})
	code, body = provFetch(t, ten.provURL("7C2F80086001.xml"), "Gigaset N860 IP PRO/83.V2.60.0+build.1234567;7C2F80086001", n860)
	if code != 200 {
		t.Fatalf("N860 file: %d %s", code, body)
	}
	nx, err := format.ParseNx70(body)
	if err != nil {
		t.Fatalf("N860 file does not parse strictly: %v", err)
	}
	accs = nil
	for slot := 1; nx.Params[fmt.Sprintf("SipAccount.%05d.UserName", slot)] != ""; slot++ {
		p := fmt.Sprintf("SipAccount.%05d.", slot)
		accs = append(accs, provAccount{nx.Params[p+"UserName"], nx.Params[p+"AuthPassword"], nx.Params["SipProvider."+nx.Params[p+"ProviderId"]+".Domain"]})
	}
	registerAll(t, a, accs, n860, hs)
	if !strings.Contains(string(body), "(SL800H)") {
		t.Fatal("the handset model is not in the N860's file")
	}

	// The handset models are recorded and shown over REST.
	got := apiCall(t, a, "GET", "/api/v1/tenants/"+ten.id+"/users/"+u4+"/devices/"+hs["id"].(string), nil, 200)
	if got["handset_model"] != "SL800H" {
		t.Fatalf("handset model over REST: %v", got)
	}
	list := apiCall(t, a, "GET", "/api/v1/tenants/"+ten.id+"/users/"+u2+"/devices/"+w73h["id"].(string), nil, 200)
	if list["handset_model"] != "W73H" {
		t.Fatalf("W73H over REST: %v", list)
	}
	// A handset that does not register to that base is refused.
	r := apiCall(t, a, "POST", "/api/v1/tenants/"+ten.id+"/users/"+ten.user("full", "222")+"/devices",
		map[string]any{"kind": "yealink", "base_device_id": w73p["id"], "handset_model": "R700H"}, 422)
	if !strings.Contains(fmt.Sprint(r), "handset_model") {
		t.Fatalf("422 does not name handset_model: %v", r)
	}
}

// gsAccounts reads the accounts of a Grandstream file: WP8xx account 2 and
// HT802 port 2 have their own P-values.
func gsAccounts(t *testing.T, body []byte, portKeys bool) (*format.Grandstream, []provAccount) {
	t.Helper()
	gs, err := format.ParseGrandstream(body)
	if err != nil {
		t.Fatalf("file does not parse strictly: %v\n%s", err, body)
	}
	type keys struct{ active, user, pass, server int }
	sets := []keys{{271, 35, 34, 47}, {401, 404, 406, 402}}
	if portKeys {
		sets[1] = keys{401, 735, 734, 747}
	}
	var accs []provAccount
	for _, k := range sets {
		if gs.Values[k.active] != "1" {
			continue
		}
		domain, _, _ := strings.Cut(gs.Values[k.server], ":")
		accs = append(accs, provAccount{gs.Values[k.user], gs.Values[k.pass], domain})
	}
	return gs, accs
}

// TestProvisionedGrandstreamRegister: a WP820, a WP825 of a light licence,
// an HT802 with a fax on port 2 (a light licence's device) and an HT801
// door phone (light) each fetch their file with their own User-Agent and
// credential, and every account in it registers; a light licence's file
// carries exactly one account and no keys.
func TestProvisionedGrandstreamRegister(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := newCatalogueTenant(t, a, "Drukkerij")
	full, fax, door, lightWP := ten.user("full", "240"), ten.user("light", ""), ten.user("light", ""), ten.user("light", "")
	colleague := ten.user("full", "241")
	apiCall(t, a, "PUT", "/api/v1/tenants/"+ten.id+"/users/"+colleague+"/blf", []map[string]any{{"position": 1, "target_user_id": full}}, 200)

	wp820 := ten.device(colleague, map[string]any{"kind": "grandstream", "mac": "c0:74:ad:00:08:20", "model": "WP820"})
	code, body := provFetch(t, ten.provURL("cfgc074ad000820.xml"), "Grandstream Model HW WP820 V1.0A SW 1.0.7.81 DevId c074ad000820", wp820)
	if code != 200 {
		t.Fatalf("WP820: %d %s", code, body)
	}
	_, accs := gsAccounts(t, body, false)
	registerAll(t, a, accs, wp820)

	wp825 := ten.device(lightWP, map[string]any{"kind": "grandstream", "mac": "c0:74:ad:00:08:25", "model": "WP825"})
	code, body = provFetch(t, ten.provURL("cfgc074ad000825.xml"), "Grandstream Model HW WP825 SW 1.0.1.16 DevId c074ad000825", wp825)
	if code != 200 {
		t.Fatalf("WP825: %d %s", code, body)
	}
	gs, accs := gsAccounts(t, body, false)
	if gs.Values[401] != "0" {
		t.Fatalf("a light licence's WP825 has account 2 active: %q", gs.Values[401])
	}
	registerAll(t, a, accs, wp825)

	ht802 := ten.device(full, map[string]any{"kind": "grandstream", "mac": "c0:74:ad:00:08:02", "model": "HT802"})
	faxPort := ten.device(fax, map[string]any{"kind": "grandstream", "base_device_id": ht802["id"], "fax": true})
	if faxPort["fax"] != true {
		t.Fatalf("fax port over REST: %v", faxPort)
	}
	code, body = provFetch(t, ten.provURL("cfgc074ad000802.xml"), "Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId c074ad000802", ht802)
	if code != 200 {
		t.Fatalf("HT802: %d %s", code, body)
	}
	gs, accs = gsAccounts(t, body, true)
	registerAll(t, a, accs, ht802, faxPort)
	// Port 2 is the fax: pass-through (T.38 off), no re-INVITE on the fax
	// tone, echo cancellers off; port 1 keeps voice settings.
	for p, want := range map[int]string{710: "1", 4417: "0", 825: "1", 4442: "1", 228: "0", 824: "0"} {
		if gs.Values[p] != want {
			t.Errorf("HT802 P%d = %q, want %s", p, gs.Values[p], want)
		}
	}

	ht801 := ten.device(door, map[string]any{"kind": "grandstream", "mac": "c0:74:ad:00:08:01", "model": "HT801"})
	code, body = provFetch(t, ten.provURL("cfgc074ad000801.xml"), "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad000801", ht801)
	if code != 200 {
		t.Fatalf("HT801: %d %s", code, body)
	}
	gs, accs = gsAccounts(t, body, true)
	if _, ok := gs.Values[401]; ok {
		t.Fatal("an HT801 file configures a second port")
	}
	registerAll(t, a, accs, ht801)

	// A fax on a port of a device that is no adapter is refused.
	apiCall(t, a, "POST", "/api/v1/tenants/"+ten.id+"/users/"+ten.user("full", "242")+"/devices",
		map[string]any{"kind": "grandstream", "mac": "c0:74:ad:00:08:22", "model": "WP822", "fax": true}, 422)
}
