package api

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"

	"pbx/store"
)

// Recordings serves the call recordings (package recordings' Admin).
type Recordings interface {
	List(ctx context.Context, tenantID string, f store.RecordingFilter) ([]store.Recording, error)
	Get(ctx context.Context, tenantID, id string) (store.Recording, error)
	// Open opens a recording's file for download and audits the download.
	Open(ctx context.Context, tenantID, id, actor string) (*os.File, store.Recording, error)
	Delete(ctx context.Context, tenantID, id, actor string) error
	Audit(ctx context.Context, tenantID, id string) ([]store.RecordingAudit, error)
	Policy(ctx context.Context, tenantID string, k store.PolicyKey) (string, error)
	SetPolicy(ctx context.Context, tenantID string, k store.PolicyKey, mode string) error
	Settings(ctx context.Context, tenantID string) (store.RecordingSettings, error)
	SetSettings(ctx context.Context, st store.RecordingSettings, change store.SecretChange) error
}

var recordingModes = []string{store.RecordNever, store.RecordAlways, store.RecordOnDemand}

type recordingPartyJSON struct {
	Name   string `json:"name,omitempty"`
	Number string `json:"number,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type recordingExportJSON struct {
	State      string     `json:"state" enum:"pending,exported,failed" doc:"absent when the tenant does not export"`
	Attempts   int        `json:"attempts"`
	NextAt     *time.Time `json:"next_attempt_at,omitempty"`
	Error      string     `json:"error,omitempty" doc:"why the last attempt failed; the recording is kept and retried"`
	ExportedAt *time.Time `json:"exported_at,omitempty"`
}

type recordingJSON struct {
	ID        string               `json:"id"`
	CallID    string               `json:"call_id"`
	Parties   []recordingPartyJSON `json:"parties" doc:"left channel first, then right"`
	StartedAt time.Time            `json:"started_at"`
	Duration  float64              `json:"duration_s"`
	ExpiresAt time.Time            `json:"expires_at"`
	Size      int64                `json:"size"`
	SHA256    string               `json:"sha256" doc:"of the complete file; empty while the call is recorded"`
	Complete  bool                 `json:"complete" doc:"false while the call is still recorded"`
	Repaired  bool                 `json:"repaired" doc:"completed at start-up after the server stopped mid-call"`
	Export    *recordingExportJSON `json:"export,omitempty"`
}

func toRecordingJSON(r store.Recording) recordingJSON {
	j := recordingJSON{ID: r.ID, CallID: r.CallID, Parties: []recordingPartyJSON{}, StartedAt: r.StartedAt, Duration: r.Duration.Seconds(),
		ExpiresAt: r.ExpiresAt, Size: r.Size, SHA256: r.SHA256, Complete: r.Complete, Repaired: r.Repaired}
	for _, p := range r.Parties {
		j.Parties = append(j.Parties, recordingPartyJSON(p))
	}
	if e := r.Export; e.State != store.ExportNone {
		x := &recordingExportJSON{State: e.State, Attempts: e.Attempts, Error: e.Error}
		if !e.NextAt.IsZero() && e.State != store.ExportDone {
			x.NextAt = &e.NextAt
		}
		if !e.ExportedAt.IsZero() {
			x.ExportedAt = &e.ExportedAt
		}
		j.Export = x
	}
	return j
}

type recordingAuditJSON struct {
	RecordingID string    `json:"recording_id"`
	CallID      string    `json:"call_id"`
	Action      string    `json:"action" enum:"purged,deleted,exported,downloaded,lost,discarded"`
	Reason      string    `json:"reason"`
	Actor       string    `json:"actor" doc:"system, or the id of the API token that asked"`
	At          time.Time `json:"at"`
}

func (s *server) recs() (Recordings, error) {
	if s.recordings == nil {
		return nil, httpProblem(http.StatusServiceUnavailable, "call recording is not configured on this server")
	}
	return s.recordings, nil
}

func (s *server) listRecordings(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	var f store.RecordingFilter
	var fe fieldErrors
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fe.add(p.name, "must be an RFC 3339 time such as 2026-03-01T00:00:00+01:00")
			}
			*p.dst = t
		}
	}
	f.Party, f.UserID = q.Get("party"), q.Get("user")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fe.add("limit", "must be an integer between 1 and 1000")
		}
		f.Limit = n
	}
	if err := fe.err(); err != nil {
		return err
	}
	list, err := rs.List(c.ctx(), c.tenant.ID, f)
	if err != nil {
		return err
	}
	out := make([]recordingJSON, 0, len(list))
	for _, r := range list {
		out = append(out, toRecordingJSON(r))
	}
	return c.reply(200, out)
}

func (s *server) getRecording(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	r, err := rs.Get(c.ctx(), c.tenant.ID, c.path("recording"))
	if err != nil {
		return err
	}
	return c.reply(200, toRecordingJSON(r))
}

// getRecordingAudio streams the WAV with range requests; every download
// is audited under the token that asked.
func (s *server) getRecordingAudio(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	f, r, err := rs.Open(c.ctx(), c.tenant.ID, c.path("recording"), c.token.ID)
	if err != nil {
		return err
	}
	defer f.Close()
	name := r.ID + ".wav"
	c.w.Header().Set("Content-Type", "audio/wav")
	c.w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(c.w, c.r, name, r.StartedAt.Add(r.Duration), f)
	return nil
}

func (s *server) deleteRecording(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	if err := rs.Delete(c.ctx(), c.tenant.ID, c.path("recording"), c.token.ID); err != nil {
		return err
	}
	return c.noContent()
}

func (s *server) listRecordingAudit(c *call) error {
	rs, err := s.recs()
	if err != nil {
		return err
	}
	log, err := rs.Audit(c.ctx(), c.tenant.ID, c.r.URL.Query().Get("recording"))
	if err != nil {
		return err
	}
	out := make([]recordingAuditJSON, 0, len(log))
	for _, a := range log {
		out = append(out, recordingAuditJSON{RecordingID: a.RecordingID, CallID: a.CallID, Action: a.Action, Reason: a.Reason, Actor: a.Actor, At: a.At})
	}
	return c.reply(200, out)
}

// recordingPolicy answers the recording policy of one of the tenant's
// users, numbers or hunt groups ("" when recording is off).
func (c *call) recordingPolicy(kind, id string) (string, error) {
	if c.s.recordings == nil {
		return "", nil
	}
	return c.s.recordings.Policy(c.ctx(), c.tenant.ID, store.PolicyKey{Kind: kind, ID: id})
}

// checkRecording validates a request's recording field.
func (c *call) checkRecording(fe *fieldErrors, v *string) {
	if v == nil {
		return
	}
	if c.s.recordings == nil {
		fe.add("recording", "call recording is not configured on this server")
		return
	}
	fe.oneOf("recording", *v, true, recordingModes...)
}

// setRecording stores a request's recording field once the object is
// saved.
func (c *call) setRecording(kind, id string, v *string) error {
	if v == nil {
		return nil
	}
	if err := c.s.recordings.SetPolicy(c.ctx(), c.tenant.ID, store.PolicyKey{Kind: kind, ID: id}, *v); err != nil {
		return fmt.Errorf("recording policy: %w", err)
	}
	return nil
}

// withFieldErrors adds more invalid fields to err, a validation problem
// from another check (or nil), so that every bad field is named at once.
func withFieldErrors(err error, more fieldErrors) error {
	if len(more) == 0 {
		return err
	}
	if err == nil {
		return more.err()
	}
	var p *problem
	if errors.As(err, &p) && p.Type == typeValidation {
		return append(fieldErrors(p.Errors), more...).err()
	}
	return err
}
