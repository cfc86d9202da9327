package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
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
	body := http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err, v)
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
