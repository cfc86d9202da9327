package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// requireShape fails unless r is a 4xx problem whose errors array names a
// field (possibly empty, for the request as a whole) and a detail in each
// entry.
func requireShape(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Fatalf("%s: status %d, want a 4xx\n%s", what, r.status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: content type %q\n%s", what, ct, r.raw)
	}
	errs, _ := r.obj["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("%s: problem without errors[]: %s", what, r.raw)
	}
	for _, e := range errs {
		m, _ := e.(map[string]any)
		_, hasField := m["field"].(string)
		if d, _ := m["detail"].(string); !hasField || d == "" {
			t.Fatalf("%s: error entry %v lacks field or detail: %s", what, e, r.raw)
		}
	}
}

// requestSchemas reads, per operation, the properties of its JSON request
// body and their types from the OpenAPI document.
func (e *env) requestSchemas() map[string]map[string]string {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/openapi.json", "", nil)
	type schema struct {
		Ref        string                     `json:"$ref"`
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			RequestBody struct {
				Content map[string]struct {
					Schema schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, methods := range doc.Paths {
		for _, op := range methods {
			js, ok := op.RequestBody.Content["application/json"]
			if !ok {
				continue
			}
			s := js.Schema
			if s.Ref != "" {
				s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
			}
			props := map[string]string{}
			for name, raw := range s.Properties {
				var p schema
				json.Unmarshal(raw, &p)
				typ, _ := p.Type.(string)
				if p.Ref != "" {
					typ = "object"
				}
				props[name] = typ
			}
			out[op.OperationID] = props
		}
	}
	return out
}

// wrongValue is a JSON value of another type than typ.
func wrongValue(typ string) any {
	if typ == "string" {
		return 12345
	}
	return "not-a-" + typ
}

// TestProblemShapeOnEveryRoute walks the documented operations: a body
// whose every field has the wrong type (and one unknown field) is a 400
// naming each of them at once; a body that is not an object, an unknown
// path id and a missing token are problems of the same shape.
func TestProblemShapeOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	f := e.fixture("Alpha", "201")
	schemas := e.requestSchemas()
	walked := 0
	for _, op := range e.operations() {
		path := fill(op.path, f, f.tenant)
		token := f.token
		if op.admin || !strings.Contains(op.path, "{tenant}") {
			token = e.admin
		}
		// Ids the fixture has none of (a trunk's, a route's) name nothing:
		// such an operation answers 404 before it reads its body.
		unknownID := pathParams.MatchString(path)
		path = pathParams.ReplaceAllString(path, "x_nope")
		what := op.method + " " + op.path
		if props, ok := schemas[op.id]; ok && op.body {
			walked++
			if len(props) > 0 {
				body := map[string]any{"no_such_field": true}
				var want []string
				for name, typ := range props {
					body[name] = wrongValue(typ)
					want = append(want, name)
				}
				want = append(want, "no_such_field")
				r := e.call(op.method, path, token, body)
				switch {
				case r.status == 503:
					// A service the test server has not configured (SMS)
					// refuses before it reads anything.
					isProblem(t, r, 503)
				case r.status != 400 && !unknownID:
					requireShape(t, what+" with wrong types", r)
					t.Errorf("%s with wrong types: status %d, want 400\n%s", what, r.status, r.raw)
				case r.status != 400:
					requireShape(t, what+" with wrong types", r)
				default:
					requireShape(t, what+" with wrong types", r)
					got := r.fields()
					for _, w := range want {
						if !slices.Contains(got, w) {
							t.Errorf("%s with wrong types: %q not named; errors name %v", what, w, got)
						}
					}
				}
			}
			if r := e.call(op.method, path, token, "42"); r.status != 503 {
				requireShape(t, what+" with a body that is no object", r)
			}
		}
		// An id that does not exist, and no token at all.
		if strings.Count(op.path, "{") > 1 || unknownID {
			bad := strings.NewReplacer(f.user, "usr_nope", f.device, "dev_nope", f.site, "sit_nope", f.number, "num_nope",
				f.group, "hg_nope", f.flow, "cf_nope", f.audio, "aud_nope", f.message, "msg_nope", f.music, "mus_nope").Replace(path)
			if bad != path {
				requireShape(t, what+" with an unknown id", e.call(op.method, bad, token, nil))
			}
		}
		if op.path != "/api/v1/openapi.json" {
			requireShape(t, what+" without a token", e.call(op.method, path, "", nil))
		}
	}
	if walked < 15 {
		t.Fatalf("only %d operations with a JSON body walked", walked)
	}
}

// TestDeviceLimitAndForwardProblems: the device limit names the licence;
// a forward to an extension nobody has is refused, to a colleague's
// extension or to a phone number accepted.
func TestDeviceLimitAndForwardProblems(t *testing.T) {
	e := newEnv(t)
	tenant, token := e.tenant("Acme")
	light := e.lightUser(tenant, token)
	e.device(tenant, token, light, map[string]any{"kind": "softphone"})
	r := e.call("POST", "/api/v1/tenants/"+tenant+"/users/"+light+"/devices", token, map[string]any{"kind": "softphone"})
	requireShape(t, "device limit", r)
	if r.status != 409 || !slices.Equal(r.fields(), []string{"licence"}) {
		t.Errorf("device limit: %d %s", r.status, r.raw)
	}
	user := e.fullUser(tenant, token, "201")
	e.fullUser(tenant, token, "202")
	path := "/api/v1/tenants/" + tenant + "/users/" + user
	r = e.call("PATCH", path, token, map[string]any{"forward_always": "999", "forward_busy": "998", "no_answer_seconds": 2})
	requireShape(t, "forward to nobody", r)
	if got := r.fields(); r.status != 422 || !slices.Equal(got, []string{"forward_always", "forward_busy", "no_answer_seconds"}) {
		t.Errorf("forwards to nobody: %d %s", r.status, r.raw)
	}
	e.must(200, "PATCH", path, token, map[string]any{"forward_always": "202", "forward_busy": "+32470123456"})
}
