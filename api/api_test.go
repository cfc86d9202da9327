package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pbx/api"
	"pbx/store"
)

// TestContract walks the API's first contract as a script would.
func TestContract(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	r := e.must(201, "POST", "/api/v1/tenants", e.admin, map[string]any{"name": "Acme"})
	tenant := r.str("id")
	if tenant == "" || r.str("domain") != "acme.pbx.local" || r.str("billing_state") != "active" {
		t.Fatalf("tenant: %s", r.raw)
	}
	if _, ok := r.obj["id"].(string); !ok {
		t.Fatalf("id is not a string: %s", r.raw)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/tenants/"+tenant {
		t.Fatalf("Location %q", loc)
	}
	base := "/api/v1/tenants/" + tenant

	r = e.must(201, "POST", base+"/users", e.admin, map[string]any{
		"first_name": "An", "last_name": "Peeters", "email": "an@acme.test", "licence": "full", "extension": "201"})
	full := r.str("id")
	if full == "" || r.str("extension") != "201" || r.str("status") != "active" {
		t.Fatalf("full user: %s", r.raw)
	}
	r = e.must(201, "POST", base+"/users", e.admin, map[string]any{
		"first_name": "Lobby", "last_name": "Phone", "email": "lobby@acme.test", "licence": "light"})
	light := r.str("id")
	if light == "" || r.obj["extension"] != nil {
		t.Fatalf("light user: %s", r.raw)
	}

	// A desk phone with a MAC in colon form gets provisioning credentials.
	r = e.device(tenant, e.admin, full, map[string]any{"kind": "yealink", "mac": "80:5e:c0:a1:b2:c3", "model": "T54W"})
	dev := r.str("id")
	user, pass := r.str("sip_username"), r.str("sip_password")
	if dev == "" || r.str("sip_domain") != "acme.pbx.local" {
		t.Fatalf("device: %s", r.raw)
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9]{11}$`).MatchString(user) || strings.Contains(user, "201") {
		t.Fatalf("sip_username %q is not a random 12-char lower-case alnum", user)
	}
	if len(pass) < 20 {
		t.Fatalf("sip_password %q shorter than 20", pass)
	}
	if r.str("mac") != "805ec0a1b2c3" || r.str("provisioning_url") != "https://prov.test/805ec0a1b2c3.cfg" ||
		r.str("provisioning_username") != "prov-805ec0a1b2c3" || r.str("provisioning_password") == "" {
		t.Fatalf("provisioning fields: %s", r.raw)
	}
	// The store keeps what authentication needs: HA1 in the tenant's realm.
	auth, err := e.st.DeviceAuthByUsername(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Device.HA1MD5 != store.HA1("MD5", user, "acme.pbx.local", pass) || auth.Device.ProvUsername != "prov-805ec0a1b2c3" {
		t.Fatalf("stored device: %+v", auth.Device)
	}
	// A softphone has no MAC, hence no provisioning fields.
	r = e.device(tenant, e.admin, full, map[string]any{"kind": "softphone"})
	if _, ok := r.obj["provisioning_url"]; ok {
		t.Fatalf("softphone got provisioning: %s", r.raw)
	}
	if r.str("sip_username") == user || r.str("sip_password") == pass {
		t.Fatal("two devices share credentials")
	}
	e.device(tenant, e.admin, light, map[string]any{"kind": "gigaset", "mac": "7C-2F-80-00-11-22"})

	// Registrations.
	now := time.Now()
	err = e.st.ApplyBindings(ctx, []store.BindingChange{{Binding: store.Binding{DeviceID: dev, TenantID: tenant,
		Contact: "sip:" + user + "@192.0.2.10:5060", Source: "192.0.2.10:5060", Transport: "udp", UserAgent: "Yealink T54W",
		ExpiresAt: now.Add(time.Hour), UpdatedAt: now}}})
	if err != nil {
		t.Fatal(err)
	}
	r = e.must(200, "GET", base+"/registrations", e.admin, nil)
	if len(r.arr) != 1 {
		t.Fatalf("registrations: %s", r.raw)
	}
	reg := r.arr[0].(map[string]any)
	for _, k := range []string{"device_id", "contact", "source", "transport", "user_agent", "expires_at"} {
		if _, ok := reg[k].(string); !ok {
			t.Fatalf("registration lacks %s: %s", k, r.raw)
		}
	}
	if reg["device_id"] != dev || reg["source"] != "192.0.2.10:5060" || reg["transport"] != "udp" {
		t.Fatalf("registration: %s", r.raw)
	}
	if exp, err := time.Parse(time.RFC3339, reg["expires_at"].(string)); err != nil || exp.Sub(now) < 59*time.Minute {
		t.Fatalf("expires_at %v: %v", reg["expires_at"], err)
	}

	// Suspend, reactivate, terminate.
	until := e.now.AddDate(0, 0, 14).Format(time.DateOnly)
	r = e.must(200, "POST", base+"/users/"+full+"/suspend", e.admin, map[string]any{"until": until})
	if r.str("status") != "suspended" || r.str("suspended_until") != until {
		t.Fatalf("suspended: %s", r.raw)
	}
	if r = e.must(200, "GET", base+"/registrations", e.admin, nil); len(r.arr) != 0 {
		t.Fatalf("suspension kept bindings: %s", r.raw)
	}
	r = e.must(200, "POST", base+"/users/"+full+"/reactivate", e.admin, nil)
	if r.str("status") != "active" || r.obj["suspended_until"] != nil {
		t.Fatalf("reactivated: %s", r.raw)
	}
	r = e.must(204, "DELETE", base+"/users/"+light, e.admin, nil)
	if len(r.raw) != 0 {
		t.Fatalf("204 with a body: %q", r.raw)
	}
	isProblem(t, e.call("GET", base+"/users/"+light, e.admin, nil), 404)
	if ds, _ := e.st.Devices(ctx, tenant, light); len(ds) != 0 {
		t.Fatal("terminated licence kept devices")
	}
}

func TestTenants(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, "POST", "/api/v1/tenants", e.admin, map[string]any{"name": "  Café Zoë & Co  "})
	if r.str("domain") != "cafe-zoe-co.pbx.local" || r.str("name") != "Café Zoë & Co" {
		t.Fatalf("slug: %s", r.raw)
	}
	// Same slug: 409 naming the field; an explicit slug resolves it.
	r = e.call("POST", "/api/v1/tenants", e.admin, map[string]any{"name": "Cafe Zoe Co"})
	isProblem(t, r, 409)
	if r.str("field") != "name" {
		t.Fatalf("conflict field: %s", r.raw)
	}
	r = e.must(201, "POST", "/api/v1/tenants", e.admin, map[string]any{"name": "Cafe Zoe Co", "slug": "zoe2"})
	if r.str("domain") != "zoe2.pbx.local" {
		t.Fatalf("explicit slug: %s", r.raw)
	}
	second := r.str("id")
	isProblem(t, e.call("POST", "/api/v1/tenants", e.admin, map[string]any{"name": "x", "slug": "zoe2"}), 409)
	isProblem(t, e.call("POST", "/api/v1/tenants", e.admin, map[string]any{"name": "!!!"}), 422)
	isProblem(t, e.call("POST", "/api/v1/tenants", e.admin, map[string]any{"name": "x", "slug": "Not A Label"}), 422)

	r = e.must(200, "GET", "/api/v1/tenants", e.admin, nil)
	if len(r.arr) != 2 {
		t.Fatalf("list: %s", r.raw)
	}
	r = e.must(200, "GET", "/api/v1/tenants/"+second, e.admin, nil)
	if r.str("billing_state") != "active" || r.str("created_at") == "" {
		t.Fatalf("get: %s", r.raw)
	}

	// A tenant token reads its tenant but may not create, list or delete.
	tok, err := api.IssueToken(context.Background(), e.st, store.ScopeTenant, second, "t")
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/api/v1/tenants/"+second, tok, nil)
	isProblem(t, e.call("GET", "/api/v1/tenants", tok, nil), 403)
	isProblem(t, e.call("POST", "/api/v1/tenants", tok, map[string]any{"name": "Evil"}), 403)
	isProblem(t, e.call("DELETE", "/api/v1/tenants/"+second, tok, nil), 403)
	isProblem(t, e.call("POST", "/api/v1/tenants/"+second+"/tokens", tok, map[string]any{"name": "more"}), 403)

	// An admin issues tenant tokens over the API.
	r = e.must(201, "POST", "/api/v1/tenants/"+second+"/tokens", e.admin, map[string]any{"name": "script"})
	issued := r.str("token")
	if r.str("scope") != "tenant" || r.str("tenant_id") != second || !strings.HasPrefix(issued, "pbx_") {
		t.Fatalf("token: %s", r.raw)
	}
	e.must(200, "GET", "/api/v1/tenants/"+second+"/users", issued, nil)

	e.must(204, "DELETE", "/api/v1/tenants/"+second, e.admin, nil)
	isProblem(t, e.call("GET", "/api/v1/tenants/"+second, e.admin, nil), 404)
	// Its tokens went with it.
	isProblem(t, e.call("GET", "/api/v1/tenants/"+second, tok, nil), 401)
}

func TestSites(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten
	addr := map[string]any{"name": "HQ", "street": "Wetstraat", "number": "16", "postal_code": "1000", "city": "Brussel"}
	r := e.must(201, "POST", base+"/sites", tok, addr)
	site := r.str("id")
	if r.str("country") != "BE" || r.str("street") != "Wetstraat" {
		t.Fatalf("site: %s", r.raw)
	}
	r = e.call("POST", base+"/sites", tok, map[string]any{"name": "X", "country": "Belgium"})
	isProblem(t, r, 422)
	for _, f := range []string{"street", "number", "postal_code", "city", "country"} {
		if !slices.Contains(r.fields(), f) {
			t.Errorf("missing %s not reported: %s", f, r.raw)
		}
	}
	r = e.must(200, "PATCH", base+"/sites/"+site, tok, map[string]any{"number": "16A", "country": "nl"})
	if r.str("number") != "16A" || r.str("country") != "NL" || r.str("city") != "Brussel" {
		t.Fatalf("patched: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", base+"/sites/"+site, tok, map[string]any{"city": ""}), 422)
	if r = e.must(200, "GET", base+"/sites/"+site, tok, nil); r.str("city") != "Brussel" {
		t.Fatalf("invalid patch was written: %s", r.raw)
	}
	if r = e.must(200, "GET", base+"/sites", tok, nil); len(r.arr) != 1 {
		t.Fatalf("list: %s", r.raw)
	}

	// A user on the site loses it when the site goes.
	user := e.fullUser(ten, tok, "201")
	r = e.call("PATCH", base+"/users/"+user, tok, map[string]any{"site_id": "site_nope"})
	isProblem(t, r, 422)
	if r.str("field") != "site_id" {
		t.Fatalf("field: %s", r.raw)
	}
	if r = e.must(200, "PATCH", base+"/users/"+user, tok, map[string]any{"site_id": site}); r.str("site_id") != site {
		t.Fatalf("site_id: %s", r.raw)
	}
	e.must(204, "DELETE", base+"/sites/"+site, tok, nil)
	isProblem(t, e.call("DELETE", base+"/sites/"+site, tok, nil), 404)
	if r = e.must(200, "GET", base+"/users/"+user, tok, nil); r.obj["site_id"] != nil {
		t.Fatalf("user kept a deleted site: %s", r.raw)
	}
}

func TestUserUpdate(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten
	a := e.fullUser(ten, tok, "201")
	e.fullUser(ten, tok, "202")
	light := e.lightUser(ten, tok)

	r := e.must(200, "PATCH", base+"/users/"+a, tok, map[string]any{
		"first_name": "Anna", "language": "fr", "extension": "301", "dnd": true,
		"forward_busy": "+3225551234", "forward_no_answer": "202", "no_answer_seconds": 30})
	if r.str("first_name") != "Anna" || r.str("last_name") != "201" || r.str("language") != "fr" || r.str("extension") != "301" ||
		r.obj["dnd"] != true || r.str("forward_busy") != "+3225551234" || r.obj["no_answer_seconds"] != 30.0 {
		t.Fatalf("patched: %s", r.raw)
	}
	r = e.call("PATCH", base+"/users/"+a, tok, map[string]any{"extension": "202"})
	isProblem(t, r, 409)
	if r.str("field") != "extension" {
		t.Fatalf("conflict field: %s", r.raw)
	}
	// Several invalid fields are reported together, and nothing is written.
	r = e.call("PATCH", base+"/users/"+a, tok, map[string]any{"first_name": "Ok", "email": "not an address", "language": "xx",
		"forward_always": "301", "no_answer_seconds": 1})
	isProblem(t, r, 422)
	for _, f := range []string{"email", "language", "forward_always", "no_answer_seconds"} {
		if !slices.Contains(r.fields(), f) {
			t.Errorf("%s not reported: %s", f, r.raw)
		}
	}
	if r = e.must(200, "GET", base+"/users/"+a, tok, nil); r.str("first_name") != "Anna" {
		t.Fatalf("half-written: %s", r.raw)
	}
	r = e.call("PATCH", base+"/users/"+light, tok, map[string]any{"extension": "400"})
	isProblem(t, r, 422)
	if r.str("field") != "extension" {
		t.Fatalf("field: %s", r.raw)
	}
	r = e.must(200, "GET", base+"/users", tok, nil)
	if len(r.arr) != 3 {
		t.Fatalf("list: %s", r.raw)
	}
	// Duplicate extension at creation.
	r = e.call("POST", base+"/users", tok, map[string]any{"first_name": "B", "last_name": "C", "licence": "full", "extension": "202"})
	isProblem(t, r, 409)
	if r.str("field") != "extension" {
		t.Fatalf("field: %s", r.raw)
	}
}

func TestDeviceLimits(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	full := e.fullUser(ten, tok, "201")
	light := e.lightUser(ten, tok)
	for i := 0; i < 5; i++ {
		e.device(ten, tok, full, map[string]any{"kind": "softphone"})
	}
	r := e.call("POST", "/api/v1/tenants/"+ten+"/users/"+full+"/devices", tok, map[string]any{"kind": "softphone"})
	isProblem(t, r, 409)
	if !strings.Contains(r.str("detail"), "a full licence allows 5 devices") || r.obj["limit"] != 5.0 || r.str("licence") != "full" {
		t.Fatalf("limit problem: %s", r.raw)
	}
	e.device(ten, tok, light, map[string]any{"kind": "generic"})
	r = e.call("POST", "/api/v1/tenants/"+ten+"/users/"+light+"/devices", tok, map[string]any{"kind": "generic"})
	isProblem(t, r, 409)
	if !strings.Contains(r.str("detail"), "a light licence allows 1 device") || r.obj["limit"] != 1.0 {
		t.Fatalf("limit problem: %s", r.raw)
	}
	if ds, _ := e.st.Devices(context.Background(), ten, ""); len(ds) != 6 {
		t.Fatalf("%d devices stored, want 6", len(ds))
	}
	if r = e.must(200, "GET", "/api/v1/tenants/"+ten+"/devices", tok, nil); len(r.arr) != 6 {
		t.Fatalf("tenant devices: %s", r.raw)
	}
}

func TestDeviceMACAndModel(t *testing.T) {
	valid := map[string]bool{"T54W": true, "N870": true}
	e := newEnv(t, func(o *api.Options) { o.ValidModel = func(m string) bool { return valid[m] } })
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten + "/users/"
	a := e.fullUser(ten, tok, "201")
	b := e.fullUser(ten, tok, "202")
	for _, form := range []string{"805EC0A1B2C3", "80:5e:c0:a1:b2:c4", "80-5E-C0-A1-B2-C5"} {
		r := e.device(ten, tok, a, map[string]any{"kind": "yealink", "mac": form, "model": "T54W"})
		want := strings.ToLower(strings.NewReplacer(":", "", "-", "").Replace(form))
		if r.str("mac") != want {
			t.Fatalf("mac %q stored as %q", form, r.str("mac"))
		}
	}
	// The same phone under another spelling, on another user: 409 naming mac.
	r := e.call("POST", base+b+"/devices", tok, map[string]any{"kind": "yealink", "mac": "80:5E:C0:A1:B2:C3"})
	isProblem(t, r, 409)
	if r.str("field") != "mac" {
		t.Fatalf("field: %s", r.raw)
	}
	r = e.call("POST", base+b+"/devices", tok, map[string]any{"kind": "yealink", "model": "X99"})
	isProblem(t, r, 422)
	if r.str("field") != "model" {
		t.Fatalf("field: %s", r.raw)
	}
	r = e.call("POST", base+b+"/devices", tok, map[string]any{"kind": "softphone", "mac": "805ec0a1b2d0"})
	isProblem(t, r, 422)
	if r.str("field") != "mac" {
		t.Fatalf("field: %s", r.raw)
	}
	// Without a provisioning hook a MAC brings no provisioning fields.
	e2 := newEnv(t, func(o *api.Options) { o.IssueProvisioning = nil })
	ten2, tok2 := e2.tenant("Other")
	u2 := e2.fullUser(ten2, tok2, "201")
	r = e2.device(ten2, tok2, u2, map[string]any{"kind": "yealink", "mac": "805ec0a1b2c3"})
	if _, ok := r.obj["provisioning_url"]; ok {
		t.Fatalf("provisioning without a hook: %s", r.raw)
	}
}

// TestSecretsNotReturned: the SIP password appears in the creation answer
// only; reads never carry it.
func TestSecretsNotReturned(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	u := e.fullUser(ten, tok, "201")
	r := e.device(ten, tok, u, map[string]any{"kind": "yealink", "mac": "805ec0a1b2c3"})
	dev, pass, prov := r.str("id"), r.str("sip_password"), r.str("provisioning_password")
	base := "/api/v1/tenants/" + ten
	for _, p := range []string{base + "/users/" + u + "/devices/" + dev, base + "/users/" + u + "/devices", base + "/devices", base + "/users/" + u} {
		r := e.must(200, "GET", p, tok, nil)
		for _, secret := range []string{pass, prov, "sip_password", "provisioning_password", "ha1"} {
			if strings.Contains(string(r.raw), secret) {
				t.Errorf("GET %s shows %q: %s", p, secret, r.raw)
			}
		}
	}
	r = e.must(200, "GET", base+"/users/"+u+"/devices/"+dev, tok, nil)
	if r.str("sip_username") == "" || r.str("mac") != "805ec0a1b2c3" || r.str("provisioning_username") == "" {
		t.Fatalf("device view: %s", r.raw)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
}

func TestRotateDropsBindings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ten, tok := e.tenant("Acme")
	u := e.fullUser(ten, tok, "201")
	r := e.device(ten, tok, u, map[string]any{"kind": "softphone"})
	dev, user, oldPass := r.str("id"), r.str("sip_username"), r.str("sip_password")
	other := e.device(ten, tok, u, map[string]any{"kind": "softphone"}).str("id")
	now := time.Now()
	var changes []store.BindingChange
	for _, d := range []string{dev, other} {
		changes = append(changes, store.BindingChange{Binding: store.Binding{DeviceID: d, TenantID: ten, Contact: "sip:" + d + "@192.0.2.1",
			Source: "192.0.2.1:5060", Transport: "tcp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}})
	}
	if err := e.st.ApplyBindings(ctx, changes); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/tenants/" + ten + "/users/" + u
	if r = e.must(200, "GET", base+"/registrations", tok, nil); len(r.arr) != 2 {
		t.Fatalf("user registrations: %s", r.raw)
	}
	r = e.must(200, "POST", base+"/devices/"+dev+"/rotate", tok, nil)
	newPass := r.str("sip_password")
	if len(newPass) < 20 || newPass == oldPass || r.str("sip_username") != user || r.str("id") != dev {
		t.Fatalf("rotated: %s", r.raw)
	}
	if bs, _ := e.st.DeviceBindings(ctx, dev, time.Now()); len(bs) != 0 {
		t.Fatalf("rotation kept bindings: %+v", bs)
	}
	if bs, _ := e.st.DeviceBindings(ctx, other, time.Now()); len(bs) != 1 {
		t.Fatal("rotation dropped another device's binding")
	}
	auth, err := e.st.DeviceAuthByUsername(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Device.HA1SHA256 != store.HA1("SHA-256", user, "acme.pbx.local", newPass) {
		t.Fatal("stored HA1 does not match the new password")
	}
	if r = e.must(200, "GET", "/api/v1/tenants/"+ten+"/registrations", tok, nil); len(r.arr) != 1 || r.arr[0].(map[string]any)["device_id"] != other {
		t.Fatalf("registrations after rotate: %s", r.raw)
	}
	// Device delete; a device is only reachable under its own user.
	u2 := e.fullUser(ten, tok, "202")
	isProblem(t, e.call("DELETE", "/api/v1/tenants/"+ten+"/users/"+u2+"/devices/"+dev, tok, nil), 404)
	e.must(204, "DELETE", base+"/devices/"+dev, tok, nil)
	isProblem(t, e.call("GET", base+"/devices/"+dev, tok, nil), 404)
	isProblem(t, e.call("POST", base+"/devices/"+dev+"/rotate", tok, nil), 404)
}

func TestSuspendReactivateTerminate(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten + "/users/"
	a := e.fullUser(ten, tok, "201")
	b := e.fullUser(ten, tok, "202")
	until := e.now.AddDate(0, 1, 0).Format(time.DateOnly)

	// With a single licence, neither suspension nor termination is allowed.
	for _, req := range []struct{ method, path string }{{"POST", base + a + "/suspend"}, {"DELETE", base + a}} {
		e.must(204, "DELETE", base+b, tok, nil)
		r := e.call(req.method, req.path, tok, map[string]any{"until": until})
		isProblem(t, r, 409)
		if !strings.Contains(r.str("detail"), "at least one active licence") {
			t.Fatalf("%s %s: %s", req.method, req.path, r.raw)
		}
		b = e.fullUser(ten, tok, "202")
	}

	e.must(200, "POST", base+a+"/suspend", tok, map[string]any{"until": until})
	// b is now the last active one.
	isProblem(t, e.call("POST", base+b+"/suspend", tok, map[string]any{"until": until}), 409)
	isProblem(t, e.call("DELETE", base+b, tok, nil), 409)
	r := e.must(200, "GET", base+a, tok, nil)
	if r.str("status") != "suspended" || r.str("suspended_until") != until {
		t.Fatalf("suspended user: %s", r.raw)
	}
	// Suspending again moves the date.
	later := e.now.AddDate(0, 2, 0).Format(time.DateOnly)
	if r = e.must(200, "POST", base+a+"/suspend", tok, map[string]any{"until": later}); r.str("suspended_until") != later {
		t.Fatalf("re-suspended: %s", r.raw)
	}
	e.must(200, "POST", base+a+"/reactivate", tok, nil)
	e.must(200, "POST", base+a+"/reactivate", tok, nil) // idempotent
	e.must(204, "DELETE", base+b, tok, nil)
	isProblem(t, e.call("DELETE", base+b, tok, nil), 404)
	isProblem(t, e.call("POST", base+b+"/suspend", tok, map[string]any{"until": until}), 404)
	isProblem(t, e.call("POST", base+b+"/reactivate", tok, nil), 404)
}

func TestBLFKeys(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten + "/users/"
	a := e.fullUser(ten, tok, "201")
	b := e.fullUser(ten, tok, "202")
	c := e.fullUser(ten, tok, "203")
	light := e.lightUser(ten, tok)
	r := e.must(200, "PUT", base+a+"/blf", tok, []map[string]any{
		{"position": 2, "target_user_id": c, "label": "Carla"},
		{"position": 1, "target_user_id": b},
	})
	if len(r.arr) != 2 {
		t.Fatalf("blf: %s", r.raw)
	}
	k1 := r.arr[0].(map[string]any)
	if k1["position"] != 1.0 || k1["target_user_id"] != b || k1["target_extension"] != "202" || k1["label"] != "User 202" {
		t.Fatalf("first key: %s", r.raw)
	}
	if r = e.must(200, "GET", base+a+"/blf", tok, nil); len(r.arr) != 2 || r.arr[1].(map[string]any)["label"] != "Carla" {
		t.Fatalf("get: %s", r.raw)
	}
	r = e.call("PUT", base+a+"/blf", tok, []map[string]any{
		{"position": 1, "target_user_id": b},
		{"position": 1, "target_user_id": light},
		{"position": 0, "target_user_id": "usr_nope"},
	})
	isProblem(t, r, 422)
	for _, f := range []string{"[1].position", "[1].target_user_id", "[2].position", "[2].target_user_id"} {
		if !slices.Contains(r.fields(), f) {
			t.Errorf("%s not reported: %s", f, r.raw)
		}
	}
	if r = e.must(200, "GET", base+a+"/blf", tok, nil); len(r.arr) != 2 {
		t.Fatalf("invalid PUT was written: %s", r.raw)
	}
	isProblem(t, e.call("PUT", base+a+"/blf", tok, map[string]any{"position": 1}), 400)
	isProblem(t, e.call("PUT", base+a+"/blf", tok, "null"), 400)
	if r = e.must(200, "PUT", base+a+"/blf", tok, []any{}); len(r.arr) != 0 {
		t.Fatalf("clear: %s", r.raw)
	}
}

func TestCDRs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ten, tok := e.tenant("Acme")
	other, _ := e.tenant("Other")
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		c := store.CDR{TenantID: ten, CallID: "call-" + string(rune('a'+i)), Caller: "201", Callee: "202",
			Start: start.Add(time.Duration(i) * time.Minute), End: start.Add(time.Duration(i)*time.Minute + 30*time.Second), Disposition: "no_answer"}
		if i%2 == 0 {
			c.Answer = c.Start.Add(5 * time.Second)
			c.BillableSeconds = 25
			c.Disposition = "answered"
		}
		if _, err := e.st.InsertCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.st.InsertCDR(ctx, store.CDR{TenantID: other, CallID: "x", Caller: "1", Callee: "2", Start: start, End: start, Disposition: "failed"}); err != nil {
		t.Fatal(err)
	}
	r := e.must(200, "GET", "/api/v1/tenants/"+ten+"/cdrs", tok, nil)
	if len(r.arr) != 5 {
		t.Fatalf("cdrs: %s", r.raw)
	}
	first := r.arr[0].(map[string]any)
	if first["call_id"] != "call-e" || first["answer_at"] == nil || first["billable_seconds"] != 25.0 {
		t.Fatalf("newest first: %s", r.raw)
	}
	if second := r.arr[1].(map[string]any); second["answer_at"] != nil || second["disposition"] != "no_answer" {
		t.Fatalf("unanswered call: %v", second)
	}
	if r = e.must(200, "GET", "/api/v1/tenants/"+ten+"/cdrs?limit=2", tok, nil); len(r.arr) != 2 || r.arr[1].(map[string]any)["call_id"] != "call-d" {
		t.Fatalf("limit: %s", r.raw)
	}
	for _, bad := range []string{"0", "-1", "abc", "1001"} {
		r = e.call("GET", "/api/v1/tenants/"+ten+"/cdrs?limit="+bad, tok, nil)
		isProblem(t, r, 400)
		if r.str("field") != "limit" {
			t.Fatalf("limit=%s: %s", bad, r.raw)
		}
	}
}

// TestTokens: secrets are stored hashed, checked, and the bootstrap token
// follows PBX_ADMIN_TOKEN.
func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ten, _ := e.tenant("Acme")

	secret, err := api.IssueToken(ctx, e.st, store.ScopeTenant, ten, "script")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 40 {
		t.Fatalf("short secret %q", secret)
	}
	tok, err := e.st.TokenByHash(ctx, api.HashToken(secret))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Hash == secret || strings.Contains(tok.Hash, secret) || len(tok.Hash) != 64 || tok.Scope != store.ScopeTenant || tok.TenantID != ten {
		t.Fatalf("stored token: %+v", tok)
	}
	if _, err := e.st.TokenByHash(ctx, secret); err == nil {
		t.Fatal("the secret itself finds a token")
	}
	e.must(200, "GET", "/api/v1/tenants/"+ten, secret, nil)

	for _, bad := range []struct {
		name, header string
	}{{"none", ""}, {"wrong", "Bearer pbx_nope"}, {"basic", "Basic " + secret}, {"hash", "Bearer " + tok.Hash}} {
		req := e.call("GET", "/api/v1/tenants/"+ten, "", nil)
		if bad.header != "" {
			req = e.rawAuth("GET", "/api/v1/tenants/"+ten, bad.header)
		}
		isProblem(t, req, 401)
		if req.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", bad.name)
		}
	}

	if _, err := api.IssueToken(ctx, e.st, store.ScopeTenant, "", "x"); err == nil {
		t.Error("tenant token without tenant")
	}
	if _, err := api.IssueToken(ctx, e.st, store.ScopeAdmin, ten, "x"); err == nil {
		t.Error("admin token with a tenant")
	}
	if _, err := api.IssueToken(ctx, e.st, "root", "", "x"); err == nil {
		t.Error("unknown scope")
	}

	// EnsureAdminToken is idempotent; a new secret replaces the old one.
	n0, _ := e.st.CountTokens(ctx)
	if err := api.EnsureAdminToken(ctx, e.st, adminSecret); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.CountTokens(ctx); n != n0 {
		t.Fatalf("EnsureAdminToken twice: %d tokens, want %d", n, n0)
	}
	const rotated = "another-admin-secret-abcdef"
	if err := api.EnsureAdminToken(ctx, e.st, rotated); err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/api/v1/tenants", rotated, nil)
	isProblem(t, e.call("GET", "/api/v1/tenants", adminSecret, nil), 401)
	if err := api.EnsureAdminToken(ctx, e.st, "short"); err == nil {
		t.Error("short bootstrap secret accepted")
	}
	if err := api.EnsureAdminToken(ctx, e.st, secret); err == nil {
		t.Error("a tenant token's secret became an admin secret")
	}
}

// TestAccessLog: one record per request with its id and the token id, never the secret.
func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	r := e.must(200, "GET", "/api/v1/tenants/"+ten+"/users", tok, nil)
	reqID := r.header.Get("X-Request-Id")
	if reqID == "" {
		t.Fatal("no X-Request-Id")
	}
	logs := e.logs.String()
	if strings.Contains(logs, tok) || strings.Contains(logs, adminSecret) {
		t.Fatalf("a token secret was logged:\n%s", logs)
	}
	var found map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["request_id"] == reqID {
			found = rec
		}
	}
	if found == nil {
		t.Fatalf("no log record for request %s:\n%s", reqID, logs)
	}
	tokID, _ := found["token_id"].(string)
	if found["method"] != "GET" || found["path"] != "/api/v1/tenants/"+ten+"/users" || found["status"] != 200.0 ||
		found["route"] != "GET /api/v1/tenants/{tenant}/users" || !strings.HasPrefix(tokID, "tok_") || found["duration"] == nil {
		t.Fatalf("log record: %v", found)
	}
	// The problem of a failed request carries the same id.
	r = e.call("GET", "/api/v1/tenants/"+ten+"/users/usr_nope", tok, nil)
	if r.str("request_id") != r.header.Get("X-Request-Id") || r.str("instance") != "/api/v1/tenants/"+ten+"/users/usr_nope" {
		t.Fatalf("problem ids: %s", r.raw)
	}
}

// rawAuth sends a request with an arbitrary Authorization header.
func (e *env) rawAuth(method, path, header string) resp {
	e.t.Helper()
	return e.callWith(method, path, nil, map[string]string{"Authorization": header})
}

// Concurrent creations cannot exceed the limit: the store counts and inserts
// in one transaction, and every loser gets the limit problem, not a 500.
func TestDeviceLimitConcurrent(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	u := e.fullUser(ten, tok, "201")
	path := "/api/v1/tenants/" + ten + "/users/" + u + "/devices"
	statuses := make(chan int, 12)
	for i := 0; i < 12; i++ {
		go func() {
			// Not e.call: t.Fatal must not run outside the test goroutine.
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(`{"kind":"softphone"}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := e.srv.Client().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	count := map[int]int{}
	for i := 0; i < 12; i++ {
		count[<-statuses]++
	}
	if count[201] != 5 || count[409] != 7 {
		t.Fatalf("statuses %v, want 5×201 and 7×409", count)
	}
}
