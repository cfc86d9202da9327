package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pbx/rating"
	"pbx/store"
)

// Media types of the CDR export besides JSON.
const (
	mediaCSV   = "text/csv"
	mediaJSONL = "application/x-ndjson"
)

// exportPage is how many records one keyset query reads: the export
// holds one page in memory whatever the period.
const exportPage = 1000

var cdrParams = []queryParam{
	{name: "limit", typ: "integer", doc: "without from/to: at most this many of the newest records (1-1000, default 100); with them: at most this many records (default: all)"},
	{name: "from", typ: "string", doc: "export the records that started at or after this time (RFC 3339, or a date YYYY-MM-DD at midnight in Europe/Brussels), oldest first"},
	{name: "to", typ: "string", doc: "... and before this time (same forms; default now)"},
	{name: "after", typ: "string", doc: "resume an export after the record of this id (the last one received)"},
}

// cdrExportRow is one exported record: a line of JSON lines, and the
// columns of the CSV in this order.
type cdrExportRow struct {
	ID              string     `json:"id"`
	CallID          string     `json:"call_id"`
	Origin          string     `json:"origin"`
	Caller          string     `json:"caller"`
	Callee          string     `json:"callee"`
	StartAt         time.Time  `json:"start_at"`
	AnswerAt        *time.Time `json:"answer_at,omitempty"`
	EndAt           time.Time  `json:"end_at"`
	BillableSeconds int        `json:"billable_seconds"`
	Disposition     string     `json:"disposition"`
	HangupCause     string     `json:"hangup_cause"`
	UserID          string     `json:"user_id,omitempty" doc:"the licence billed (priced calls)"`
	Class           string     `json:"destination_class,omitempty"`
	PriceCents      *int64     `json:"price_cents,omitempty" doc:"present for calls to the public network"`
}

var csvHeader = []string{"id", "call_id", "origin", "caller", "callee", "start_at", "answer_at", "end_at", "billable_seconds", "disposition", "hangup_cause",
	"user_id", "destination_class", "price_cents", "price"}

func exportRow(e store.ExportedCDR) cdrExportRow {
	r := cdrExportRow{ID: e.ID, CallID: e.CallID, Origin: e.Origin, Caller: e.Caller, Callee: e.Callee, StartAt: e.Start, EndAt: e.End,
		BillableSeconds: e.BillableSeconds, Disposition: e.Disposition, HangupCause: e.HangupCause, UserID: e.UserID, Class: e.Class}
	if !e.Answer.IsZero() {
		a := e.Answer
		r.AnswerAt = &a
	}
	if e.Priced {
		c := e.Cents
		r.PriceCents = &c
	}
	return r
}

func (r cdrExportRow) csv() []string {
	answer, cents, price := "", "", ""
	if r.AnswerAt != nil {
		answer = r.AnswerAt.Format(time.RFC3339Nano)
	}
	if r.PriceCents != nil {
		cents, price = strconv.FormatInt(*r.PriceCents, 10), rating.Cents(*r.PriceCents).String()
	}
	return []string{r.ID, r.CallID, r.Origin, r.Caller, r.Callee, r.StartAt.Format(time.RFC3339Nano), answer, r.EndAt.Format(time.RFC3339Nano),
		strconv.Itoa(r.BillableSeconds), r.Disposition, r.HangupCause, r.UserID, r.Class, cents, price}
}

// exportFormat is the media type the Accept header asks for: CSV, JSON
// lines, or "" (JSON).
func exportFormat(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaCSV:
			return mediaCSV
		case mediaJSONL, "application/jsonl", "application/x-jsonlines":
			return mediaJSONL
		case "application/json":
			return ""
		}
	}
	return ""
}

// exportTime reads from/to: RFC 3339, or a date at midnight in Brussels.
func exportTime(fe *fieldErrors, field, v string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, rating.Zone); err == nil {
		return t
	}
	fe.add(field, "must be a time as RFC 3339 (2026-11-01T00:00:00+01:00) or a date (2026-11-01)")
	return time.Time{}
}

// cdrs lists the newest records (no from, to or after, JSON), or exports
// a period oldest first, streamed in keyset pages as CSV, JSON lines or a
// JSON array, as Accept asks.
func (s *server) cdrs(c *call) error {
	q := c.r.URL.Query()
	format := exportFormat(c.r.Header.Get("Accept"))
	if q.Get("from") == "" && q.Get("to") == "" && q.Get("after") == "" && format == "" {
		return s.listCDRs(c)
	}
	if err := s.needBilling(); err != nil {
		return err
	}
	var fe fieldErrors
	from, to := time.Unix(0, 0), s.now()
	if v := q.Get("from"); v != "" {
		from = exportTime(&fe, "from", v)
	}
	if v := q.Get("to"); v != "" {
		to = exportTime(&fe, "to", v)
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fe.add("limit", "must be a positive whole number")
		}
		limit = n
	}
	var afterStart time.Time
	afterID := q.Get("after")
	if afterID != "" {
		at, err := s.billing.CDRStart(c.ctx(), c.tenant.ID, afterID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.add("after", "is not a call record of this tenant")
		case err != nil:
			return err
		}
		afterStart = at
	} else {
		afterStart = from.Add(-time.Millisecond)
	}
	if err := fe.err(); err != nil {
		return err
	}
	return s.streamCDRs(c, format, from, to, afterStart, afterID, limit)
}

func (s *server) streamCDRs(c *call, format string, from, to, afterStart time.Time, afterID string, limit int) error {
	ctype := format
	if ctype == "" {
		ctype = "application/json"
	}
	w := c.w
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(200)
	flusher, _ := w.(http.Flusher)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	switch format {
	case mediaCSV:
		cw.Write(csvHeader)
	case "":
		w.Write([]byte("["))
	}
	sent := 0
	for {
		n := exportPage
		if limit > 0 && limit-sent < n {
			n = limit - sent
		}
		if n == 0 {
			break
		}
		page, err := s.billing.ExportCDRs(c.ctx(), c.tenant.ID, from, to, afterStart, afterID, n)
		if err != nil {
			// The status is sent: cut the response short so that the
			// client sees a broken transfer, never a complete-looking one.
			s.log.Error("cdr export", "tenant_id", c.tenant.ID, "error", err)
			panic(http.ErrAbortHandler)
		}
		for _, e := range page {
			r := exportRow(e)
			switch format {
			case mediaCSV:
				cw.Write(r.csv())
			case mediaJSONL:
				enc.Encode(r)
			default:
				if sent > 0 {
					w.Write([]byte(","))
				}
				enc.Encode(r)
			}
			sent++
		}
		if format == mediaCSV {
			cw.Flush()
		}
		if flusher != nil {
			flusher.Flush()
		}
		if len(page) < n {
			break
		}
		last := page[len(page)-1]
		afterStart, afterID = last.Start, last.ID
	}
	if format == "" {
		w.Write([]byte("]\n"))
	}
	return nil
}
