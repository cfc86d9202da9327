package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Campaign states.
const (
	CampaignDraft    = "draft"
	CampaignRunning  = "running"
	CampaignPaused   = "paused"
	CampaignFinished = "finished"
)

// Campaign is a tenant's outbound campaign: its settings (what the
// package campaign reads), its state and when it changed.
type Campaign struct {
	ID, TenantID, Name string
	Mode               string // broadcast or agents
	AudioID            string // broadcast: the tenant's audio played
	HuntGroupID        string // agents: the group whose members take the calls
	CallerID           string // the tenant's number presented (E.164)
	TimeZone           string
	// Hours are the weekly calling hours as JSON; the store keeps them
	// as they came.
	Hours                                      string
	MaxConcurrent, CallsPerMinute, MaxAttempts int
	RetryAfter, RingTimeout                    time.Duration
	State                                      string
	// Cancelled: the campaign was finished by a cancel, not by running out
	// of contacts.
	Cancelled                        bool
	CreatedAt, StartedAt, FinishedAt time.Time
}

const campaignCols = `id, tenant_id, name, mode, audio_id, hunt_group_id, caller_id, time_zone, hours,
	max_concurrent, calls_per_minute, max_attempts, retry_after, ring_timeout, state, cancelled, created_at, started_at, finished_at`

func scanCampaign(row interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var retry, ring, created, started, finished int64
	var cancelled int
	err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.Mode, &c.AudioID, &c.HuntGroupID, &c.CallerID, &c.TimeZone, &c.Hours,
		&c.MaxConcurrent, &c.CallsPerMinute, &c.MaxAttempts, &retry, &ring, &c.State, &cancelled, &created, &started, &finished)
	c.RetryAfter, c.RingTimeout = time.Duration(retry)*time.Second, time.Duration(ring)*time.Second
	c.Cancelled = cancelled == 1
	c.CreatedAt, c.StartedAt, c.FinishedAt = timeOrZero(created), timeOrZero(started), timeOrZero(finished)
	return c, err
}

// CreateCampaign stores a new campaign in the draft state.
func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	c.ID = NewID("cmp")
	c.State = CampaignDraft
	c.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO campaigns(`+campaignCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.ID, c.TenantID, c.Name, c.Mode, c.AudioID, c.HuntGroupID, c.CallerID, c.TimeZone, c.Hours,
		c.MaxConcurrent, c.CallsPerMinute, c.MaxAttempts, int64(c.RetryAfter/time.Second), int64(c.RingTimeout/time.Second),
		c.State, 0, c.CreatedAt.Unix(), 0, 0)
	if isForeignKey(err) {
		return Campaign{}, ErrNotFound
	}
	return c, err
}

// Campaign returns one campaign of a tenant.
func (s *Store) Campaign(ctx context.Context, tenantID, id string) (Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, ErrNotFound
	}
	return c, err
}

// Campaigns lists a tenant's campaigns, oldest first.
func (s *Store) Campaigns(ctx context.Context, tenantID string) ([]Campaign, error) {
	return collect(scanCampaign)(s.r.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE tenant_id = ? ORDER BY created_at, id`, tenantID))
}

// RunningCampaigns lists every tenant's running campaigns: what the
// scheduler dials, and what it takes up again after a restart.
func (s *Store) RunningCampaigns(ctx context.Context) ([]Campaign, error) {
	return collect(scanCampaign)(s.r.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE state = ? ORDER BY created_at, id`, CampaignRunning))
}

// SetCampaignState moves a campaign to state to, if it is in one of the
// states from (ErrConflict otherwise): start, pause, resume, cancel and
// the end of its contacts race with one another. Starting sets
// StartedAt, finishing FinishedAt (and Cancelled when cancelled).
func (s *Store) SetCampaignState(ctx context.Context, tenantID, id string, from []string, to string, cancelled bool, now time.Time) error {
	q := `UPDATE campaigns SET state = ?`
	args := []any{to}
	switch to {
	case CampaignRunning:
		q += `, started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END`
		args = append(args, now.Unix())
	case CampaignFinished:
		c := 0
		if cancelled {
			c = 1
		}
		q += `, finished_at = ?, cancelled = ?`
		args = append(args, now.Unix(), c)
	}
	q += ` WHERE tenant_id = ? AND id = ? AND state IN (?` + strings.Repeat(",?", len(from)-1) + `)`
	args = append(args, tenantID, id)
	for _, f := range from {
		args = append(args, f)
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := s.Campaign(ctx, tenantID, id); err != nil {
		return err
	}
	return ErrConflict
}
