package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Audio is a tenant's recorded announcement or prompt. The sound itself is
// a file (8 kHz mono WAV) the API keeps beside the database, named after
// the tenant and the id; the store keeps what describes it.
type Audio struct {
	ID, TenantID string
	Name         string // the uploaded file's name, for people
	Duration     time.Duration
	Size         int64 // bytes of the stored WAV
	CreatedAt    time.Time
}

const audioCols = `id, tenant_id, name, duration_ms, size, created_at`

func scanAudio(row interface{ Scan(...any) error }) (Audio, error) {
	var a Audio
	var ms, created int64
	err := row.Scan(&a.ID, &a.TenantID, &a.Name, &ms, &a.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Audio{}, ErrNotFound
	}
	a.Duration = time.Duration(ms) * time.Millisecond
	a.CreatedAt = timeOrZero(created)
	return a, err
}

// NewAudioID returns the id of an audio about to be stored: its file is
// written under this id before CreateAudio records it.
func NewAudioID() string { return NewID("aud") }

// CreateAudio records an audio whose file has been written.
func (s *Store) CreateAudio(ctx context.Context, a Audio) (Audio, error) {
	if a.ID == "" {
		a.ID = NewAudioID()
	}
	a.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO audio(id, tenant_id, name, duration_ms, size, created_at) VALUES (?,?,?,?,?,?)`,
		a.ID, a.TenantID, a.Name, a.Duration.Milliseconds(), a.Size, a.CreatedAt.Unix())
	if isForeignKey(err) {
		return Audio{}, ErrNotFound
	}
	return a, err
}

// Audio returns an audio of a tenant.
func (s *Store) Audio(ctx context.Context, tenantID, id string) (Audio, error) {
	return scanAudio(s.r.QueryRowContext(ctx, `SELECT `+audioCols+` FROM audio WHERE tenant_id=? AND id=?`, tenantID, id))
}

// Audios lists a tenant's audio.
func (s *Store) Audios(ctx context.Context, tenantID string) ([]Audio, error) {
	return collect(scanAudio)(s.r.QueryContext(ctx, `SELECT `+audioCols+` FROM audio WHERE tenant_id=? ORDER BY created_at, id`, tenantID))
}

// DeleteAudio removes an audio's record (the caller removes its file). An
// audio the current version of a flow plays is ErrConflict.
func (s *Store) DeleteAudio(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := notReferenced(ctx, tx, tenantID, RefAudio, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audio WHERE tenant_id=? AND id=?`, tenantID, id)
		return affected(res, err)
	})
}
