package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Licence kinds.
const (
	LicenceFull  = "full"
	LicenceLight = "light"
)

// Device limits per licence kind.
const (
	MaxDevicesFull  = 5
	MaxDevicesLight = 1
)

// User is a licence.
type User struct {
	ID, TenantID               string
	FirstName, LastName, Email string
	Language                   string
	Licence                    string // LicenceFull or LicenceLight
	Extension                  string // empty for light licences
	Status                     string // "active" or "suspended"
	SuspendedUntil             time.Time
	SiteID                     string
	DND                        bool
	ForwardAlways, ForwardBusy string
	ForwardNoAnswer            string
	NoAnswerSeconds            int
	// CLIR withholds the user's number on calls to the public network
	// (Privacy: id); RejectAnonymous refuses calls whose caller withholds
	// theirs (433); BarInternational bars the user's calls abroad.
	CLIR, RejectAnonymous, BarInternational bool
	CreatedAt                               time.Time
}

// Active reports whether the licence may register and call at time now: an
// expired suspension counts as lifted even before the sweeper has run.
func (u User) Active(now time.Time) bool {
	return u.Status == "active" || (u.Status == "suspended" && !u.SuspendedUntil.IsZero() && !now.Before(u.SuspendedUntil))
}

// MaxDevices is the device limit of the user's licence.
func (u User) MaxDevices() int {
	if u.Licence == LicenceLight {
		return MaxDevicesLight
	}
	return MaxDevicesFull
}

const userCols = `id, tenant_id, first_name, last_name, email, language, licence, COALESCE(extension,''), status, suspended_until,
	COALESCE(site_id,''), dnd, forward_always, forward_busy, forward_no_answer, no_answer_seconds, clir, reject_anonymous, bar_international, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var until, created int64
	var dnd, clir, rejectAnon, barIntl int
	err := row.Scan(&u.ID, &u.TenantID, &u.FirstName, &u.LastName, &u.Email, &u.Language, &u.Licence, &u.Extension, &u.Status, &until,
		&u.SiteID, &dnd, &u.ForwardAlways, &u.ForwardBusy, &u.ForwardNoAnswer, &u.NoAnswerSeconds, &clir, &rejectAnon, &barIntl, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	u.SuspendedUntil = timeOrZero(until)
	u.CreatedAt = timeOrZero(created)
	u.DND = dnd != 0
	u.CLIR, u.RejectAnonymous, u.BarInternational = clir != 0, rejectAnon != 0, barIntl != 0
	return u, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateUser inserts a licence. A duplicate extension in the tenant is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	if u.ID == "" {
		u.ID = NewID("usr")
	}
	if u.Status == "" {
		u.Status = "active"
	}
	if u.Language == "" {
		u.Language = "nl"
	}
	if u.NoAnswerSeconds == 0 {
		u.NoAnswerSeconds = 20
	}
	u.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO users(id, tenant_id, first_name, last_name, email, language, licence, extension, status, suspended_until,
		site_id, dnd, forward_always, forward_busy, forward_no_answer, no_answer_seconds, clir, reject_anonymous, bar_international, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		u.ID, u.TenantID, u.FirstName, u.LastName, u.Email, u.Language, u.Licence, nullStr(u.Extension), u.Status, unixOrZero(u.SuspendedUntil),
		nullStr(u.SiteID), b2i(u.DND), u.ForwardAlways, u.ForwardBusy, u.ForwardNoAnswer, u.NoAnswerSeconds,
		b2i(u.CLIR), b2i(u.RejectAnonymous), b2i(u.BarInternational), u.CreatedAt.Unix())
	switch {
	case isUnique(err):
		return User{}, fmt.Errorf("extension %q: %w", u.Extension, ErrConflict)
	case isForeignKey(err):
		return User{}, ErrNotFound
	}
	return u, err
}

// User returns a licence of a tenant.
func (s *Store) User(ctx context.Context, tenantID, id string) (User, error) {
	return s.cachedUser(ctx, tenantID, id)
}

// UserByExtension returns the full licence with this extension in a tenant.
func (s *Store) UserByExtension(ctx context.Context, tenantID, ext string) (User, error) {
	return s.cachedUserByExtension(ctx, tenantID, ext)
}

// Users lists a tenant's licences.
func (s *Store) Users(ctx context.Context, tenantID string) ([]User, error) {
	return collect(scanUser)(s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? ORDER BY created_at, id`, tenantID))
}

// UpdateUser replaces the editable fields of a licence (names, e-mail,
// language, extension, site, forwarding, do-not-disturb, caller id privacy
// and barring). Licence kind and status change through their own methods.
func (s *Store) UpdateUser(ctx context.Context, u User) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET first_name=?, last_name=?, email=?, language=?, extension=?, site_id=?, dnd=?,
		forward_always=?, forward_busy=?, forward_no_answer=?, no_answer_seconds=?, clir=?, reject_anonymous=?, bar_international=?
		WHERE tenant_id=? AND id=?`,
		u.FirstName, u.LastName, u.Email, u.Language, nullStr(u.Extension), nullStr(u.SiteID), b2i(u.DND),
		u.ForwardAlways, u.ForwardBusy, u.ForwardNoAnswer, u.NoAnswerSeconds, b2i(u.CLIR), b2i(u.RejectAnonymous), b2i(u.BarInternational),
		u.TenantID, u.ID)
	if isUnique(err) {
		return fmt.Errorf("extension %q: %w", u.Extension, ErrConflict)
	}
	return affected(res, err)
}

// otherActive counts the active licences of the tenant other than userID.
func otherActive(ctx context.Context, tx *sql.Tx, tenantID, userID string, now time.Time) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ? AND id <> ? AND
		(status = 'active' OR (status = 'suspended' AND suspended_until > 0 AND suspended_until <= ?))`, tenantID, userID, now.Unix()).Scan(&n)
	return n, err
}

// SuspendUser suspends a licence until the given time and drops its bindings.
// The last active licence of a tenant cannot be suspended (ErrLastActive).
func (s *Store) SuspendUser(ctx context.Context, tenantID, id string, until time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, err := otherActive(ctx, tx, tenantID, id, time.Now())
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrLastActive
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET status='suspended', suspended_until=? WHERE tenant_id=? AND id=?`, until.Unix(), tenantID, id)
		if err := affected(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registrations WHERE device_id IN (SELECT id FROM devices WHERE user_id = ?)`, id)
		return err
	})
}

// ReactivateUser lifts a suspension.
func (s *Store) ReactivateUser(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET status='active', suspended_until=0 WHERE tenant_id=? AND id=?`, tenantID, id)
	return affected(res, err)
}

// ReactivateExpired lifts every suspension whose end has passed and returns
// how many licences it reactivated.
func (s *Store) ReactivateExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET status='active', suspended_until=0 WHERE status='suspended' AND suspended_until <= ?`, now.Unix())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TerminateUser erases a licence with its devices, bindings and keys. The
// last active licence of a tenant cannot be terminated (ErrLastActive).
func (s *Store) TerminateUser(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		n, err := otherActive(ctx, tx, tenantID, id, time.Now())
		if err != nil {
			return err
		}
		if n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=?`, tenantID, id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return ErrNotFound
			}
			return ErrLastActive
		}
		// The month it ends in is still billed for it (CountInventory).
		if _, err := tx.ExecContext(ctx, `INSERT INTO terminations(tenant_id, kind, ref_id, created_at, ended_at)
			SELECT tenant_id, licence, id, created_at, ? FROM users WHERE tenant_id=? AND id=?
			ON CONFLICT (kind, ref_id) DO NOTHING`, time.Now().Unix(), tenantID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE tenant_id=? AND id=?`, tenantID, id)
		return affected(res, err)
	})
}

// BLFKey is a busy-lamp key of a user's phones watching a colleague.
type BLFKey struct {
	Position     int
	TargetUserID string
	Label        string
}

// SetBLFKeys replaces the BLF keys of a user. Targets must be full licences of
// the same tenant.
func (s *Store) SetBLFKeys(ctx context.Context, tenantID, userID string, keys []BLFKey) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=?`, tenantID, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blf_keys WHERE user_id=?`, userID); err != nil {
			return err
		}
		for _, k := range keys {
			var ok int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=? AND licence='full'`, tenantID, k.TargetUserID).Scan(&ok); err != nil {
				return err
			}
			if ok == 0 {
				return fmt.Errorf("BLF target %q: %w", k.TargetUserID, ErrNotFound)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO blf_keys(user_id, position, target_user_id, label) VALUES (?,?,?,?)`,
				userID, k.Position, k.TargetUserID, k.Label); err != nil {
				if isUnique(err) {
					return fmt.Errorf("BLF position %d: %w", k.Position, ErrConflict)
				}
				return err
			}
		}
		return nil
	})
}

// BLFKeys lists the BLF keys of a user in position order.
func (s *Store) BLFKeys(ctx context.Context, userID string) ([]BLFKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT position, target_user_id, label FROM blf_keys WHERE user_id=? ORDER BY position`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BLFKey
	for rows.Next() {
		var k BLFKey
		if err := rows.Scan(&k.Position, &k.TargetUserID, &k.Label); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
