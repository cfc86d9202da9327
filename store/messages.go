package store

import (
	"context"
	"time"
)

// PendingMessage is an instant message (SIP MESSAGE) waiting for its
// recipient to register a device.
type PendingMessage struct {
	ID, TenantID, UserID string
	Sender               string // the sender's SIP URI
	SenderName           string
	ContentType          string
	Body                 []byte
	CreatedAt, ExpiresAt time.Time
}

// AddPendingMessage keeps a message for a licence.
func (s *Store) AddPendingMessage(ctx context.Context, m PendingMessage) (PendingMessage, error) {
	m.ID = NewID("msg")
	if m.Body == nil {
		m.Body = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO pending_messages(id, tenant_id, user_id, sender, sender_name, content_type, body, created_at, expires_at)
		VALUES (?,?,?,?,?,?,?,?,?)`, m.ID, m.TenantID, m.UserID, m.Sender, m.SenderName, m.ContentType, m.Body, m.CreatedAt.UnixMilli(), m.ExpiresAt.UnixMilli())
	return m, err
}

// PendingMessages lists a licence's unexpired messages, oldest first.
func (s *Store) PendingMessages(ctx context.Context, userID string, now time.Time) ([]PendingMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, tenant_id, user_id, sender, sender_name, content_type, body, created_at, expires_at
		FROM pending_messages WHERE user_id = ? AND expires_at > ? ORDER BY created_at, id`, userID, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingMessage
	for rows.Next() {
		var m PendingMessage
		var created, expires int64
		if err := rows.Scan(&m.ID, &m.TenantID, &m.UserID, &m.Sender, &m.SenderName, &m.ContentType, &m.Body, &created, &expires); err != nil {
			return nil, err
		}
		m.CreatedAt, m.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeletePendingMessage removes a delivered message; it reports whether it
// was still there (another node may have delivered it first).
func (s *Store) DeletePendingMessage(ctx context.Context, id string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM pending_messages WHERE id = ?`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteExpiredMessages removes the messages that expired before now.
func (s *Store) DeleteExpiredMessages(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM pending_messages WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
