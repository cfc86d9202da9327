package api_test

import (
	"slices"
	"testing"
)

// A site's emergency number must be one of its tenant's numbers; a
// trunk's emergency_site_identity is one of the known ways or empty.
func TestSiteEmergencyNumberAndTrunkSiteIdentity(t *testing.T) {
	e := newEnv(t)
	a, atok := e.tenant("Alpha")
	b, btok := e.tenant("Bravo")
	alice := e.fullUser(a, atok, "201")
	bob := e.fullUser(b, btok, "201")
	e.must(201, "POST", "/api/v1/tenants/"+a+"/numbers", atok, map[string]any{"number": "+3292001122", "destination": map[string]any{"type": "user", "id": alice}})
	e.must(201, "POST", "/api/v1/tenants/"+b+"/numbers", btok, map[string]any{"number": "+3250999999", "destination": map[string]any{"type": "user", "id": bob}})
	base := "/api/v1/tenants/" + a + "/sites"
	addr := func(number string) map[string]any {
		return map[string]any{"name": "Gent", "street": "Veldstraat", "number": "1", "postal_code": "9000", "city": "Gent", "emergency_number": number}
	}

	// Another tenant's number, a number nobody owns, garbage: 422 on the
	// field, beside the other bad fields.
	for _, n := range []string{"+3250999999", "+3292009999", "hello"} {
		body := addr(n)
		body["city"] = ""
		r := e.call("POST", base, atok, body)
		isProblem(t, r, 422)
		if f := r.fields(); !slices.Contains(f, "emergency_number") || !slices.Contains(f, "city") {
			t.Errorf("%q: fields %v: %s", n, f, r.raw)
		}
	}
	// The tenant's own number, in any usual form, is stored in E.164.
	r := e.must(201, "POST", base, atok, addr("09 200 11 22"))
	site := r.str("id")
	if r.str("emergency_number") != "+3292001122" {
		t.Fatalf("created: %s", r.raw)
	}
	if r = e.must(200, "GET", base+"/"+site, atok, nil); r.str("emergency_number") != "+3292001122" {
		t.Fatalf("read: %s", r.raw)
	}
	r = e.call("PATCH", base+"/"+site, atok, map[string]any{"emergency_number": "+3250999999"})
	isProblem(t, r, 422)
	if !slices.Contains(r.fields(), "emergency_number") {
		t.Errorf("patch with another tenant's number: %s", r.raw)
	}
	if r = e.must(200, "PATCH", base+"/"+site, atok, map[string]any{"emergency_number": ""}); r.str("emergency_number") != "" {
		t.Fatalf("cleared: %s", r.raw)
	}
	if r = e.must(200, "GET", base+"/"+site, atok, nil); r.str("emergency_number") != "" {
		t.Fatalf("read after clearing: %s", r.raw)
	}

	// Trunks: empty by default, the known values kept, others refused.
	trunk := map[string]any{"name": "Carrier", "host": "sip.carrier.test", "transport": "udp", "inbound_sources": []string{}}
	r = e.must(201, "POST", "/api/v1/trunks", e.admin, trunk)
	id := r.str("id")
	if v, ok := r.obj["emergency_site_identity"]; !ok || v != "" {
		t.Fatalf("default: %s", r.raw)
	}
	for _, v := range []string{"pai", "phone_context", ""} {
		if r = e.must(200, "PATCH", "/api/v1/trunks/"+id, e.admin, map[string]any{"emergency_site_identity": v}); r.str("emergency_site_identity") != v {
			t.Fatalf("patched to %q: %s", v, r.raw)
		}
	}
	r = e.call("PATCH", "/api/v1/trunks/"+id, e.admin, map[string]any{"emergency_site_identity": "elin", "port": 70000})
	isProblem(t, r, 422)
	if f := r.fields(); !slices.Contains(f, "emergency_site_identity") || !slices.Contains(f, "port") {
		t.Errorf("bad patch: %s", r.raw)
	}
	trunk["name"], trunk["emergency_site_identity"] = "Other", "PAI"
	r = e.call("POST", "/api/v1/trunks", e.admin, trunk)
	isProblem(t, r, 422)
	if !slices.Contains(r.fields(), "emergency_site_identity") {
		t.Errorf("bad create: %s", r.raw)
	}
	trunk["emergency_site_identity"] = "phone_context"
	if r = e.must(201, "POST", "/api/v1/trunks", e.admin, trunk); r.str("emergency_site_identity") != "phone_context" {
		t.Fatalf("created with phone_context: %s", r.raw)
	}
}
