package store

import (
	"context"
	"database/sql"
	"time"
)

// Results of a campaign's contacts (CampaignContact.Status). Pending,
// busy, no answer and failed are tried again while attempts remain;
// the others are final.
const (
	ContactPending  = "pending"
	ContactDialling = "dialling" // a call is up
	ContactAnswered = "answered"
	ContactBusy     = "busy"
	ContactNoAnswer = "no_answer"
	ContactFailed   = "failed"
	ContactOptedOut = "opted_out" // pressed the opt-out key
	ContactSkipped  = "skipped"   // on a do-not-call list at dial time
)

// retryable is the SQL list of the statuses a contact is dialled in.
const retryable = `('pending','busy','no_answer','failed')`

// CampaignContact is one number of a campaign and what became of it.
type CampaignContact struct {
	CampaignID string
	Position   int // order of upload, from 1
	Number     string
	Name       string
	Fields     string // the CSV's other columns, as JSON
	Status     string
	Attempts   int
	NextAt     time.Time // not dialled before
	LastAt     time.Time // last attempt
	Duration   time.Duration
	Agent      string // agents mode: the user who took the call
}

const contactCols = `campaign_id, position, number, name, fields, status, attempts, next_at, last_at, duration, agent`

func scanCampaignContact(row interface{ Scan(...any) error }) (CampaignContact, error) {
	var c CampaignContact
	var next, last, dur int64
	err := row.Scan(&c.CampaignID, &c.Position, &c.Number, &c.Name, &c.Fields, &c.Status, &c.Attempts, &next, &last, &dur, &c.Agent)
	c.NextAt, c.LastAt, c.Duration = timeOrZero(next), timeOrZero(last), time.Duration(dur)*time.Second
	return c, err
}

// AddCampaignContacts appends contacts to a campaign, all or none, after
// those it has. A number it already has is ErrConflict.
func (s *Store) AddCampaignContacts(ctx context.Context, campaignID string, cs []CampaignContact) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var last int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM campaign_contacts WHERE campaign_id = ?`, campaignID).Scan(&last); err != nil {
			return err
		}
		for i, c := range cs {
			_, err := tx.ExecContext(ctx, `INSERT INTO campaign_contacts(campaign_id, position, number, name, fields, status) VALUES (?,?,?,?,?,?)`,
				campaignID, last+i+1, c.Number, c.Name, c.Fields, ContactPending)
			switch {
			case isUnique(err):
				return ErrConflict
			case isForeignKey(err):
				return ErrNotFound
			case err != nil:
				return err
			}
		}
		return nil
	})
}

// CampaignContacts lists a campaign's contacts in upload order.
func (s *Store) CampaignContacts(ctx context.Context, campaignID string) ([]CampaignContact, error) {
	return collect(scanCampaignContact)(s.r.QueryContext(ctx, `SELECT `+contactCols+` FROM campaign_contacts WHERE campaign_id = ? ORDER BY position`, campaignID))
}

// CampaignProgress counts a campaign's contacts by status.
func (s *Store) CampaignProgress(ctx context.Context, campaignID string) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM campaign_contacts WHERE campaign_id = ? GROUP BY status`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// DueCampaignContacts lists up to limit contacts to dial at now: not yet
// final, with attempts left, and past their retry time; oldest due first.
func (s *Store) DueCampaignContacts(ctx context.Context, campaignID string, maxAttempts int, now time.Time, limit int) ([]CampaignContact, error) {
	return collect(scanCampaignContact)(s.r.QueryContext(ctx, `SELECT `+contactCols+` FROM campaign_contacts
		WHERE campaign_id = ? AND status IN `+retryable+` AND attempts < ? AND next_at <= ?
		ORDER BY next_at, position LIMIT ?`, campaignID, maxAttempts, now.Unix(), limit))
}

// NextCampaignContactAt is when the campaign's next retry falls due; ok
// is false when no contact is left to dial (the campaign is done once
// none is being dialled either).
func (s *Store) NextCampaignContactAt(ctx context.Context, campaignID string, maxAttempts int) (at time.Time, ok bool, err error) {
	var next *int64
	err = s.r.QueryRowContext(ctx, `SELECT MIN(next_at) FROM campaign_contacts
		WHERE campaign_id = ? AND status IN `+retryable+` AND attempts < ?`, campaignID, maxAttempts).Scan(&next)
	if err != nil || next == nil {
		return time.Time{}, false, err
	}
	return time.Unix(*next, 0).UTC(), true, nil
}

// ClaimCampaignContact marks a due contact as being dialled and counts
// the attempt; false when it is no longer due (another pass took it).
func (s *Store) ClaimCampaignContact(ctx context.Context, campaignID string, position int, now time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE campaign_contacts SET status = ?, attempts = attempts + 1, last_at = ?
		WHERE campaign_id = ? AND position = ? AND status IN `+retryable, ContactDialling, now.Unix(), campaignID, position)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SkipCampaignContact gives a contact a final status without a dial (a
// do-not-call hit found at dial time).
func (s *Store) SkipCampaignContact(ctx context.Context, campaignID string, position int, status string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE campaign_contacts SET status = ? WHERE campaign_id = ? AND position = ?`, status, campaignID, position)
	return err
}

// FinishCampaignAttempt records how an attempt ended: c's Status,
// NextAt (for a retry), Duration and Agent.
func (s *Store) FinishCampaignAttempt(ctx context.Context, c CampaignContact) error {
	_, err := s.w.ExecContext(ctx, `UPDATE campaign_contacts SET status = ?, next_at = ?, duration = ?, agent = ?
		WHERE campaign_id = ? AND position = ?`, c.Status, unixOrZero(c.NextAt), int64(c.Duration/time.Second), c.Agent, c.CampaignID, c.Position)
	return err
}

// RecoverCampaignAttempts counts the attempts a stopped node left under
// way as failed, due at once, so that they are retried if attempts
// remain: the calls ended with the node.
func (s *Store) RecoverCampaignAttempts(ctx context.Context) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE campaign_contacts SET status = ?, next_at = 0 WHERE status = ?`, ContactFailed, ContactDialling)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
