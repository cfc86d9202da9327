package api_test

import (
	"slices"
	"strings"
	"testing"
)

func TestOutboundRoutes(t *testing.T) {
	e := newEnv(t)
	_, tok := e.tenant("Acme")
	one := e.must(201, "POST", "/api/v1/trunks", e.admin, map[string]any{"name": "one", "host": "one.test", "transport": "udp"}).str("id")
	two := e.must(201, "POST", "/api/v1/trunks", e.admin, map[string]any{"name": "two", "host": "two.test", "transport": "udp",
		"forward_identity": "pai", "response_timeout_ms": 1500})
	if two.str("forward_identity") != "pai" || two.obj["response_timeout_ms"] != float64(1500) {
		t.Fatalf("trunk: %s", two.raw)
	}
	twoID := two.str("id")

	isProblem(t, e.call("POST", "/api/v1/routes", tok, map[string]any{"prefix": "", "trunks": []string{one}}), 403)
	def := e.must(201, "POST", "/api/v1/routes", e.admin, map[string]any{"prefix": "", "trunks": []string{one, twoID}})
	if def.str("prefix") != "" || !slices.Equal(toStrings(def.obj["trunks"]), []string{one, twoID}) || def.header.Get("Location") != "/api/v1/routes/"+def.str("id") {
		t.Fatalf("default route: %s", def.raw)
	}
	be := e.must(201, "POST", "/api/v1/routes", e.admin, map[string]any{"prefix": "+32", "trunks": []string{twoID}, "priority": 3})
	if r := e.must(200, "GET", "/api/v1/routes", e.admin, nil); len(r.arr) != 2 || r.arr[0].(map[string]any)["id"] != be.str("id") {
		t.Fatalf("list, longest prefix first: %s", r.raw)
	}
	r := e.must(200, "PATCH", "/api/v1/routes/"+be.str("id"), e.admin, map[string]any{"trunks": []string{one}, "prefix": "+3290"})
	if r.str("prefix") != "+3290" || r.obj["priority"] != float64(3) || !slices.Equal(toStrings(r.obj["trunks"]), []string{one}) {
		t.Fatalf("patched: %s", r.raw)
	}

	// Malformed prefixes, unknown trunks, an empty trunk list: 422 naming
	// every field at once.
	for _, tc := range []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{"prefix": "32", "trunks": []string{one}}, []string{"prefix"}},
		{map[string]any{"prefix": "+32a", "trunks": []string{"trk_nope"}}, []string{"prefix", "trunks[0]"}},
		{map[string]any{"prefix": "+32", "trunks": []string{}}, []string{"trunks"}},
		{map[string]any{"prefix": "+32"}, []string{"trunks"}},
		{map[string]any{"trunks": []string{one, one}, "priority": -1}, []string{"prefix", "priority", "trunks[1]"}},
	} {
		r := e.call("POST", "/api/v1/routes", e.admin, tc.body)
		isProblem(t, r, 422)
		if !slices.Equal(r.fields(), tc.fields) {
			t.Errorf("%v: fields %v, want %v", tc.body, r.fields(), tc.fields)
		}
	}
	r = e.call("PATCH", "/api/v1/routes/"+be.str("id"), e.admin, map[string]any{"trunks": []string{}})
	if isProblem(t, r, 422); !slices.Equal(r.fields(), []string{"trunks"}) {
		t.Errorf("patch with no trunk: %s", r.raw)
	}
	isProblem(t, e.call("GET", "/api/v1/routes/rte_nope", e.admin, nil), 404)
	e.must(204, "DELETE", "/api/v1/routes/"+be.str("id"), e.admin, nil)
	isProblem(t, e.call("DELETE", "/api/v1/routes/"+be.str("id"), e.admin, nil), 404)

	isProblem(t, e.call("POST", "/api/v1/trunks", e.admin, map[string]any{"name": "three", "host": "three.test", "transport": "udp",
		"forward_identity": "from", "response_timeout_ms": 5}), 422)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestCallingRulesAndBarring(t *testing.T) {
	e := newEnv(t)
	a, atok := e.tenant("Acme")
	b, btok := e.tenant("Bravo")
	alice := e.fullUser(a, atok, "201")
	num := func(tenant, token, n string) string {
		return e.must(201, "POST", "/api/v1/tenants/"+tenant+"/numbers", token, map[string]any{"number": n,
			"destination": map[string]any{"type": "external", "number": "+3221112233"}}).str("id")
	}
	mine, theirs := num(a, atok, "02 123 45 00"), num(b, btok, "02 123 45 99")
	calling := "/api/v1/tenants/" + a + "/calling"
	r := e.must(200, "GET", calling, atok, nil)
	if r.obj["bar_premium"] != true || r.obj["bar_international"] != false || r.str("main_number_id") != "" {
		t.Fatalf("defaults: %s", r.raw)
	}
	r = e.must(200, "PATCH", calling, atok, map[string]any{"main_number_id": mine, "bar_international": true})
	if r.str("main_number_id") != mine || r.str("main_number") != "+3221234500" || r.obj["bar_international"] != true {
		t.Fatalf("set: %s", r.raw)
	}
	// Never a number the tenant does not own.
	r = e.call("PATCH", calling, atok, map[string]any{"main_number_id": theirs})
	if isProblem(t, r, 422); !slices.Equal(r.fields(), []string{"main_number_id"}) {
		t.Fatalf("another tenant's number: %s", r.raw)
	}
	r = e.call("PATCH", "/api/v1/tenants/"+a+"/users/"+alice, atok, map[string]any{"caller_id_number_id": theirs})
	if isProblem(t, r, 422); !slices.Equal(r.fields(), []string{"caller_id_number_id"}) {
		t.Fatalf("user caller id of another tenant: %s", r.raw)
	}
	free := num(a, atok, "0800 12 345")
	r = e.call("PATCH", calling, atok, map[string]any{"main_number_id": free})
	if isProblem(t, r, 422); !slices.Equal(r.fields(), []string{"main_number_id"}) {
		t.Fatalf("a freephone main number: %s", r.raw)
	}
	// Lifting a barring is the admin's act, and is logged.
	isProblem(t, e.call("PATCH", calling, atok, map[string]any{"bar_premium": false}), 403)
	isProblem(t, e.call("PATCH", calling, atok, map[string]any{"bar_international": false}), 403)
	r = e.must(200, "PATCH", calling, e.admin, map[string]any{"bar_premium": false, "bar_international": false})
	if r.obj["bar_premium"] != false || r.obj["bar_international"] != false {
		t.Fatalf("lifted: %s", r.raw)
	}
	logs := e.logs.String()
	for _, what := range []string{`"barring":"premium"`, `"barring":"international"`} {
		if !strings.Contains(logs, `"msg":"barring lifted"`) || !strings.Contains(logs, what) || !strings.Contains(logs, `"tenant_id":"`+a) || !strings.Contains(logs, `"token_scope":"admin"`) {
			t.Fatalf("lifting %s not logged:\n%s", what, logs)
		}
	}
	// Barring again is any administrator's.
	e.must(200, "PATCH", calling, atok, map[string]any{"bar_premium": true})

	// User settings.
	users := "/api/v1/tenants/" + a + "/users/" + alice
	r = e.must(200, "PATCH", users, atok, map[string]any{"clir": true, "reject_anonymous": true, "bar_international": true})
	if r.obj["clir"] != true || r.obj["reject_anonymous"] != true || r.obj["bar_international"] != true {
		t.Fatalf("user settings: %s", r.raw)
	}
	e.must(200, "PATCH", users, atok, map[string]any{"bar_international": false})
	if !strings.Contains(e.logs.String(), `"user_id":"`+alice) {
		t.Fatalf("user's barring lift not logged:\n%s", e.logs.String())
	}
}
