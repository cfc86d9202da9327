package api_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestTrunks(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	_ = ten
	body := map[string]any{"name": "Carrier", "host": "sip.carrier.test", "transport": "udp",
		"inbound_sources": []string{"127.0.0.2", "192.0.2.0/24", "198.51.100.7:5080"}, "username": "acct", "password": "trunk-pw-Secret", "register": true}

	// A tenant token may not touch trunks.
	isProblem(t, e.call("POST", "/api/v1/trunks", tok, body), 403)
	isProblem(t, e.call("GET", "/api/v1/trunks", tok, nil), 403)

	r := e.must(201, "POST", "/api/v1/trunks", e.admin, body)
	id := r.str("id")
	if r.obj["port"] != float64(5060) || r.obj["password_set"] != true || strings.Contains(string(r.raw), "trunk-pw-Secret") {
		t.Fatalf("created: %s", r.raw)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/trunks/"+id {
		t.Fatalf("Location %q", loc)
	}
	for _, p := range []string{"/api/v1/trunks", "/api/v1/trunks/" + id} {
		r := e.must(200, "GET", p, e.admin, nil)
		if strings.Contains(string(r.raw), "trunk-pw-Secret") || !strings.Contains(string(r.raw), `"password_set":true`) {
			t.Fatalf("GET %s: %s", p, r.raw)
		}
	}
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		var b any
		if m == "PATCH" {
			b = map[string]any{"name": "x"}
		}
		isProblem(t, e.call(m, "/api/v1/trunks/"+id, tok, b), 403)
	}
	if strings.Contains(e.logs.String(), "trunk-pw-Secret") {
		t.Fatal("trunk password logged")
	}
	if pw, err := e.st.TrunkPassword(context.Background(), id); err != nil || pw != "trunk-pw-Secret" {
		t.Fatalf("stored password %q, %v", pw, err)
	}
	got, err := e.st.TrunkBySource(context.Background(), netip.MustParseAddrPort("192.0.2.200:5060"))
	if err != nil || got.ID != id {
		t.Fatalf("TrunkBySource: %+v, %v", got, err)
	}

	// Every bad field at once.
	r = e.call("POST", "/api/v1/trunks", e.admin, map[string]any{"name": "", "host": "bad host!", "port": 70000, "transport": "sctp",
		"inbound_sources": []string{"example.org", "10.0.0.1", "10.0.0.1"}, "register": true})
	isProblem(t, r, 422)
	want := []string{"name", "host", "transport", "port", "inbound_sources[0]", "inbound_sources[2]", "register"}
	for _, f := range want {
		if !slices.Contains(r.fields(), f) {
			t.Errorf("no error for %s: %s", f, r.raw)
		}
	}
	// A source already claimed, a name already used: 409.
	isProblem(t, e.call("POST", "/api/v1/trunks", e.admin, map[string]any{"name": "Other", "host": "10.9.9.9", "transport": "tls", "inbound_sources": []string{"192.0.2.0/24"}}), 409)
	isProblem(t, e.call("POST", "/api/v1/trunks", e.admin, map[string]any{"name": "Carrier", "host": "10.9.9.9", "transport": "tls", "inbound_sources": []string{}}), 409)
	r = e.must(201, "POST", "/api/v1/trunks", e.admin, map[string]any{"name": "Other", "host": "10.9.9.9", "transport": "tls", "inbound_sources": []string{"10.9.9.0/24"}})
	if r.obj["port"] != float64(5061) {
		t.Fatalf("tls default port: %s", r.raw)
	}

	// PATCH: the password stays unless sent; empty removes it (and then
	// register is refused).
	r = e.must(200, "PATCH", "/api/v1/trunks/"+id, e.admin, map[string]any{"host": "10.0.0.5", "inbound_sources": []string{"10.0.0.5"}})
	if r.str("host") != "10.0.0.5" || r.obj["password_set"] != true {
		t.Fatalf("patched: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", "/api/v1/trunks/"+id, e.admin, map[string]any{"password": ""}), 422)
	r = e.must(200, "PATCH", "/api/v1/trunks/"+id, e.admin, map[string]any{"password": "", "register": false})
	if r.obj["password_set"] != false {
		t.Fatalf("password not removed: %s", r.raw)
	}
	if _, err := e.st.TrunkBySource(context.Background(), netip.MustParseAddrPort("192.0.2.200:5060")); err == nil {
		t.Fatal("old source still matches")
	}
	e.must(204, "DELETE", "/api/v1/trunks/"+id, e.admin, nil)
	isProblem(t, e.call("GET", "/api/v1/trunks/"+id, e.admin, nil), 404)
	isProblem(t, e.call("DELETE", "/api/v1/trunks/"+id, e.admin, nil), 404)
}
