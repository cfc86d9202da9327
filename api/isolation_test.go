package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"pbx/store"
)

// fixture is a tenant with one of everything.
type fixture struct {
	tenant, token, user, user2, device, site string
	number, group, flow, audio               string
	message                                  string // in user's voicemail box
	music                                    string
	contact                                  string
	campaign, dnc                            string
	recording                                string
}

func (e *env) fixture(name, ext string) fixture {
	e.t.Helper()
	ctx := context.Background()
	f := fixture{}
	f.tenant, f.token = e.tenant(name)
	base := "/api/v1/tenants/" + f.tenant
	f.user = e.fullUser(f.tenant, f.token, ext)
	f.user2 = e.fullUser(f.tenant, f.token, ext+"9")
	f.device = e.device(f.tenant, f.token, f.user, map[string]any{"kind": "softphone"}).str("id")
	f.site = e.must(201, "POST", base+"/sites", f.token, map[string]any{"name": name, "street": "Rue", "number": "1", "postal_code": "1000", "city": "Bruxelles"}).str("id")
	e.must(200, "PUT", base+"/users/"+f.user+"/blf", f.token, []map[string]any{{"position": 1, "target_user_id": f.user2}})
	f.group = e.must(201, "POST", base+"/hunt_groups", f.token, map[string]any{"name": "G" + name, "extension": ext + "8", "strategy": "linear",
		"members": []string{f.user, f.user2}, "member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "user", "id": f.user}}).str("id")
	f.audio = e.uploadRaw(f.tenant, f.token, "audio/wav", wavFile(8000, 1, 16, 1)).str("id")
	f.flow = e.must(201, "POST", base+"/call_flows", f.token, simpleFlow(f.user)).str("id")
	f.number = e.must(201, "POST", base+"/numbers", f.token, map[string]any{"number": "+3250" + ext + "111",
		"destination": map[string]any{"type": "user", "id": f.user}}).str("id")
	now := time.Now()
	if err := e.st.ApplyBindings(ctx, []store.BindingChange{{Binding: store.Binding{DeviceID: f.device, TenantID: f.tenant,
		Contact: "sip:" + f.device + "@192.0.2.9", Source: "192.0.2.9:5060", Transport: "udp", ExpiresAt: now.Add(time.Hour), UpdatedAt: now}}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.InsertCDR(ctx, store.CDR{TenantID: f.tenant, CallID: "call-" + name, Caller: ext, Callee: ext + "9",
		Start: now, End: now, Disposition: "answered"}); err != nil {
		e.t.Fatal(err)
	}
	f.message = e.voicemailMessage(f.tenant, f.user, ext)
	f.music = e.uploadMusic(f.tenant, f.token, "queue", wavFile(8000, 1, 16, 1)).str("id")
	f.contact = e.must(201, "POST", base+"/contacts", f.token, map[string]any{"name": "Supplier " + name, "numbers": []string{"+3250" + ext + "222"}}).str("id")
	f.campaign = e.must(201, "POST", base+"/campaigns", f.token, campaignBody(f.audio, "+3250"+ext+"111")).str("id")
	f.dnc = "+3250" + ext + "333"
	e.must(201, "POST", base+"/do_not_call", f.token, map[string]any{"number": f.dnc})
	f.recording = e.recording(f.tenant, ext, ext+"9")
	return f
}

// campaignBody is a valid broadcast campaign of audio from callerID.
func campaignBody(audio, callerID string) map[string]any {
	return map[string]any{"name": "Spring", "mode": "broadcast", "audio": audio, "caller_id": callerID,
		"window":         map[string]any{"time_zone": "Europe/Brussels", "hours": []map[string]any{{"days": []string{"mon", "tue"}, "from": "09:00", "to": "17:00"}}},
		"max_concurrent": 2, "calls_per_minute": 10, "max_attempts": 2, "retry_after": 600}
}

// validBodies are acceptable inputs per operation, so that a 404 cannot be
// a validation failure in disguise.
func validBodies(f fixture, now time.Time) map[string]any {
	return map[string]any{
		"createTenantToken": map[string]any{"name": "x"},
		"updateTenant":      map[string]any{"sip_digest_algorithms": []string{"MD5"}},
		"createSite":        map[string]any{"name": "S", "street": "Rue", "number": "2", "postal_code": "1000", "city": "Bruxelles"},
		"updateSite":        map[string]any{"city": "Gent"},
		"createUser":        map[string]any{"first_name": "E", "last_name": "Vil", "licence": "full", "extension": "666"},
		"updateUser":        map[string]any{"first_name": "Evil"},
		"suspendUser":       map[string]any{"until": now.AddDate(0, 0, 7).Format(time.DateOnly)},
		"putBLFKeys":        []map[string]any{{"position": 1, "target_user_id": f.user}},
		"createDevice":      map[string]any{"kind": "softphone"},
		"sendSMS":           map[string]any{"from": "+3250666666", "to": "+32470666666", "text": "x"},
		"createNumber":      map[string]any{"number": "+3250666666", "destination": map[string]any{"type": "user", "id": f.user}},
		"updateNumber":      map[string]any{"destination": map[string]any{"type": "voicemail", "id": f.user}},
		"createHuntGroup": map[string]any{"name": "Evil", "strategy": "ring_all", "members": []string{f.user}, "member_timeout": 10, "timeout": 30,
			"overflow": map[string]any{"type": "hunt_group", "id": f.group}},
		"updateHuntGroup":         map[string]any{"name": "Evil"},
		"createCallFlow":          simpleFlow(f.user),
		"putCallFlow":             simpleFlow(f.user),
		"restoreCallFlow":         map[string]any{"version": 1},
		"dryRunCallFlow":          map[string]any{"at": now.Format(time.RFC3339), "digits": "1"},
		"uploadAudio":             map[string]any{"file": "not checked: the tenant is"},
		"updateVoicemailBox":      map[string]any{"email_notify": false},
		"setVoicemailPIN":         map[string]any{"pin": "4321"},
		"uploadVoicemailGreeting": map[string]any{"file": "not checked: the tenant is"},
		"markVoicemailMessage":    map[string]any{"read": true},
		"uploadMusic":             map[string]any{"file": "not checked: the tenant is"},
		"setWebhook":              map[string]any{"url": "https://evil.example/hook", "secret": "0123456789abcdef0123"},
		"createContact":           map[string]any{"name": "Evil", "numbers": []string{"+3250666667"}},
		"updateContact":           map[string]any{"name": "Evil", "numbers": []string{"+3250666667"}},
		"importContacts":          map[string]any{"file": "not checked: the tenant is"},
		"updateTenantCalling":     map[string]any{"bar_international": true},
		"createCampaign":          campaignBody(f.audio, "+3250666111"),
		"uploadCampaignContacts":  map[string]any{"file": "not checked: the tenant is"},
		"addDoNotCall":            map[string]any{"number": "+3250666667"},
		"updateRecordingSettings": map[string]any{"retention_days": 1},
		"putCredit":               map[string]any{"limit": "50.00", "users": []map[string]any{{"user_id": f.user, "limit": "5.00"}}},
	}
}

type operation struct {
	method, path, id string
	body             bool
	admin            bool // x-scope admin
}

// operations lists the documented operations, so that a new route is covered
// by the isolation test without anyone remembering to add it.
func (e *env) operations() []operation {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string          `json:"operationId"`
			RequestBody json.RawMessage `json:"requestBody"`
			Scope       string          `json:"x-scope"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		e.t.Fatal(err)
	}
	var ops []operation
	for p, methods := range doc.Paths {
		for m, op := range methods {
			ops = append(ops, operation{method: strings.ToUpper(m), path: p, id: op.OperationID, body: op.RequestBody != nil, admin: op.Scope == "admin"})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

var pathParams = regexp.MustCompile(`\{[a-z_]+\}`)

func fill(path string, f fixture, tenant string) string {
	return strings.NewReplacer("{tenant}", tenant, "{user}", f.user, "{device}", f.device, "{site}", f.site,
		"{number}", f.number, "{hunt_group}", f.group, "{call_flow}", f.flow, "{audio}", f.audio,
		"{message}", f.message, "{kind}", "busy", "{music}", f.music, "{contact}", f.contact, "{campaign}", f.campaign, "{dnc_number}", f.dnc,
		"{recording}", f.recording).Replace(path)
}

// TestTenantIsolation: a tenant administrator of A gets 404 on every
// resource of B, by B's path or by B's ids under A's path, and changes nothing.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.fixture("Alpha", "201")
	b := e.fixture("Bravo", "301")
	bodies := validBodies(b, e.now)

	ops := e.operations()
	if len(ops) < 25 {
		t.Fatalf("only %d operations documented", len(ops))
	}
	missing := `tenant "ten_doesnotexist" not found`
	for _, op := range ops {
		if !strings.Contains(op.path, "{tenant}") {
			continue // /tenants and the public document: not a tenant's resource
		}
		var body any
		if op.body {
			body = bodies[op.id]
			if body == nil {
				t.Fatalf("no valid body for %s; add one to validBodies", op.id)
			}
		}
		// B's resources by B's path.
		path := fill(op.path, b, b.tenant)
		r := e.call(op.method, path, a.token, body)
		isProblem(t, r, 404)
		// Exactly the answer of a tenant that does not exist.
		r2 := e.call(op.method, fill(op.path, b, "ten_doesnotexist"), a.token, body)
		isProblem(t, r2, 404)
		if strings.Replace(r.str("detail"), b.tenant, "ten_doesnotexist", 1) != r2.str("detail") || r2.str("detail") != missing ||
			r.str("title") != r2.str("title") || r.str("type") != r2.str("type") {
			t.Fatalf("%s %s reveals B exists:\n%s\n%s", op.method, path, r.raw, r2.raw)
		}
		// B's ids under A's own path.
		if len(pathParams.FindAllString(op.path, -1)) > 1 { // an id besides {tenant}
			path := fill(op.path, b, a.tenant)
			isProblem(t, e.call(op.method, path, a.token, body), 404)
		}
	}
	// Admin-only operations are refused outright: every platform-level
	// one (trunks included) answers a tenant token 403 and changes nothing.
	isProblem(t, e.call("GET", "/api/v1/tenants", a.token, nil), 403)
	trunk := e.must(201, "POST", "/api/v1/trunks", e.admin, map[string]any{"name": "Carrier", "host": "192.0.2.50", "transport": "udp",
		"inbound_sources": []string{"192.0.2.50"}}).str("id")
	platform := 0
	for _, op := range ops {
		if !op.admin || strings.Contains(op.path, "{tenant}") {
			continue
		}
		platform++
		var body any
		if op.body {
			body = map[string]any{"name": "Evil"}
		}
		isProblem(t, e.call(op.method, strings.ReplaceAll(op.path, "{trunk}", trunk), a.token, body), 403)
	}
	if platform < 7 {
		t.Fatalf("only %d platform operations documented", platform)
	}
	if r := e.must(200, "GET", "/api/v1/trunks/"+trunk, e.admin, nil); r.str("name") != "Carrier" {
		t.Fatalf("trunk changed by a tenant token: %s", r.raw)
	}

	// A's lists show A only.
	base := "/api/v1/tenants/" + a.tenant
	for _, p := range []string{"/users", "/devices", "/sites", "/registrations", "/cdrs", "/users/" + a.user + "/devices", "/users/" + a.user + "/blf",
		"/numbers", "/hunt_groups", "/call_flows", "/call_flows/" + a.flow + "/versions", "/audio", "/users/" + a.user + "/voicemail", "/music", "/contacts"} {
		r := e.must(200, "GET", base+p, a.token, nil)
		if len(r.arr) == 0 {
			t.Fatalf("%s: empty list %s", p, r.raw)
		}
		for _, id := range []string{b.tenant, b.user, b.user2, b.device, b.site, "call-Bravo", b.number, b.group, b.flow, b.audio, b.message, b.music, b.contact, "Supplier Bravo"} {
			if strings.Contains(string(r.raw), id) {
				t.Fatalf("%s shows B's %s: %s", p, id, r.raw)
			}
		}
	}

	// B is untouched.
	bb := "/api/v1/tenants/" + b.tenant
	if r := e.must(200, "GET", bb+"/users", e.admin, nil); len(r.arr) != 2 {
		t.Fatalf("B's users: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/users/"+b.user, e.admin, nil); r.str("first_name") != "User" || r.str("status") != "active" {
		t.Fatalf("B's user changed: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/devices", e.admin, nil); len(r.arr) != 1 {
		t.Fatalf("B's devices: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/sites/"+b.site, e.admin, nil); r.str("city") != "Bruxelles" {
		t.Fatalf("B's site: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/registrations", e.admin, nil); len(r.arr) != 1 {
		t.Fatalf("B's registrations: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/users/"+b.user+"/blf", e.admin, nil); len(r.arr) != 1 || r.arr[0].(map[string]any)["target_user_id"] != b.user2 {
		t.Fatalf("B's BLF keys: %s", r.raw)
	}
	// B's voicemail is untouched: its message is there, unread, with its
	// audio; its box has no PIN.
	if r := e.must(200, "GET", bb+"/users/"+b.user+"/voicemail", e.admin, nil); len(r.arr) != 1 || r.arr[0].(map[string]any)["read"] != false {
		t.Fatalf("B's voicemail: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/users/"+b.user+"/voicemail_box", e.admin, nil); r.obj["pin_set"] != false || r.obj["email_notify"] != true {
		t.Fatalf("B's voicemail box: %s", r.raw)
	}
	if r := e.call("GET", bb+"/users/"+b.user+"/voicemail/"+b.message+"/audio", e.admin, nil); r.status != 200 || len(r.raw) < 44 {
		t.Fatalf("B's voicemail audio: %d", r.status)
	}
	if r := e.must(200, "GET", bb+"/music", e.admin, nil); len(r.arr) != 1 || r.arr[0].(map[string]any)["id"] != b.music {
		t.Fatalf("B's music: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/contacts/"+b.contact, e.admin, nil); r.str("name") != "Supplier Bravo" {
		t.Fatalf("B's contact changed: %s", r.raw)
	}
	// B's recording is there, never downloaded, and its settings as made.
	if r := e.must(200, "GET", bb+"/recordings", e.admin, nil); len(r.arr) != 1 || r.arr[0].(map[string]any)["id"] != b.recording {
		t.Fatalf("B's recordings: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/recording_audit", e.admin, nil); len(r.arr) != 0 {
		t.Fatalf("B's recording audit: %s", r.raw)
	}
	if r := e.must(200, "GET", bb+"/recording_settings", e.admin, nil); r.obj["retention_days"] != float64(90) {
		t.Fatalf("B's recording settings: %s", r.raw)
	}
	// A's BLF keys cannot point at B's users either.
	r := e.call("PUT", base+"/users/"+a.user+"/blf", a.token, []map[string]any{{"position": 1, "target_user_id": b.user}})
	isProblem(t, r, 422)
}

// simpleFlow sends every call to a user.
func simpleFlow(user string) map[string]any {
	return map[string]any{"name": "To " + user, "start": "u", "nodes": map[string]any{"u": map[string]any{"type": "user", "id": user}}}
}
