// Package recordings owns what happens to call recordings once captured:
// the files (one stereo WAV per recording under a data directory, one
// folder per tenant), their rows in the store (tenant, call, parties,
// start, duration, size, SHA-256, expiry), the repair of files a crash cut
// short, retention (90 days at most, shorter if the tenant chooses) with a
// purge that removes file and row together and writes an audit entry that
// outlives them, downloads (each one audited), deletion, and the export to
// a customer's SFTP server (export.go).
//
// It knows no SIP and no call: features/recording captures the audio and
// hands it a file to write through Begin.
package recordings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"pbx/store"
)

// Store is what the recordings need of the store.
type Store interface {
	RecordingSettings(ctx context.Context, tenantID string) (store.RecordingSettings, error)
	RecordingExportSecrets(ctx context.Context, tenantID string) (store.ExportSecrets, error)
	CreateRecording(ctx context.Context, r store.Recording) (store.Recording, error)
	FinishRecording(ctx context.Context, id string, d time.Duration, size int64, sha string, repaired bool, exportState string) error
	UnfinishedRecordings(ctx context.Context) ([]store.Recording, error)
	Recording(ctx context.Context, tenantID, id string) (store.Recording, error)
	Recordings(ctx context.Context, tenantID string, f store.RecordingFilter) ([]store.Recording, error)
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]store.Recording, error)
	DueExports(ctx context.Context, now time.Time, limit int) ([]store.Recording, error)
	SetRecordingExport(ctx context.Context, id string, e store.RecordingExport) error
	RemoveRecording(ctx context.Context, r store.Recording, a store.RecordingAudit) error
	AuditRecording(ctx context.Context, a store.RecordingAudit) error
	Tenant(ctx context.Context, id string) (store.Tenant, error)
}

// Audit actions.
const (
	ActionPurged     = "purged"
	ActionDeleted    = "deleted"
	ActionExported   = "exported"
	ActionDownloaded = "downloaded"
	ActionLost       = "lost"      // a row whose file was gone at start-up
	ActionDiscarded  = "discarded" // the call ended before any audio
)

// Library keeps the recordings' files and rows.
type Library struct {
	Store Store
	// Dir holds the files: Dir/<tenant>/<recording>.wav.
	Dir string
	// Now is the clock of starts, expiries, purges and audits (default
	// time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

func (l *Library) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Library) log() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// Path is where a recording's file is.
func (l *Library) Path(r store.Recording) string {
	return filepath.Join(l.Dir, r.TenantID, r.ID+".wav")
}

// Meta describes a recording about to start.
type Meta struct {
	TenantID, CallID string
	Parties          []store.RecordingParty // channel 0, channel 1
}

// Writer is a recording's file while it is written: the capture writes
// the WAV through it (it is an io.WriteSeeker) and calls Finish.
type Writer struct {
	*os.File
	l   *Library
	rec store.Recording
}

// Recording is the row of the recording being written.
func (w *Writer) Recording() store.Recording { return w.rec }

// Begin records that a recording starts and creates its file. Its expiry
// is fixed now, from the tenant's retention at this moment.
func (l *Library) Begin(ctx context.Context, m Meta) (*Writer, error) {
	st, err := l.Store.RecordingSettings(ctx, m.TenantID)
	if err != nil {
		return nil, fmt.Errorf("recordings: settings: %w", err)
	}
	now := l.now().UTC()
	rec := store.Recording{ID: store.NewRecordingID(), TenantID: m.TenantID, CallID: m.CallID, Parties: m.Parties,
		StartedAt: now, ExpiresAt: now.Add(Retention(st))}
	path := l.Path(rec)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	// The file exists before its row: a row always has a file to repair.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	if rec, err = l.Store.CreateRecording(ctx, rec); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("recordings: %w", err)
	}
	return &Writer{File: f, l: l, rec: rec}, nil
}

// Retention is how long a tenant's recordings are kept: its choice, never
// more than store.MaxRetentionDays.
func Retention(st store.RecordingSettings) time.Duration {
	days := st.RetentionDays
	if days <= 0 || days > store.MaxRetentionDays {
		days = store.MaxRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// Finish closes the file once the capture has completed it, and records
// its duration, size and checksum; a tenant that exports gets it queued.
func (w *Writer) Finish(ctx context.Context) error {
	err := w.File.Sync()
	if cerr := w.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recordings: %s: %w", w.rec.ID, err)
	}
	return w.l.complete(ctx, w.rec, false)
}

// Discard removes a recording that never started (the call ended
// first): its file and its row, with an audit entry.
func (w *Writer) Discard(ctx context.Context) error {
	w.File.Close()
	return w.l.remove(ctx, w.rec, ActionDiscarded, "the call ended before recording started", "system")
}

// complete checks the file of r (repairing its header when asked),
// hashes it and marks the row complete.
func (l *Library) complete(ctx context.Context, r store.Recording, repair bool) error {
	path := l.Path(r)
	var d time.Duration
	var err error
	if repair {
		d, err = RepairWAV(path)
	} else {
		d, err = wavDuration(path)
	}
	if err != nil {
		return fmt.Errorf("recordings: %s: %w", r.ID, err)
	}
	size, sum, err := hashFile(path)
	if err != nil {
		return fmt.Errorf("recordings: %s: %w", r.ID, err)
	}
	st, err := l.Store.RecordingSettings(ctx, r.TenantID)
	if err != nil {
		return err
	}
	export := store.ExportNone
	if st.Export.Enabled {
		export = store.ExportPending
	}
	return l.Store.FinishRecording(ctx, r.ID, d, size, sum, repair, export)
}

// hashFile returns the size and hex SHA-256 of a file.
func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Repair completes the recordings a stopped process left unfinished: their
// headers are made to say what the files hold (the recorder keeps them at
// most a second behind), they are hashed, listed and, like any other,
// exported and expired. A row whose file is gone is removed with an audit
// entry. It returns how many were repaired.
func (l *Library) Repair(ctx context.Context) (int, error) {
	rs, err := l.Store.UnfinishedRecordings(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, r := range rs {
		if _, err := os.Stat(l.Path(r)); errors.Is(err, os.ErrNotExist) {
			l.log().Warn("recordings: file of an unfinished recording is gone", "recording", r.ID, "tenant", r.TenantID)
			errs = append(errs, l.Store.RemoveRecording(ctx, r, store.RecordingAudit{Action: ActionLost, Reason: "file missing at start-up", At: l.now()}))
			continue
		}
		if err := l.complete(ctx, r, true); err != nil {
			errs = append(errs, err)
			continue
		}
		l.log().Info("recordings: unfinished recording repaired", "recording", r.ID, "tenant", r.TenantID)
		n++
	}
	return n, errors.Join(errs...)
}

// Delete removes a recording of a tenant at someone's request.
func (l *Library) Delete(ctx context.Context, tenantID, id, actor string) error {
	r, err := l.Store.Recording(ctx, tenantID, id)
	if err != nil {
		return err
	}
	return l.remove(ctx, r, ActionDeleted, "deleted on request", actor)
}

// Open opens a complete recording of a tenant for download and audits
// the download. The caller closes the file.
func (l *Library) Open(ctx context.Context, tenantID, id, actor string) (*os.File, store.Recording, error) {
	r, err := l.Store.Recording(ctx, tenantID, id)
	if err != nil {
		return nil, r, err
	}
	f, err := os.Open(l.Path(r))
	if err != nil {
		return nil, r, fmt.Errorf("recordings: %s: %w", r.ID, err)
	}
	if err := l.Store.AuditRecording(ctx, store.RecordingAudit{TenantID: r.TenantID, RecordingID: r.ID, CallID: r.CallID,
		Action: ActionDownloaded, Actor: actor, At: l.now()}); err != nil {
		f.Close()
		return nil, r, err
	}
	l.log().Info("recording downloaded", "recording", r.ID, "tenant", r.TenantID, "actor", actor)
	return f, r, nil
}
