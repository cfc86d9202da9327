package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Destination types of a number, a hunt group's overflow and a flow's end.
const (
	DestUser      = "user"
	DestHuntGroup = "hunt_group"
	DestCallFlow  = "call_flow"
	DestVoicemail = "voicemail" // ID is the box's owner: a full licence or a hunt group
	DestExternal  = "external"
)

// Destination is where a call goes: ID names a user, hunt group, call flow
// or voicemail box of the same tenant; Number is an external E.164 number.
type Destination struct {
	Type, ID, Number string
}

// Number is a public number (DID) of a tenant.
type Number struct {
	ID, TenantID string
	E164         string
	Destination  Destination
	CreatedAt    time.Time
}

const numberCols = `id, tenant_id, e164, dest_type, dest_id, dest_number, created_at`

func scanNumber(row interface{ Scan(...any) error }) (Number, error) {
	var n Number
	var created int64
	err := row.Scan(&n.ID, &n.TenantID, &n.E164, &n.Destination.Type, &n.Destination.ID, &n.Destination.Number, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Number{}, ErrNotFound
	}
	n.CreatedAt = timeOrZero(created)
	return n, err
}

// CreateNumber gives a tenant a number. A number held by any tenant
// (itself included) is ErrConflict; the caller has checked the destination.
func (s *Store) CreateNumber(ctx context.Context, n Number) (Number, error) {
	if n.ID == "" {
		n.ID = NewID("num")
	}
	n.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO numbers(id, tenant_id, e164, dest_type, dest_id, dest_number, created_at) VALUES (?,?,?,?,?,?,?)`,
		n.ID, n.TenantID, n.E164, n.Destination.Type, n.Destination.ID, n.Destination.Number, n.CreatedAt.Unix())
	switch {
	case isUnique(err):
		return Number{}, fmt.Errorf("number %s: %w", n.E164, ErrConflict)
	case isForeignKey(err):
		return Number{}, ErrNotFound
	}
	return n, err
}

// Number returns a number of a tenant.
func (s *Store) Number(ctx context.Context, tenantID, id string) (Number, error) {
	return scanNumber(s.r.QueryRowContext(ctx, `SELECT `+numberCols+` FROM numbers WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// NumberByE164 returns the number e164 ("+3221234567") whichever tenant
// holds it: the routing of carrier calls starts here.
func (s *Store) NumberByE164(ctx context.Context, e164 string) (Number, error) {
	return scanNumber(s.r.QueryRowContext(ctx, `SELECT `+numberCols+` FROM numbers WHERE e164 = ?`, e164))
}

// Numbers lists a tenant's numbers in E.164 order.
func (s *Store) Numbers(ctx context.Context, tenantID string) ([]Number, error) {
	return collect(scanNumber)(s.r.QueryContext(ctx, `SELECT `+numberCols+` FROM numbers WHERE tenant_id = ? ORDER BY e164`, tenantID))
}

// SetNumberDestination changes where a number leads.
func (s *Store) SetNumberDestination(ctx context.Context, tenantID, id string, d Destination) error {
	res, err := s.w.ExecContext(ctx, `UPDATE numbers SET dest_type=?, dest_id=?, dest_number=? WHERE tenant_id=? AND id=?`,
		d.Type, d.ID, d.Number, tenantID, id)
	return affected(res, err)
}

// DeleteNumber releases a number; users who showed it as caller id go back
// to the default.
func (s *Store) DeleteNumber(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// The month it ends in is still billed for it (CountInventory).
		if _, err := tx.ExecContext(ctx, `INSERT INTO terminations(tenant_id, kind, ref_id, created_at, ended_at)
			SELECT tenant_id, 'number', id, created_at, ? FROM numbers WHERE tenant_id=? AND id=?
			ON CONFLICT (kind, ref_id) DO NOTHING`, time.Now().Unix(), tenantID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM numbers WHERE tenant_id=? AND id=?`, tenantID, id)
		return affected(res, err)
	})
}

// NumbersTo lists the tenant's numbers leading to a destination (type, id).
func (s *Store) NumbersTo(ctx context.Context, tenantID, destType, destID string) ([]Number, error) {
	return collect(scanNumber)(s.r.QueryContext(ctx, `SELECT `+numberCols+` FROM numbers WHERE tenant_id = ? AND dest_type = ? AND dest_id = ? ORDER BY e164`,
		tenantID, destType, destID))
}

// SetUserCallerID makes a number of the tenant the user's outgoing caller
// id; numberID "" returns to the default. ErrNotFound when the user or the
// number is not the tenant's.
func (s *Store) SetUserCallerID(ctx context.Context, tenantID, userID, numberID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=?`, tenantID, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %q: %w", userID, ErrNotFound)
		}
		if numberID == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM user_caller_ids WHERE user_id=?`, userID)
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM numbers WHERE tenant_id=? AND id=?`, tenantID, numberID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("number %q: %w", numberID, ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_caller_ids(user_id, number_id) VALUES (?,?)
			ON CONFLICT(user_id) DO UPDATE SET number_id = excluded.number_id`, userID, numberID)
		return err
	})
}

// UserCallerID returns the number a user chose as outgoing caller id, or
// ErrNotFound when they chose none.
func (s *Store) UserCallerID(ctx context.Context, tenantID, userID string) (Number, error) {
	return scanNumber(s.r.QueryRowContext(ctx, `SELECT n.id, n.tenant_id, n.e164, n.dest_type, n.dest_id, n.dest_number, n.created_at
		FROM user_caller_ids c JOIN numbers n ON n.id = c.number_id WHERE c.user_id = ? AND n.tenant_id = ?`, userID, tenantID))
}

// UserCallerIDs maps each user of the tenant who chose a caller id to the
// id of that number.
func (s *Store) UserCallerIDs(ctx context.Context, tenantID string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.user_id, c.number_id FROM user_caller_ids c JOIN numbers n ON n.id = c.number_id WHERE n.tenant_id = ?`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, n string
		if err := rows.Scan(&u, &n); err != nil {
			return nil, err
		}
		out[u] = n
	}
	return out, rows.Err()
}
