package api_test

import (
	"context"
	"slices"
	"testing"
)

func TestNumbers(t *testing.T) {
	e := newEnv(t)
	a, atok := e.tenant("Alpha")
	b, btok := e.tenant("Bravo")
	alice := e.fullUser(a, atok, "201")
	lobby := e.lightUser(a, atok)
	bob := e.fullUser(b, btok, "201")
	base := "/api/v1/tenants/" + a + "/numbers"

	// Every usual form is stored in E.164.
	for in, want := range map[string]string{
		"+3221234567": "+3221234567", "003221234568": "+3221234568", "02/123.45.69": "+3221234569", "3221234570": "+3221234570",
		"0471 12 34 56": "+32471123456", "0800 12 345": "+3280012345", "070 12 34 56": "+3270123456", "078 15 15 15": "+3278151515",
		"+33 1 23 45 67 89": "+33123456789",
	} {
		r := e.must(201, "POST", base, atok, map[string]any{"number": in, "destination": map[string]any{"type": "user", "id": alice}})
		if r.str("number") != want {
			t.Errorf("%q stored as %s", in, r.raw)
		}
	}
	// Premium, short and garbage numbers are refused, naming the field.
	for _, in := range []string{"0903 12 345", "112", "1207", "hello", "02 123", ""} {
		r := e.call("POST", base, atok, map[string]any{"number": in, "destination": map[string]any{"type": "user", "id": alice}})
		isProblem(t, r, 422)
		if !slices.Equal(r.fields(), []string{"number"}) {
			t.Errorf("%q: fields %v", in, r.fields())
		}
	}
	// One tenant at a time, whatever the form.
	isProblem(t, e.call("POST", base, atok, map[string]any{"number": "021234567", "destination": map[string]any{"type": "user", "id": alice}}), 409)
	isProblem(t, e.call("POST", "/api/v1/tenants/"+b+"/numbers", btok, map[string]any{"number": "0032 2 123 45 67", "destination": map[string]any{"type": "user", "id": bob}}), 409)

	// Destinations: of this tenant, never a light licence, every field at once.
	for _, tc := range []struct {
		dest   map[string]any
		fields []string
	}{
		{map[string]any{"type": "user", "id": lobby}, []string{"destination.id"}},
		{map[string]any{"type": "voicemail", "id": lobby}, []string{"destination.id"}},
		{map[string]any{"type": "user", "id": bob}, []string{"destination.id"}},
		{map[string]any{"type": "hunt_group", "id": "hg_nope"}, []string{"destination.id"}},
		{map[string]any{"type": "call_flow", "id": "cf_nope"}, []string{"destination.id"}},
		{map[string]any{"type": "user"}, []string{"destination.id"}},
		{map[string]any{"type": "external", "id": alice, "number": "0903 12 345"}, []string{"destination.id", "destination.number"}},
		{map[string]any{"type": "external"}, []string{"destination.number"}},
		{map[string]any{"type": "fax", "id": alice}, []string{"destination.type"}},
		{map[string]any{"type": "user", "id": alice, "number": "021234567"}, []string{"destination.number"}},
	} {
		r := e.call("POST", base, atok, map[string]any{"number": "+3250123456", "destination": tc.dest})
		isProblem(t, r, 422)
		if !slices.Equal(r.fields(), tc.fields) {
			t.Errorf("%v: fields %v, want %v\n%s", tc.dest, r.fields(), tc.fields, r.raw)
		}
	}
	r := e.call("POST", base, atok, map[string]any{"number": "0903 12 345", "destination": map[string]any{"type": "user", "id": lobby}})
	if !slices.Equal(r.fields(), []string{"number", "destination.id"}) {
		t.Errorf("not every field at once: %s", r.raw)
	}

	r = e.must(201, "POST", base, atok, map[string]any{"number": "050 12 34 56", "destination": map[string]any{"type": "external", "number": "0032 9 123 45 67"}})
	id := r.str("id")
	if d := r.obj["destination"].(map[string]any); d["number"] != "+3291234567" || r.str("class") != "geographic" {
		t.Fatalf("external destination: %s", r.raw)
	}
	n, err := e.st.NumberByE164(context.Background(), "+3250123456")
	if err != nil || n.ID != id || n.TenantID != a {
		t.Fatalf("NumberByE164: %+v, %v", n, err)
	}
	r = e.must(200, "PATCH", base+"/"+id, atok, map[string]any{"destination": map[string]any{"type": "voicemail", "id": alice}})
	if d := r.obj["destination"].(map[string]any); d["type"] != "voicemail" || d["id"] != alice {
		t.Fatalf("patched: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", base+"/"+id, atok, map[string]any{"destination": map[string]any{"type": "user", "id": lobby}}), 422)
	isProblem(t, e.call("PATCH", base+"/"+id, atok, map[string]any{}), 422)
	if r := e.must(200, "GET", base+"/"+id, atok, nil); r.obj["destination"].(map[string]any)["type"] != "voicemail" {
		t.Fatalf("a refused PATCH changed the number: %s", r.raw)
	}
	if r := e.must(200, "GET", base, atok, nil); len(r.arr) != 10 {
		t.Fatalf("list: %d numbers", len(r.arr))
	}

	// Caller id: one of the tenant's numbers.
	users := "/api/v1/tenants/" + a + "/users/"
	r = e.must(200, "PATCH", users+alice, atok, map[string]any{"caller_id_number_id": id})
	if r.str("caller_id_number_id") != id {
		t.Fatalf("caller id: %s", r.raw)
	}
	if r := e.must(200, "GET", users+alice, atok, nil); r.str("caller_id_number_id") != id {
		t.Fatalf("caller id not kept: %s", r.raw)
	}
	cid, err := e.st.UserCallerID(context.Background(), a, alice)
	if err != nil || cid.E164 != "+3250123456" {
		t.Fatalf("UserCallerID: %+v, %v", cid, err)
	}
	bn := e.must(201, "POST", "/api/v1/tenants/"+b+"/numbers", btok, map[string]any{"number": "+3250999999", "destination": map[string]any{"type": "user", "id": bob}}).str("id")
	r = e.call("PATCH", users+alice, atok, map[string]any{"caller_id_number_id": bn, "first_name": ""})
	isProblem(t, r, 422)
	if !slices.Equal(r.fields(), []string{"first_name", "caller_id_number_id"}) {
		t.Fatalf("fields %v", r.fields())
	}
	// Releasing the number returns the user to the default.
	e.must(204, "DELETE", base+"/"+id, atok, nil)
	if r := e.must(200, "GET", users+alice, atok, nil); r.str("caller_id_number_id") != "" {
		t.Fatalf("released number still the caller id: %s", r.raw)
	}
	isProblem(t, e.call("GET", base+"/"+id, atok, nil), 404)
	// B cannot see or touch A's numbers.
	isProblem(t, e.call("GET", "/api/v1/tenants/"+b+"/numbers/"+e.must(200, "GET", base, atok, nil).arr[0].(map[string]any)["id"].(string), btok, nil), 404)
}
