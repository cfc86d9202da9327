package main

import (
	"bytes"
	"encoding/json"
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

// apiCall sends a JSON request with the admin token and decodes the answer.
func apiCall(t *testing.T, a *app, method, path string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+a.httpLn.Addr().String()+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	return out
}

// TestProvisionedPhoneRegisters creates a Yealink over REST, fetches its
// configuration as the phone would (digest, real User-Agent), and registers
// with the account values read from the served file.
func TestProvisionedPhoneRegisters(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := apiCall(t, a, "POST", "/api/v1/tenants", map[string]any{"name": "Brasserie"}, 201)
	tid := ten["id"].(string)
	u := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users", map[string]any{"first_name": "Els", "last_name": "Maes",
		"email": "els@example.be", "licence": "full", "extension": "210"}, 201)
	dev := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+u["id"].(string)+"/devices",
		map[string]any{"kind": "yealink", "mac": "80:5E:C0:A1:B2:C3", "model": "T54W"}, 201)
	for _, f := range []string{"provisioning_url", "provisioning_username", "provisioning_password", "sip_password"} {
		if dev[f] == "" || dev[f] == nil {
			t.Fatalf("device creation lacks %s: %v", f, dev)
		}
	}
	// The phone appends its file name to the directory URL it was given.
	url := dev["provisioning_url"].(string) + "805ec0a1b2c3.cfg"
	if !strings.HasPrefix(url, "https://"+a.httpsLn.Addr().String()+"/prov/") {
		t.Fatalf("provisioning URL %q", url)
	}
	fetch := func(user, pass string) (*http.Response, []byte) {
		c := &http.Client{Transport: &digest.Transport{Username: user, Password: pass, Transport: &http.Transport{TLSClientConfig: insecureTLS()}}}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("User-Agent", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	if res, _ := fetch(dev["provisioning_username"].(string), "wrong"); res.StatusCode != 401 {
		t.Fatalf("wrong provisioning password: %d", res.StatusCode)
	}
	res, body := fetch(dev["provisioning_username"].(string), dev["provisioning_password"].(string))
	if res.StatusCode != 200 {
		t.Fatalf("fetch: %d %s", res.StatusCode, body)
	}
	cfg, err := format.ParseYealink(body)
	if err != nil {
		t.Fatalf("served file does not parse strictly: %v", err)
	}
	v := cfg.Values
	user, pass, domain := v["account.1.user_name"], v["account.1.password"], v["account.1.sip_server.1.address"]
	if user != dev["sip_username"] || pass != dev["sip_password"] || domain != ten["domain"] {
		t.Fatalf("account values %q %q %q do not match the device", user, pass, domain)
	}
	port, _ := strconv.Atoi(v["account.1.outbound_proxy.1.port"])
	if v["account.1.outbound_proxy_enable"] == "1" && port != portOf(a.sip.Addr("udp")) {
		t.Fatalf("outbound proxy port %d, server on %v", port, a.sip.Addr("udp"))
	}
	// Register with exactly what the phone was given.
	acc := account{tenant: store.Tenant{Domain: domain}, device: store.Device{SIPUsername: user}, password: pass}
	if res := newPhone(t, a, acc, "udp").register(600, pass); res.StatusCode != 200 {
		t.Fatalf("register with provisioned values: %s", res.StartLine())
	}
}

// TestProvisioningFollowsTheStore checks, through REST and HTTPS, that the
// next file served reflects a new BLF key and a rotated password, and that a
// device of another tenant gets nothing of this one.
func TestProvisioningFollowsTheStore(t *testing.T) {
	a := testApp(t, t.TempDir())
	mk := func(name, ext, mac string) (tid, uid string, dev map[string]any) {
		ten := apiCall(t, a, "POST", "/api/v1/tenants", map[string]any{"name": name}, 201)
		tid = ten["id"].(string)
		u := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users", map[string]any{"first_name": "F" + ext, "last_name": "L",
			"email": ext + "@example.be", "licence": "full", "extension": ext}, 201)
		uid = u["id"].(string)
		dev = apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+uid+"/devices", map[string]any{"kind": "yealink", "mac": mac, "model": "T46"}, 201)
		return
	}
	tid, uid, dev := mk("Alpha", "201", "805ec0000001")
	colleague := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users", map[string]any{"first_name": "Colleague", "last_name": "X",
		"email": "c@example.be", "licence": "full", "extension": "202"}, 201)
	_, _, other := mk("Beta", "301", "805ec0000002")
	base := "https://" + a.httpsLn.Addr().String() + "/prov/"
	get := func(file, user, pass string) (int, string) {
		c := &http.Client{Transport: &digest.Transport{Username: user, Password: pass,
			Transport: &http.Transport{TLSClientConfig: insecureTLS()}}}
		req, _ := http.NewRequest("GET", base+file, nil)
		req.Header.Set("User-Agent", "Yealink SIP-T46S 66.86.0.15 80:5e:c0:00:00:01")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	pu, pp := dev["provisioning_username"].(string), dev["provisioning_password"].(string)
	code, first := get("805ec0000001.cfg", pu, pp)
	if code != 200 || !strings.Contains(first, dev["sip_password"].(string)) {
		t.Fatalf("first fetch: %d", code)
	}
	if strings.Contains(first, other["sip_password"].(string)) {
		t.Fatal("another tenant's secret in the file")
	}
	// Beta's phone, with its own valid credential, asks for Alpha's file.
	if code, body := get("805ec0000001.cfg", other["provisioning_username"].(string), other["provisioning_password"].(string)); code == 200 || strings.Contains(body, dev["sip_password"].(string)) {
		t.Fatalf("cross-tenant fetch answered %d", code)
	}
	apiCall(t, a, "PUT", "/api/v1/tenants/"+tid+"/users/"+uid+"/blf", []map[string]any{{"position": 1, "target_user_id": colleague["id"], "label": "Colleague"}}, 200)
	_, second := get("805ec0000001.cfg", pu, pp)
	if second == first || !strings.Contains(second, "202") {
		t.Fatal("BLF key not in the next file")
	}
	rot := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+uid+"/devices/"+dev["id"].(string)+"/rotate", nil, 200)
	_, third := get("805ec0000001.cfg", pu, pp)
	if !strings.Contains(third, rot["sip_password"].(string)) || strings.Contains(third, dev["sip_password"].(string)) {
		t.Fatal("rotated password not in the next file")
	}
}

// TestProvisionedGigasetHandsetsRegister: a Gigaset base with a handset of
// another licence gets one account per handset, and both register with the
// values read from the served profile.
func TestProvisionedGigasetHandsetsRegister(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := apiCall(t, a, "POST", "/api/v1/tenants", map[string]any{"name": "Warehouse"}, 201)
	tid := ten["id"].(string)
	user := func(ext string) string {
		u := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users", map[string]any{"first_name": "U" + ext, "last_name": "W",
			"email": ext + "@example.be", "licence": "full", "extension": ext}, 201)
		return u["id"].(string)
	}
	u1, u2 := user("210"), user("211")
	base := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+u1+"/devices",
		map[string]any{"kind": "gigaset", "mac": "7C-2F-80-A1-B2-C3", "model": "N510", "mac_id": "k7qw-2m9x-plr4"}, 201)
	if base["mac_id_set"] != true || strings.Contains(fmt.Sprint(base), "K7QW") || strings.Contains(fmt.Sprint(base), "k7qw") {
		t.Fatalf("created base: %v", base)
	}
	handset := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+u2+"/devices",
		map[string]any{"kind": "gigaset", "base_device_id": base["id"]}, 201)
	url := base["provisioning_url"].(string)
	if !strings.HasSuffix(url, "/prov/7C2F80A1B2C3.xml") {
		t.Fatalf("provisioning URL %q", url)
	}
	// Zero touch: the factory-new base knows no credential of ours and
	// answers the challenge with its MAC and the MAC-ID on its label.
	c := &http.Client{Transport: &digest.Transport{Username: "7C2F80A1B2C3", Password: "K7QW2M9XPLR4",
		Transport: &http.Transport{TLSClientConfig: insecureTLS()}}}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("User-Agent", "N510 IP PRO/42.262.00.000.000;7C2F80A1B2C3")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("fetch: %d %s", res.StatusCode, body)
	}
	frame, err := format.ParseProviderFrame(body)
	if err != nil {
		t.Fatalf("served profile does not parse strictly: %v", err)
	}
	for i, dev := range []map[string]any{base, handset} {
		suffix := ""
		if i > 0 {
			suffix = "_" + strconv.Itoa(i+1)
		}
		user, _ := frame.String("BS_IP_Data1.aucS_SIP_USER_ID" + suffix)
		pass, _ := frame.String("BS_IP_Data1.aucS_SIP_PASSWORD" + suffix)
		domain, _ := frame.String("BS_IP_Data1.aucS_SIP_DOMAIN" + suffix)
		if user != dev["sip_username"] || pass != dev["sip_password"] || domain != ten["domain"] {
			t.Fatalf("handset %d: %q %q %q do not match the device", i+1, user, pass, domain)
		}
		acc := account{tenant: store.Tenant{Domain: domain}, device: store.Device{SIPUsername: user}, password: pass}
		if res := newPhone(t, a, acc, "udp").register(600, pass); res.StatusCode != 200 {
			t.Fatalf("handset %d: register with provisioned values: %s", i+1, res.StartLine())
		}
	}
}
