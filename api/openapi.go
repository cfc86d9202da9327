package api

import (
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// openAPIDocument describes the routes as OpenAPI 3.1. Schemas are derived
// from the Go request and response types by reflection (json, enum, format and
// doc struct tags), so the document says what the handlers really read and write.
func openAPIDocument(rs []route) map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	problemRef := g.schema(reflect.TypeOf(problem{}), false)
	paths := map[string]map[string]any{}
	tags := map[string]bool{}
	for _, rt := range rs {
		tag := routeTag(rt.path)
		tags[tag] = true
		op := map[string]any{
			"operationId": rt.op,
			"summary":     rt.summary,
			"tags":        []string{tag},
		}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "required": false, "description": q.doc, "schema": map[string]any{"type": q.typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.in != nil {
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.in), true)}},
			}
		}
		if len(rt.rawIn) > 0 {
			content := map[string]any{}
			for _, mt := range rt.rawIn {
				if mt == "multipart/form-data" {
					content[mt] = map[string]any{"schema": map[string]any{"type": "object", "required": []string{"file"},
						"properties": map[string]any{"file": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}}}
					continue
				}
				content[mt] = map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": mt}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		success := map[string]any{"description": http.StatusText(rt.status)}
		if rt.out != nil {
			success["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.out), false)}}
		}
		if rt.rawOut != "" {
			success["content"] = map[string]any{rt.rawOut: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": rt.rawOut}}}
		}
		responses := map[string]any{strconv.Itoa(rt.status): success}
		for _, code := range errorStatuses(rt) {
			responses[strconv.Itoa(code)] = map[string]any{
				"description": http.StatusText(code),
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": problemRef}},
			}
		}
		op["responses"] = responses
		switch rt.access {
		case public:
			op["security"] = []any{}
		case adminOnly, tenantAdmin:
			op["description"] = "Needs an admin token."
			op["x-scope"] = "admin"
		case tenantScope:
			op["description"] = "An admin token, or a tenant token of this tenant; another tenant's resources answer 404."
			op["x-scope"] = "tenant"
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	tagList := []any{}
	for _, t := range slices.Sorted(maps.Keys(tags)) {
		tagList = append(tagList, map[string]any{"name": t})
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "PBX administration API",
			"version": "1.0.0",
			"description": "REST administration of the hosted PBX: tenants, sites, licences, devices, BLF keys, " +
				"registrations, call records, carrier trunks, numbers, hunt groups, call flows and audio. Errors are RFC 9457 application/problem+json documents; " +
				"fields named in `errors[].field` are the JSON names of the request.",
		},
		"security": []any{map[string]any{"bearer": []any{}}},
		"tags":     tagList,
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "API token; scope admin (everything) or tenant (one tenant)."},
			},
			"schemas": g.defs,
		},
	}
}

var pathParamRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// errorStatuses are the problem answers a route can give.
func errorStatuses(rt route) []int {
	set := map[int]bool{http.StatusInternalServerError: true}
	if rt.access != public {
		set[http.StatusUnauthorized] = true
	}
	if strings.Contains(rt.path, "{") {
		set[http.StatusNotFound] = true
	}
	if rt.in != nil || len(rt.rawIn) > 0 {
		for _, c := range []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity} {
			set[c] = true
		}
	}
	if len(rt.query) > 0 {
		set[http.StatusBadRequest] = true
	}
	for _, c := range rt.errs {
		set[c] = true
	}
	out := make([]int, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out
}

// routeTag groups operations by the resource they act on.
func routeTag(path string) string {
	for _, t := range []string{"openapi", "tokens", "devices", "blf", "registrations", "cdrs", "numbers", "hunt_groups", "call_flows", "audio", "users", "sites", "trunks"} {
		if strings.Contains(path, "/"+t) {
			if t == "openapi" {
				return "meta"
			}
			return t
		}
	}
	return "tenants"
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses).
// Named struct types become components; a field is required unless its json
// tag says omitempty. Request bodies reject unknown fields, and so do their
// schemas (additionalProperties: false).
type schemaGen struct {
	defs map[string]any
}

var timeType = reflect.TypeOf(time.Time{})

func (g *schemaGen) schema(t reflect.Type, request bool) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), request)}
	case t.Kind() == reflect.Map && t.Elem().Kind() != reflect.Interface:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), request)}
	case t.Kind() == reflect.Map || t.Kind() == reflect.Interface:
		return map[string]any{"type": "object"}
	case t.Kind() == reflect.Struct:
		name := schemaName(t)
		if _, done := g.defs[name]; !done {
			g.defs[name] = nil // placeholder: recursive types stop here
			g.defs[name] = g.object(t, request)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic("api: no JSON schema for " + t.String())
}

func (g *schemaGen) object(t reflect.Type, request bool) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, request, props, &required)
	obj := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		obj["required"] = required
	}
	if request {
		obj["additionalProperties"] = false
	}
	return obj
}

func (g *schemaGen) fields(t reflect.Type, request bool, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			g.fields(f.Type, request, props, required)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type, request)
		if e := f.Tag.Get("enum"); e != "" {
			var vals []any
			for _, v := range strings.Split(e, ",") {
				vals = append(vals, v)
			}
			if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
				items["enum"] = vals // a list of such values
			} else {
				s["enum"] = vals
			}
		}
		if v := f.Tag.Get("format"); v != "" {
			s["format"] = v
		}
		if v := f.Tag.Get("doc"); v != "" {
			s["description"] = v
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

// schemaName is the component name of a Go type: tenantJSON -> Tenant,
// createUserRequest -> CreateUserRequest.
func schemaName(t reflect.Type) string {
	n := strings.TrimSuffix(t.Name(), "JSON")
	if n == "" {
		return "Anonymous"
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
