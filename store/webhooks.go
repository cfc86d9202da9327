package store

import (
	"context"
	"time"
)

// WebhookDelivery is an event waiting to be posted to its tenant's
// webhook. It is kept until delivered or given up, so that a restart
// does not lose it; NextAt is when it is next tried.
type WebhookDelivery struct {
	ID, TenantID, Event string
	Body                []byte
	Attempts            int
	NextAt              time.Time
	LastError           string
	CreatedAt           time.Time
}

// EnqueueWebhook stores a delivery; ID and CreatedAt are filled in.
func (s *Store) EnqueueWebhook(ctx context.Context, d WebhookDelivery) (WebhookDelivery, error) {
	if d.ID == "" {
		d.ID = NewID("whd")
	}
	d.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	d.NextAt = d.NextAt.UTC().Truncate(time.Millisecond)
	_, err := s.w.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, tenant_id, event, body, attempts, next_at, last_error, created_at)
		VALUES (?,?,?,?,?,?,?,?)`, d.ID, d.TenantID, d.Event, string(d.Body), d.Attempts, d.NextAt.UnixMilli(), d.LastError, d.CreatedAt.UnixMilli())
	if isForeignKey(err) {
		return WebhookDelivery{}, ErrNotFound
	}
	return d, err
}

// DueWebhooks lists up to limit deliveries due at now, oldest due first.
func (s *Store) DueWebhooks(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error) {
	return collect(scanWebhookDelivery)(s.r.QueryContext(ctx, `SELECT id, tenant_id, event, body, attempts, next_at, last_error, created_at
		FROM webhook_deliveries WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`, now.UnixMilli(), limit))
}

// NextWebhookAt is when the earliest pending delivery is due (ok false
// when none is pending).
func (s *Store) NextWebhookAt(ctx context.Context) (at time.Time, ok bool, err error) {
	var ms *int64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(next_at) FROM webhook_deliveries`).Scan(&ms); err != nil || ms == nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(*ms).UTC(), true, nil
}

func scanWebhookDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var body string
	var next, created int64
	err := row.Scan(&d.ID, &d.TenantID, &d.Event, &body, &d.Attempts, &next, &d.LastError, &created)
	d.Body = []byte(body)
	d.NextAt = time.UnixMilli(next).UTC()
	d.CreatedAt = time.UnixMilli(created).UTC()
	return d, err
}

// ClaimWebhook takes a due delivery for one attempt: it moves its NextAt
// from d.NextAt to until, and reports false when another sender (another
// node) moved it first.
func (s *Store) ClaimWebhook(ctx context.Context, d WebhookDelivery, until time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_deliveries SET next_at = ? WHERE id = ? AND next_at = ?`,
		until.UnixMilli(), d.ID, d.NextAt.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetryWebhook records a failed attempt: the count, why, and when next.
func (s *Store) RetryWebhook(ctx context.Context, id string, attempts int, next time.Time, lastError string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?`,
		attempts, next.UnixMilli(), lastError, id)
	return affected(res, err)
}

// DeleteWebhook removes a delivery: delivered, or given up.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id = ?`, id)
	return affected(res, err)
}
