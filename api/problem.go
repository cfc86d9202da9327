package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"pbx/store"
)

// Problem types (RFC 9457 §3.1.1: tag URIs name types that are not meant to
// be dereferenced). Plain HTTP failures use "about:blank".
const (
	typeBlank      = "about:blank"
	typeMalformed  = "tag:pbx,2025:malformed-request"
	typeValidation = "tag:pbx,2025:validation"
	typeConflict   = "tag:pbx,2025:conflict"
	typeLimit      = "tag:pbx,2025:device-limit"
	typeLastActive = "tag:pbx,2025:last-active-licence"
)

// problem is an RFC 9457 problem detail. It is also the error handlers
// return to answer with something other than 500.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the offending field when there is exactly one.
	Field string `json:"field,omitempty"`
	// Errors lists every offending field of the request.
	Errors []fieldError `json:"errors,omitempty"`
	// Limit and Licence describe a device-limit problem.
	Limit     int    `json:"limit,omitempty"`
	Licence   string `json:"licence,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// fieldError is one offending field. Field is the JSON name as sent, with
// "[i]." in front for an element of a top-level array, or a query parameter name.
type fieldError struct {
	Field string `json:"field"`
	// Node names the call-flow node the field belongs to, when it does
	// (Field is then "nodes.<node>.<field>").
	Node   string `json:"node,omitempty"`
	Detail string `json:"detail"`
}

func (p *problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

func httpProblem(status int, detail string) *problem {
	return &problem{Type: typeBlank, Title: http.StatusText(status), Status: status, Detail: detail}
}

func notFound(format string, args ...any) *problem {
	return httpProblem(http.StatusNotFound, fmt.Sprintf(format, args...))
}

// malformed is a 400: the request could not be read as the operation's input.
func malformed(field, detail string) *problem {
	p := &problem{Type: typeMalformed, Title: "Malformed request", Status: http.StatusBadRequest, Detail: detail}
	if field != "" {
		p.Field = field
		p.Errors = []fieldError{{Field: field, Detail: detail}}
	}
	return p
}

func conflictOn(field, detail string) *problem {
	p := &problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict, Detail: detail}
	if field != "" {
		p.Field = field
		p.Errors = []fieldError{{Field: field, Detail: detail}}
	}
	return p
}

func deviceLimit(licence string, limit int) *problem {
	noun := "devices"
	if limit == 1 {
		noun = "device"
	}
	return &problem{Type: typeLimit, Title: "Device limit reached", Status: http.StatusConflict, Field: "licence",
		Detail: fmt.Sprintf("a %s licence allows %d %s", licence, limit, noun), Limit: limit, Licence: licence}
}

func lastActive() *problem {
	return &problem{Type: typeLastActive, Title: "Last active licence", Status: http.StatusConflict,
		Detail: "a tenant must keep at least one active licence"}
}

// fieldErrors collects every invalid field of a request so the client can
// fix them all at once; err is a 422 naming them, or nil.
type fieldErrors []fieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, fieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	p := &problem{Type: typeValidation, Title: "Invalid request", Status: http.StatusUnprocessableEntity, Errors: fe}
	if len(fe) == 1 {
		p.Field = fe[0].Field
		p.Detail = fe[0].Field + ": " + fe[0].Detail
	} else {
		names := make([]string, len(fe))
		for i, e := range fe {
			names[i] = e.Field
		}
		p.Detail = "invalid fields: " + strings.Join(names, ", ")
	}
	return p
}

// invalid is a 422 about one field.
func invalid(field, format string, args ...any) error {
	var fe fieldErrors
	fe.add(field, format, args...)
	return fe.err()
}

// fail answers with the problem err describes. Store errors a handler did not
// translate get a generic status; anything else is a 500 whose cause is
// logged, not shown.
func (s *server) fail(c *call, err error) {
	var p *problem
	switch {
	case errors.As(err, &p):
	case errors.Is(err, store.ErrNotFound):
		p = notFound("not found")
	case errors.Is(err, store.ErrLimit):
		p = &problem{Type: typeLimit, Title: "Device limit reached", Status: http.StatusConflict, Field: "licence", Detail: err.Error()}
	case errors.Is(err, store.ErrLastActive):
		p = lastActive()
	case errors.Is(err, store.ErrConflict):
		p = conflictOn("", err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		p = httpProblem(499, "request cancelled")
		p.Title = "Client Closed Request"
	default:
		s.log.ErrorContext(c.ctx(), "api: internal error", "request_id", requestID(c.ctx()), "err", err)
		p = httpProblem(http.StatusInternalServerError, "internal error; see the server log for request "+requestID(c.ctx()))
	}
	writeProblem(c.w, c.r, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	q := *p
	q.Instance = r.URL.Path
	q.RequestID = requestID(r.Context())
	if q.Status >= 400 && q.Status < 500 && len(q.Errors) == 0 {
		// Every client error has the same shape, so that a client reads
		// errors[] alone: a problem of the request as a whole (or of its
		// path) is one entry, with the field named when there is one.
		q.Errors = []fieldError{{Field: q.Field, Detail: q.Detail}}
	}
	if q.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pbx"`)
	}
	body, err := json.Marshal(&q)
	if err != nil {
		slog.Error("api: encode problem", "err", err)
		http.Error(w, http.StatusText(q.Status), q.Status)
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)+1))
	w.WriteHeader(q.Status)
	w.Write(append(body, '\n'))
}
