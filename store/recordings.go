package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Recording is a recorded call: one stereo WAV file that package
// recordings keeps beside the database; the store keeps what describes it.
type Recording struct {
	ID, TenantID, CallID string
	Parties              []RecordingParty // by channel: 0 left, 1 right
	StartedAt            time.Time
	Duration             time.Duration
	Size                 int64
	SHA256               string // hex, of the complete file
	ExpiresAt            time.Time
	// Complete is false while the call is recorded (or after a crash,
	// until start-up repairs the file).
	Complete bool
	Repaired bool // completed at start-up after a crash cut it short
	Export   RecordingExport
}

// RecordingParty is who is heard on a channel.
type RecordingParty struct {
	Name, Number, UserID string
}

// Export states of a recording.
const (
	ExportNone     = ""
	ExportPending  = "pending"
	ExportDone     = "exported"
	ExportFailed   = "failed" // still retried; Error says why
	maxExportError = 500
)

// RecordingExport is where a recording is in its export.
type RecordingExport struct {
	State      string
	Attempts   int
	NextAt     time.Time
	Error      string
	ExportedAt time.Time
}

// RecordingAudit is what became of a recording: purged, deleted,
// exported, downloaded. Entries outlive the recording.
type RecordingAudit struct {
	ID, TenantID, RecordingID, CallID string
	Action, Reason, Actor             string
	At                                time.Time
}

// RecordingFilter narrows a listing; zero fields do not filter.
type RecordingFilter struct {
	From, To time.Time // started_at in [From, To)
	Party    string    // a party's number
	UserID   string
	Limit    int // default 100, at most 1000
}

const recordingCols = `id, tenant_id, call_id, started_at, duration_ms, size, sha256, expires_at, state, repaired,
	export_state, export_attempts, export_next_at, export_error, exported_at`

func scanRecording(row interface{ Scan(...any) error }) (Recording, error) {
	var r Recording
	var started, ms, expires, next, exported int64
	var state string
	var repaired int
	e := &r.Export
	err := row.Scan(&r.ID, &r.TenantID, &r.CallID, &started, &ms, &r.Size, &r.SHA256, &expires, &state, &repaired,
		&e.State, &e.Attempts, &next, &e.Error, &exported)
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, ErrNotFound
	}
	r.StartedAt, r.ExpiresAt = time.UnixMilli(started).UTC(), time.UnixMilli(expires).UTC()
	r.Duration = time.Duration(ms) * time.Millisecond
	r.Complete, r.Repaired = state == "complete", repaired == 1
	e.NextAt, e.ExportedAt = timeOrZeroMilli(next), timeOrZeroMilli(exported)
	return r, err
}

func timeOrZeroMilli(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// NewRecordingID returns the id of a recording about to start: its file
// is named after it.
func NewRecordingID() string { return NewID("rec") }

// CreateRecording records that a recording started (not complete).
func (s *Store) CreateRecording(ctx context.Context, r Recording) (Recording, error) {
	if r.ID == "" {
		r.ID = NewRecordingID()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO recordings(id, tenant_id, call_id, started_at, expires_at, state) VALUES (?,?,?,?,?,'recording')`,
			r.ID, r.TenantID, r.CallID, r.StartedAt.UnixMilli(), r.ExpiresAt.UnixMilli())
		if err != nil {
			return err
		}
		for i, p := range r.Parties {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recording_parties(recording_id, channel, name, number, user_id) VALUES (?,?,?,?,?)`,
				r.ID, i, p.Name, p.Number, p.UserID); err != nil {
				return err
			}
		}
		return nil
	})
	if isForeignKey(err) {
		return Recording{}, ErrNotFound
	}
	return r, err
}

// FinishRecording completes a recording: its file is whole. exportState
// is ExportPending when the tenant exports its recordings.
func (s *Store) FinishRecording(ctx context.Context, id string, d time.Duration, size int64, sha string, repaired bool, exportState string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET state='complete', duration_ms=?, size=?, sha256=?, repaired=?, export_state=? WHERE id=?`,
		d.Milliseconds(), size, sha, b2i(repaired), exportState, id)
	return affected(res, err)
}

// UnfinishedRecordings lists the recordings a stopped process left
// incomplete, of every tenant.
func (s *Store) UnfinishedRecordings(ctx context.Context) ([]Recording, error) {
	return s.recordingsWhere(ctx, `state='recording' ORDER BY started_at, id`)
}

// Recording returns a recording of a tenant with its parties.
func (s *Store) Recording(ctx context.Context, tenantID, id string) (Recording, error) {
	r, err := scanRecording(s.r.QueryRowContext(ctx, `SELECT `+recordingCols+` FROM recordings WHERE tenant_id=? AND id=?`, tenantID, id))
	if err != nil {
		return r, err
	}
	rs := []Recording{r}
	if err := s.addParties(ctx, rs); err != nil {
		return Recording{}, err
	}
	return rs[0], nil
}

// Recordings lists a tenant's recordings, newest first.
func (s *Store) Recordings(ctx context.Context, tenantID string, f RecordingFilter) ([]Recording, error) {
	var where strings.Builder
	where.WriteString(`tenant_id=?`)
	args := []any{tenantID}
	if !f.From.IsZero() {
		where.WriteString(` AND started_at >= ?`)
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where.WriteString(` AND started_at < ?`)
		args = append(args, f.To.UnixMilli())
	}
	if f.Party != "" {
		where.WriteString(` AND EXISTS (SELECT 1 FROM recording_parties p WHERE p.recording_id=recordings.id AND p.number=?)`)
		args = append(args, f.Party)
	}
	if f.UserID != "" {
		where.WriteString(` AND EXISTS (SELECT 1 FROM recording_parties p WHERE p.recording_id=recordings.id AND p.user_id=?)`)
		args = append(args, f.UserID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	where.WriteString(` ORDER BY started_at DESC, id LIMIT ?`)
	args = append(args, limit)
	return s.recordingsWhere(ctx, where.String(), args...)
}

// ExpiredRecordings lists up to limit recordings of every tenant whose
// expiry is at or before now.
func (s *Store) ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]Recording, error) {
	return s.recordingsWhere(ctx, `expires_at <= ? ORDER BY expires_at, id LIMIT ?`, now.UnixMilli(), limit)
}

// DueExports lists up to limit complete recordings waiting for export
// whose next attempt is due at now.
func (s *Store) DueExports(ctx context.Context, now time.Time, limit int) ([]Recording, error) {
	return s.recordingsWhere(ctx, `state='complete' AND export_state IN ('pending','failed') AND export_next_at <= ?
		ORDER BY export_next_at, started_at, id LIMIT ?`, now.UnixMilli(), limit)
}

func (s *Store) recordingsWhere(ctx context.Context, where string, args ...any) ([]Recording, error) {
	rs, err := collect(scanRecording)(s.r.QueryContext(ctx, `SELECT `+recordingCols+` FROM recordings WHERE `+where, args...))
	if err != nil {
		return nil, err
	}
	return rs, s.addParties(ctx, rs)
}

// addParties fills in the parties of rs, one query per recording; lists
// are bounded by their limit.
func (s *Store) addParties(ctx context.Context, rs []Recording) error {
	for i := range rs {
		ps, err := collect(func(row interface{ Scan(...any) error }) (RecordingParty, error) {
			var p RecordingParty
			return p, row.Scan(&p.Name, &p.Number, &p.UserID)
		})(s.r.QueryContext(ctx, `SELECT name, number, user_id FROM recording_parties WHERE recording_id=? ORDER BY channel`, rs[i].ID))
		if err != nil {
			return err
		}
		rs[i].Parties = ps
	}
	return nil
}

// SetRecordingExport stores where a recording is in its export.
func (s *Store) SetRecordingExport(ctx context.Context, id string, e RecordingExport) error {
	if len(e.Error) > maxExportError {
		e.Error = e.Error[:maxExportError]
	}
	var next, done int64
	if !e.NextAt.IsZero() {
		next = e.NextAt.UnixMilli()
	}
	if !e.ExportedAt.IsZero() {
		done = e.ExportedAt.UnixMilli()
	}
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET export_state=?, export_attempts=?, export_next_at=?, export_error=?, exported_at=? WHERE id=?`,
		e.State, e.Attempts, next, e.Error, done, id)
	return affected(res, err)
}

// RemoveRecording deletes a recording's row (its file is already gone)
// and writes the audit entry that says why, in one transaction. A row
// already removed is ErrNotFound and writes nothing.
func (s *Store) RemoveRecording(ctx context.Context, r Recording, a RecordingAudit) error {
	a.TenantID, a.RecordingID, a.CallID = r.TenantID, r.ID, r.CallID
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM recordings WHERE tenant_id=? AND id=?`, r.TenantID, r.ID)
		if err := affected(res, err); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// AuditRecording writes an audit entry (a download, an export).
func (s *Store) AuditRecording(ctx context.Context, a RecordingAudit) error {
	return insertAudit(ctx, s.w, a)
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func insertAudit(ctx context.Context, db execer, a RecordingAudit) error {
	if a.ID == "" {
		// Entries of the same instant (a download and a delete, an export
		// and the deletion it allows) list in the order they were written.
		a.ID = fmt.Sprintf("rau_%016x%s", time.Now().UnixNano(), strings.TrimPrefix(NewID(""), "_"))
	}
	_, err := db.ExecContext(ctx, `INSERT INTO recording_audit(id, tenant_id, recording_id, call_id, action, reason, actor, at) VALUES (?,?,?,?,?,?,?,?)`,
		a.ID, a.TenantID, a.RecordingID, a.CallID, a.Action, a.Reason, a.Actor, a.At.UnixMilli())
	return err
}

// RecordingAuditLog lists a tenant's audit entries, oldest first; a
// recordingID narrows it to one recording.
func (s *Store) RecordingAuditLog(ctx context.Context, tenantID, recordingID string) ([]RecordingAudit, error) {
	q := `SELECT id, tenant_id, recording_id, call_id, action, reason, actor, at FROM recording_audit WHERE tenant_id=?`
	args := []any{tenantID}
	if recordingID != "" {
		q += ` AND recording_id=?`
		args = append(args, recordingID)
	}
	return collect(func(row interface{ Scan(...any) error }) (RecordingAudit, error) {
		var a RecordingAudit
		var at int64
		err := row.Scan(&a.ID, &a.TenantID, &a.RecordingID, &a.CallID, &a.Action, &a.Reason, &a.Actor, &at)
		a.At = time.UnixMilli(at).UTC()
		return a, err
	})(s.r.QueryContext(ctx, q+` ORDER BY at, id`, args...))
}
