package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// decode reads the request body into v: JSON only, at most maxBodyBytes, no
// unknown fields, exactly one value. Every failure is a problem naming what
// is wrong (and the field, when there is one).
func (c *call) decode(v any) error {
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return httpProblem(http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not JSON; send application/json", ct))
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return malformed("", "cannot read request body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		p := decodeProblem(err, v)
		if p.Status == http.StatusBadRequest && json.Valid(raw) {
			// The decoder stops at the first wrong type or unknown
			// field: name every one of them at once.
			if all := fieldProblems(raw, reflect.TypeOf(v)); len(all) > 0 {
				p.Errors, p.Field = all, ""
				if len(all) == 1 {
					p.Field = all[0].Field
				}
				p.Detail = "fields of the wrong type or unknown: " + joinFields(all)
			}
		}
		return p
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return malformed("", "request body has data after its JSON value")
	}
	return nil
}

func tooLarge() *problem {
	return httpProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes))
}

func decodeProblem(err error, v any) *problem {
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.Is(err, io.EOF):
		return malformed("", "request body is empty; send a JSON "+jsonKind(reflect.TypeOf(v)))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("", "request body ends in the middle of its JSON value")
	case errors.As(err, &syntax):
		return malformed("", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return malformed("", fmt.Sprintf("request body must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value))
		}
		return malformed(typeErr.Field, fmt.Sprintf("must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if uq, err := strconv.Unquote(name); err == nil {
			name = uq
		}
		return malformed(name, fmt.Sprintf("unknown field %q", name))
	}
	return malformed("", "cannot read request body: "+err.Error())
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "value"
}

// reply answers with status and v as JSON.
func (c *call) reply(status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	c.w.WriteHeader(status)
	c.w.Write(append(body, '\n')) // once the status is sent, a failed write has no one to tell
	return nil
}

// created answers 201 with a Location header.
func (c *call) created(location string, v any) error {
	c.w.Header().Set("Location", location)
	return c.reply(http.StatusCreated, v)
}

func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// fieldProblems decodes each member of the JSON object raw on its own into
// the field of t it names, and returns every member that is unknown or of
// the wrong type (with the path of the nested value at fault).
func fieldProblems(raw []byte, t reflect.Type) []fieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var members map[string]json.RawMessage
	if t.Kind() != reflect.Struct || json.Unmarshal(raw, &members) != nil {
		return nil
	}
	fields := jsonFields(t)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []fieldError
	for _, name := range names {
		ft, ok := fields[name]
		if !ok {
			// encoding/json matches names regardless of case.
			for k, v := range fields {
				if strings.EqualFold(k, name) {
					ft, ok = v, true
				}
			}
		}
		if !ok {
			out = append(out, fieldError{Field: name, Detail: fmt.Sprintf("unknown field %q", name)})
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(members[name]))
		dec.DisallowUnknownFields()
		err := dec.Decode(reflect.New(ft).Interface())
		var typeErr *json.UnmarshalTypeError
		switch {
		case err == nil:
		case errors.As(err, &typeErr):
			field := name
			if typeErr.Field != "" {
				field = name + "." + typeErr.Field
			}
			out = append(out, fieldError{Field: field, Detail: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value)})
		default:
			// An unknown field deeper down is named as the decoder names
			// it (its own name).
			p := decodeProblem(err, reflect.New(ft).Interface())
			field := name
			if p.Field != "" {
				field = p.Field
			}
			out = append(out, fieldError{Field: field, Detail: p.Detail})
		}
	}
	return out
}

// jsonFields maps the JSON names of t's fields (embedded structs' too) to
// their types, as encoding/json names them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func joinFields(fe []fieldError) string {
	names := make([]string, len(fe))
	for i, e := range fe {
		names[i] = e.Field
	}
	return strings.Join(names, ", ")
}
