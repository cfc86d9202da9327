package api_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadInput: every malformed or invalid request answers problem+json
// naming the offending field, and writes nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten
	full := e.fullUser(ten, tok, "201")
	e.fullUser(ten, tok, "202")
	users := base + "/users"
	devices := users + "/" + full + "/devices"
	suspend := users + "/" + full + "/suspend"
	day := func(months, days int) string { return e.now.AddDate(0, months, days).Format(time.DateOnly) }

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		field  string // "" when the problem is about the body as a whole
		detail string // a substring of the problem's detail or of the field's
	}{
		{"bad JSON", "POST", users, `{"first_name": "A",`, 400, "", "ends in the middle"},
		{"not JSON at all", "POST", users, `first_name=A`, 400, "", "malformed JSON"},
		{"empty body", "POST", users, ``, 400, "", "empty"},
		{"two values", "POST", "/api/v1/tenants", `{"name":"a"}{"name":"b"}`, 400, "", "after its JSON value"},
		{"array for object", "POST", users, `[]`, 400, "", "must be a JSON object"},
		{"unknown field", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"301","admin":true}`, 400, "admin", "unknown field"},
		{"wrong type", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":301}`, 400, "extension", "must be a JSON string"},
		{"missing licence", "POST", users, `{"first_name":"A","last_name":"B","extension":"301"}`, 422, "licence", "is required"},
		{"unknown licence", "POST", users, `{"first_name":"A","last_name":"B","licence":"gold"}`, 422, "licence", "one of full, light"},
		{"extension on light", "POST", users, `{"first_name":"A","last_name":"B","licence":"light","extension":"301"}`, 422, "extension", "light licence has no extension"},
		{"full without extension", "POST", users, `{"first_name":"A","last_name":"B","licence":"full"}`, 422, "extension", "required for a full licence"},
		{"extension too short", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"1"}`, 422, "extension", "2 to 6 digits"},
		{"extension too long", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"1234567"}`, 422, "extension", "2 to 6 digits"},
		{"extension not digits", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"12a"}`, 422, "extension", "2 to 6 digits"},
		{"missing name", "POST", users, `{"last_name":"B","licence":"full","extension":"301"}`, 422, "first_name", "is required"},
		{"bad email", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"301","email":"A <a@b.c>"}`, 422, "email", "plain e-mail"},
		{"bad language", "POST", users, `{"first_name":"A","last_name":"B","licence":"full","extension":"301","language":"klingon"}`, 422, "language", "one of"},
		{"unknown digest algorithm", "PATCH", base, `{"sip_digest_algorithms":["SHA-1"]}`, 422, "sip_digest_algorithms[0]", "one of SHA-256, MD5"},
		{"digest algorithm twice", "PATCH", base, `{"sip_digest_algorithms":["MD5","MD5"]}`, 422, "sip_digest_algorithms[1]", "listed twice"},
		{"digest algorithms not a list", "PATCH", base, `{"sip_digest_algorithms":"MD5"}`, 400, "sip_digest_algorithms", ""},
		{"empty tenant name", "PATCH", base, `{"name":""}`, 422, "name", "is required"},
		{"missing kind", "POST", devices, `{}`, 422, "kind", "is required"},
		{"unknown kind", "POST", devices, `{"kind":"cisco"}`, 422, "kind", "one of"},
		{"bad MAC", "POST", devices, `{"kind":"yealink","mac":"80:5e:c0:a1:b2"}`, 422, "mac", "12 hex digits"},
		{"bad MAC digits", "POST", devices, `{"kind":"yealink","mac":"80:5e:c0:a1:b2:zz"}`, 422, "mac", "12 hex digits"},
		{"mixed MAC separators", "POST", devices, `{"kind":"yealink","mac":"80:5e-c0:a1:b2:c3"}`, 422, "mac", "separators"},
		{"multicast MAC", "POST", devices, `{"kind":"yealink","mac":"ff:ff:ff:ff:ff:ff"}`, 422, "mac", "multicast"},
		{"short MAC-ID", "POST", devices, `{"kind":"gigaset","mac":"7c2f80a1b2c3","mac_id":"ABCD-EFGH"}`, 422, "mac_id", "12 letters and digits"},
		{"MAC-ID with symbols", "POST", devices, `{"kind":"gigaset","mac":"7c2f80a1b2c3","mac_id":"ABCD_EFGH_IJKL"}`, 422, "mac_id", "letters, digits and dashes"},
		{"MAC-ID on a Yealink", "POST", devices, `{"kind":"yealink","mac":"805ec0a1b2c3","mac_id":"ABCD-EFGH-IJKL"}`, 422, "mac_id", "only a Gigaset base"},
		{"MAC-ID without a MAC", "POST", devices, `{"kind":"gigaset","mac_id":"ABCD-EFGH-IJKL"}`, 422, "mac_id", "only a Gigaset base"},
		{"missing until", "POST", suspend, `{}`, 422, "until", "is required"},
		{"bad until date", "POST", suspend, `{"until":"31/12/2030"}`, 422, "until", "YYYY-MM-DD"},
		{"impossible until date", "POST", suspend, `{"until":"2030-02-30"}`, 422, "until", "YYYY-MM-DD"},
		{"until today", "POST", suspend, `{"until":"` + day(0, 0) + `"}`, 422, "until", "in the future"},
		{"until in the past", "POST", suspend, `{"until":"` + day(0, -3) + `"}`, 422, "until", "in the future"},
		{"suspend more than 3 months", "POST", suspend, `{"until":"` + day(3, 1) + `"}`, 422, "until", "at most 3 months"},
		{"suspend a year", "POST", suspend, `{"until":"` + day(12, 0) + `"}`, 422, "until", "at most 3 months"},
		{"tenant without name", "POST", "/api/v1/tenants", `{"name":"  "}`, 422, "name", "is required"},
		{"too large", "POST", "/api/v1/tenants", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "", "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tok
			if tc.path == "/api/v1/tenants" {
				token = e.admin
			}
			r := e.callWith(tc.method, tc.path, strings.NewReader(tc.body), map[string]string{
				"Authorization": "Bearer " + token, "Content-Type": "application/json"})
			isProblem(t, r, tc.status)
			if tc.field != "" {
				if r.str("field") != tc.field || !slices.Contains(r.fields(), tc.field) {
					t.Fatalf("field %q not named: %s", tc.field, r.raw)
				}
			}
			if !strings.Contains(string(r.raw), tc.detail) {
				t.Fatalf("detail lacks %q: %s", tc.detail, r.raw)
			}
		})
	}
	// The last 3 months day itself is accepted.
	e.must(200, "POST", suspend, tok, map[string]any{"until": day(3, 0)})
	e.must(200, "POST", users+"/"+full+"/reactivate", tok, nil)

	// Nothing was written by any of the failed requests.
	if r := e.must(200, "GET", users, tok, nil); len(r.arr) != 2 {
		t.Fatalf("users after bad input: %s", r.raw)
	}
	if r := e.must(200, "GET", devices, tok, nil); len(r.arr) != 0 {
		t.Fatalf("devices after bad input: %s", r.raw)
	}
	if r := e.must(200, "GET", "/api/v1/tenants", e.admin, nil); len(r.arr) != 1 {
		t.Fatalf("tenants after bad input: %s", r.raw)
	}
	if r := e.must(200, "GET", users+"/"+full, tok, nil); r.str("status") != "active" {
		t.Fatalf("user after bad suspensions: %s", r.raw)
	}
}

func TestHTTPErrors(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	r := e.callWith("POST", "/api/v1/tenants/"+ten+"/users", bytes.NewReader([]byte("first_name=A")), map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": "application/x-www-form-urlencoded"})
	isProblem(t, r, 415)

	r = e.call("GET", "/api/v1/nothing-here", tok, nil)
	isProblem(t, r, 404)
	r = e.call("PUT", "/api/v1/tenants/"+ten, tok, map[string]any{})
	isProblem(t, r, 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "DELETE") {
		t.Fatalf("Allow %q", allow)
	}
	// Unknown resources of the caller's own tenant.
	for _, p := range []string{"/users/usr_x", "/sites/site_x", "/users/usr_x/devices", "/users/usr_x/blf", "/users/usr_x/registrations"} {
		isProblem(t, e.call("GET", "/api/v1/tenants/"+ten+p, tok, nil), 404)
	}
	// The OpenAPI document needs no token.
	r = e.must(200, "GET", "/api/v1/openapi.json", "", nil)
	if r.str("openapi") != "3.1.0" {
		t.Fatalf("openapi: %.200s", r.raw)
	}
}
