package api

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// nopStore satisfies Store without a database: the sync test only routes
// requests, it never runs a handler.
type nopStore struct{ Store }

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// TestOpenAPIInSync fails on any difference, in either direction, between
// the routes the mux serves and the operations the document describes.
func TestOpenAPIInSync(t *testing.T) {
	s := newServer(Options{Store: nopStore{}})
	var doc map[string]any
	if err := json.Unmarshal(s.openapi, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)

	documented := map[string]bool{}
	opIDs := map[string]bool{}
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			pattern := strings.ToUpper(method) + " " + path
			documented[pattern] = true
			o := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" || opIDs[id] {
				t.Errorf("%s: missing or duplicate operationId %q", pattern, id)
			}
			opIDs[id] = true
			checkParameters(t, pattern, path, o)
			if rs, _ := o["responses"].(map[string]any); len(rs) < 2 {
				t.Errorf("%s: responses %v", pattern, rs)
			}
		}
	}

	// Document -> mux: every documented operation reaches exactly its route.
	for pattern := range documented {
		method, path, _ := strings.Cut(pattern, " ")
		req := httptest.NewRequest(method, pathParamRE.ReplaceAllString(path, "x1"), nil)
		if _, got := s.mux.Handler(req); got != pattern {
			t.Errorf("documented %s is served by %q", pattern, got)
		}
	}
	// Mux -> document: every registered pattern is documented...
	for _, p := range s.patterns {
		if !documented[p] {
			t.Errorf("route %s is not in the OpenAPI document", p)
		}
	}
	if len(s.patterns) != len(documented) {
		t.Errorf("%d routes registered, %d operations documented", len(s.patterns), len(documented))
	}
	// ...and no documented path answers a method the document does not list
	// (GET routes also serve HEAD, as net/http does).
	for path := range paths {
		for _, m := range methods {
			req := httptest.NewRequest(m, pathParamRE.ReplaceAllString(path, "x1"), nil)
			_, got := s.mux.Handler(req)
			want := m + " " + path
			if m == "HEAD" {
				want = "GET " + path
			}
			if got != "" && !documented[want] {
				t.Errorf("%s %s is served by %q but not documented", m, path, got)
			}
		}
	}

	// Every $ref resolves.
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	walk(doc, func(ref string) {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || schemas[name] == nil {
			t.Errorf("dangling $ref %q", ref)
		}
	})
	for _, name := range []string{"Problem", "FieldError", "Tenant", "User", "Device", "DeviceCredentials", "Registration", "CreateUserRequest",
		"Trunk", "Number", "Destination", "HuntGroup", "Graph", "Node", "CallFlow", "DryRun", "Audio"} {
		if schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	// Request schemas reject unknown fields, as the decoder does.
	cur := schemas["CreateUserRequest"].(map[string]any)
	if cur["additionalProperties"] != false || !slices.Contains(toStrings(cur["required"]), "licence") {
		t.Errorf("CreateUserRequest: %v", cur)
	}
	// The served document is the one built here.
	rec := httptest.NewRecorder()
	New(Options{Store: nopStore{}}).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 || rec.Body.String() != string(s.openapi) {
		t.Errorf("served document differs (status %d)", rec.Code)
	}
}

func checkParameters(t *testing.T, pattern, path string, op map[string]any) {
	t.Helper()
	var declared []string
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["in"] == "path" {
			declared = append(declared, p["name"].(string))
		}
	}
	var inPath []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		inPath = append(inPath, m[1])
	}
	if !slices.Equal(declared, inPath) {
		t.Errorf("%s: path parameters %v, declared %v", pattern, inPath, declared)
	}
}

func walk(v any, ref func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				ref(s)
			}
			walk(x, ref)
		}
	case []any:
		for _, x := range v {
			walk(x, ref)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
