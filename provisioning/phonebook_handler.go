package provisioning

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// PhonebookSource is what the company directory needs from the store.
type PhonebookSource interface {
	// Phonebook returns the directory of a tenant: its full licences by
	// extension and its shared contacts, read afresh (an edit shows at the
	// phone's next refresh).
	Phonebook(ctx context.Context, tenantID string) ([]Entry, error)
}

// redactPath hides a directory token in a logged path: the token is a
// credential.
func redactPath(p string) string {
	rest, ok := strings.CutPrefix(p, PathPrefix+"pb/")
	if !ok {
		return p
	}
	parts := strings.Split(rest, "/")
	if len(parts) >= 2 {
		parts[1] = "REDACTED"
	}
	return PathPrefix + "pb/" + strings.Join(parts, "/")
}

// classifyPhonebook recognises "pb/<mac>/<token>/<file>".
func classifyPhonebook(name string) (request, bool) {
	rest, ok := strings.CutPrefix(name, "pb/")
	if !ok {
		return request{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return request{}, false
	}
	mac, err := NormalizeMAC(parts[0])
	if err != nil || len(parts[1]) != 32 {
		return request{}, false
	}
	for f, file := range phonebookFiles {
		if parts[2] == file {
			return request{kind: reqPhonebook, name: parts[2], mac: mac, token: parts[1], format: f}, true
		}
	}
	return request{}, false
}

// servePhonebook answers a directory request. The token in the path is the
// credential: a wrong token, an unknown MAC and a format that is not the
// model's own all get the same 404, so the URL space says nothing.
func (h *handler) servePhonebook(w http.ResponseWriter, r *http.Request, req request, rl *requestLog) {
	rl.scheme = "phonebook-token"
	notFound := func(reason string) {
		rl.reason = reason
		h.finish(w, rl, outcomeNotFound, http.StatusNotFound, "not found\n")
	}
	if h.phonebook == nil {
		notFound("no company directory configured")
		return
	}
	dev, err := h.dir.DeviceByMAC(r.Context(), req.mac)
	if errors.Is(err, ErrNotFound) {
		notFound("unknown device")
		return
	}
	if err != nil {
		rl.reason = err.Error()
		h.finish(w, rl, outcomeError, http.StatusServiceUnavailable, "temporarily unavailable\n")
		return
	}
	want := phonebookToken(h.auth.key, dev)
	if subtle.ConstantTimeCompare([]byte(want), []byte(req.token)) != 1 {
		rl.outcome, rl.status, rl.reason = outcomeDenied, http.StatusNotFound, "wrong directory token"
		writePlain(w, http.StatusNotFound, "not found\n")
		return
	}
	rl.device = dev
	m, ok := LookupModel(dev.Model)
	if !ok || PhonebookFormatOf(m) != req.format {
		notFound("directory format not used by this model")
		return
	}
	entries, err := h.phonebook.Phonebook(r.Context(), dev.TenantID)
	if err != nil {
		rl.reason = err.Error()
		h.finish(w, rl, outcomeError, http.StatusServiceUnavailable, "temporarily unavailable\n")
		return
	}
	var body []byte
	switch req.format {
	case PhonebookYealink:
		body = YealinkDirectory(entries)
	case PhonebookGrandstream:
		body = GrandstreamPhonebook(entries)
	case PhonebookGigaset:
		body = GigasetDirectory(entries, ParseGigasetQuery(r.URL.Query()))
	}
	rl.outcome, rl.status = outcomeServed, http.StatusOK
	sum := sha256.Sum256(body)
	hd := w.Header()
	hd.Set("Content-Type", "application/xml; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(sw, r, req.name, time.Time{}, bytes.NewReader(body))
	rl.status = sw.status
}
