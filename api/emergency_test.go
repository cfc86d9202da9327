package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"pbx/store"
)

// Only an admin token changes a tenant's billing state: the tenant's own
// token gets 403 and the state stays; a bad state is 422 naming the field;
// the change is logged.
func TestBillingStateAdminOnly(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	isProblem(t, e.call("PATCH", "/api/v1/tenants/"+ten, tok, map[string]any{"billing_state": "active"}), 403)
	r := e.call("PATCH", "/api/v1/tenants/"+ten, e.admin, map[string]any{"billing_state": "broke", "timezone": "Mars/Base"})
	isProblem(t, r, 422)
	if f := r.fields(); !slices.Contains(f, "billing_state") || !slices.Contains(f, "timezone") {
		t.Fatalf("fields %v", f)
	}
	for _, state := range []string{"restricted", "service_minimum", "suspended", "active"} {
		r := e.must(200, "PATCH", "/api/v1/tenants/"+ten, e.admin, map[string]any{"billing_state": state})
		if r.str("billing_state") != state {
			t.Fatalf("answer %s", r.raw)
		}
		got, err := e.st.Tenant(context.Background(), ten)
		if err != nil || got.BillingState != state {
			t.Fatalf("stored %q %v", got.BillingState, err)
		}
	}
	// The tenant's token still edits the rest.
	e.must(200, "PATCH", "/api/v1/tenants/"+ten, tok, map[string]any{"name": "Acme NV"})
	if !strings.Contains(e.logs.String(), `"msg":"api: tenant billing state changed"`) {
		t.Fatal("billing state change not logged")
	}
}

// A tenant sets its own webhook; the secret is write-only, stored sealed,
// required the first time and at least 16 characters; bad input names
// every bad field.
func TestWebhookSettings(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	path := "/api/v1/tenants/" + ten + "/webhook"
	if r := e.must(200, "GET", path, tok, nil); r.str("url") != "" || r.obj["secret_set"] != false {
		t.Fatalf("initial %s", r.raw)
	}
	r := e.call("PUT", path, tok, map[string]any{"url": "ftp://x", "secret": "short"})
	isProblem(t, r, 422)
	if f := r.fields(); !slices.Equal(f, []string{"url", "secret"}) {
		t.Fatalf("fields %v", f)
	}
	isProblem(t, e.call("PUT", path, tok, map[string]any{"url": "https://hooks.example/pbx"}), 422) // no secret yet
	secret := "0123456789abcdef-secret"
	r = e.must(200, "PUT", path, tok, map[string]any{"url": "https://hooks.example/pbx?key=capability", "secret": secret})
	if r.str("url") != "https://hooks.example/pbx?key=capability" || r.obj["secret_set"] != true || strings.Contains(string(r.raw), secret) {
		t.Fatalf("set %s", r.raw)
	}
	// A new URL keeps the secret.
	e.must(200, "PUT", path, tok, map[string]any{"url": "https://hooks.example/v2"})
	if r := e.must(200, "GET", path, tok, nil); r.str("url") != "https://hooks.example/v2" || r.obj["secret_set"] != true || strings.Contains(string(r.raw), secret) {
		t.Fatalf("get %s", r.raw)
	}
	w, err := e.st.TenantWebhook(context.Background(), ten)
	if err != nil || w.Secret != secret {
		t.Fatalf("stored %+v %v", w.URL, err)
	}
	logs := e.logs.String()
	if strings.Contains(logs, secret) || strings.Contains(logs, "capability") {
		t.Fatal("webhook secret or URL in the logs")
	}
	isProblem(t, e.call("PUT", path, tok, map[string]any{"url": "https://hooks.example/v2", "secret": ""}), 422)
	// Off.
	if r := e.must(200, "PUT", path, tok, map[string]any{"url": ""}); r.str("url") != "" {
		t.Fatalf("off %s", r.raw)
	}
}

// The emergency calls a tenant made are listed with the location sent.
func TestListEmergencyCalls(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if _, err := e.st.RecordEmergencyCall(context.Background(), store.EmergencyCall{TenantID: ten, CallID: "c1", Number: "112", Class: "on_site",
		Caller: "+3221234567", LocationSource: "site", Location: `{"civic":{"country":"BE","pc":"1000"}}`, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	r := e.must(200, "GET", "/api/v1/tenants/"+ten+"/emergency_calls", tok, nil)
	if len(r.arr) != 1 {
		t.Fatalf("list %s", r.raw)
	}
	c := r.arr[0].(map[string]any)
	loc, _ := c["location"].(map[string]any)
	civic, _ := loc["civic"].(map[string]any)
	if c["number"] != "112" || c["location_source"] != "site" || civic["pc"] != "1000" || c["at"] != "2026-03-01T10:00:00Z" {
		t.Fatalf("call %s", r.raw)
	}
}
