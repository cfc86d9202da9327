package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// VoicemailBox is a mailbox: a full licence's (UserID) or a hunt group's
// (GroupID). Its messages and greetings are files kept beside the
// database; the store keeps their paths.
type VoicemailBox struct {
	ID, TenantID    string
	UserID, GroupID string // exactly one is set
	// Language of the box's prompts; "" means the user's, else the
	// tenant's.
	Language string
	// PINHash is the PIN as the voicemail feature hashes it ("" = none
	// set: only the owner's own devices reach the box).
	PINHash string
	// Email receives each message ("" = the user's address); EmailNotify
	// turns the mails off.
	Email       string
	EmailNotify bool
	MaxSeconds  int // longest message (default 180)
	CreatedAt   time.Time
}

// Greeting kinds of a box.
const (
	GreetingUnavailable = "unavailable"
	GreetingBusy        = "busy"
	GreetingTemporary   = "temporary" // overrides the others while set
	GreetingName        = "name"      // the recorded name
)

// VoicemailMessage is one message left in a box.
type VoicemailMessage struct {
	ID, TenantID, BoxID string
	Caller, CallerName  string
	ReceivedAt          time.Time
	Duration            time.Duration
	Read                bool
	Path                string // the WAV file
}

const boxCols = `id, tenant_id, COALESCE(user_id,''), COALESCE(group_id,''), language, pin_hash, email, email_notify, max_seconds, created_at`

func scanBox(row interface{ Scan(...any) error }) (VoicemailBox, error) {
	var b VoicemailBox
	var notify int
	var created int64
	err := row.Scan(&b.ID, &b.TenantID, &b.UserID, &b.GroupID, &b.Language, &b.PINHash, &b.Email, &notify, &b.MaxSeconds, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return VoicemailBox{}, ErrNotFound
	}
	b.EmailNotify = notify == 1
	b.CreatedAt = timeOrZero(created)
	return b, err
}

// UserVoicemailBox returns the box of a full licence of the tenant,
// creating it the first time it is asked for (every full licence has one).
// A light licence, or a user of another tenant, is ErrNotFound.
func (s *Store) UserVoicemailBox(ctx context.Context, tenantID, userID string) (VoicemailBox, error) {
	return s.ensureBox(ctx, tenantID, "user_id", userID,
		`SELECT 1 FROM users WHERE tenant_id=? AND id=? AND licence='full'`)
}

// GroupVoicemailBox returns the box of a hunt group of the tenant, creating
// it the first time.
func (s *Store) GroupVoicemailBox(ctx context.Context, tenantID, groupID string) (VoicemailBox, error) {
	return s.ensureBox(ctx, tenantID, "group_id", groupID, `SELECT 1 FROM hunt_groups WHERE tenant_id=? AND id=?`)
}

// ensureBox reads the box whose column owner (a constant of ours) is id,
// and creates it if exists finds the owner in the tenant.
func (s *Store) ensureBox(ctx context.Context, tenantID, owner, id, exists string) (VoicemailBox, error) {
	q := `SELECT ` + boxCols + ` FROM voicemail_boxes WHERE tenant_id=? AND ` + owner + `=?`
	b, err := scanBox(s.r.QueryRowContext(ctx, q, tenantID, id))
	if !errors.Is(err, ErrNotFound) {
		return b, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, exists, tenantID, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO voicemail_boxes(id, tenant_id, `+owner+`, created_at) VALUES (?,?,?,?)
			ON CONFLICT (`+owner+`) DO NOTHING`, NewID("vmb"), tenantID, id, time.Now().Unix())
		return err
	})
	if err != nil {
		return VoicemailBox{}, err
	}
	return scanBox(s.w.QueryRowContext(ctx, q, tenantID, id))
}

// VoicemailBoxByID returns a box of the tenant.
func (s *Store) VoicemailBoxByID(ctx context.Context, tenantID, id string) (VoicemailBox, error) {
	return scanBox(s.r.QueryRowContext(ctx, `SELECT `+boxCols+` FROM voicemail_boxes WHERE tenant_id=? AND id=?`, tenantID, id))
}

// VoicemailBoxes lists every box of every tenant (start-up tasks).
func (s *Store) VoicemailBoxes(ctx context.Context) ([]VoicemailBox, error) {
	return collect(scanBox)(s.r.QueryContext(ctx, `SELECT `+boxCols+` FROM voicemail_boxes ORDER BY id`))
}

// SetVoicemailPIN stores the hash of a box's PIN ("" removes it).
func (s *Store) SetVoicemailPIN(ctx context.Context, tenantID, boxID, hash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE voicemail_boxes SET pin_hash=? WHERE tenant_id=? AND id=?`, hash, tenantID, boxID)
	return affected(res, err)
}

// SetVoicemailEmail sets where a box's messages are mailed ("" = the
// user's address) and whether they are.
func (s *Store) SetVoicemailEmail(ctx context.Context, tenantID, boxID, email string, notify bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE voicemail_boxes SET email=?, email_notify=? WHERE tenant_id=? AND id=?`,
		email, b2i(notify), tenantID, boxID)
	return affected(res, err)
}

// VoicemailLanguage is the language of a box's prompts: the box's own,
// else its user's, else its tenant's ("" when none says).
func (s *Store) VoicemailLanguage(ctx context.Context, b VoicemailBox) (string, error) {
	if b.Language != "" {
		return b.Language, nil
	}
	var user, tenant string
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT language FROM users WHERE id=? AND tenant_id=?), ''), language
		FROM tenants WHERE id=?`, b.UserID, b.TenantID, b.TenantID).Scan(&user, &tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if user != "" {
		return user, err
	}
	return tenant, err
}

// SetVoicemailGreeting records the file of a box's greeting of a kind.
func (s *Store) SetVoicemailGreeting(ctx context.Context, boxID, kind, path string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO voicemail_greetings(box_id, kind, path, updated_at) VALUES (?,?,?,?)
		ON CONFLICT (box_id, kind) DO UPDATE SET path=excluded.path, updated_at=excluded.updated_at`,
		boxID, kind, path, time.Now().Unix())
	if isForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// DeleteVoicemailGreeting forgets a greeting; it returns its file's path.
func (s *Store) DeleteVoicemailGreeting(ctx context.Context, boxID, kind string) (string, error) {
	var path string
	err := s.w.QueryRowContext(ctx, `DELETE FROM voicemail_greetings WHERE box_id=? AND kind=? RETURNING path`, boxID, kind).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return path, err
}

// VoicemailGreetings returns a box's greetings' files by kind.
func (s *Store) VoicemailGreetings(ctx context.Context, boxID string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kind, path FROM voicemail_greetings WHERE box_id=?`, boxID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, p string
		if err := rows.Scan(&k, &p); err != nil {
			return nil, err
		}
		out[k] = p
	}
	return out, rows.Err()
}

const vmMsgCols = `id, tenant_id, box_id, caller, caller_name, received_at, duration_ms, is_read, path`

func scanVMMessage(row interface{ Scan(...any) error }) (VoicemailMessage, error) {
	var m VoicemailMessage
	var at, ms int64
	var read int
	err := row.Scan(&m.ID, &m.TenantID, &m.BoxID, &m.Caller, &m.CallerName, &at, &ms, &read, &m.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return VoicemailMessage{}, ErrNotFound
	}
	m.ReceivedAt = time.UnixMilli(at).UTC()
	m.Duration = time.Duration(ms) * time.Millisecond
	m.Read = read == 1
	return m, err
}

// NewVoicemailMessageID returns the id of a message about to be recorded:
// its file is named after it.
func NewVoicemailMessageID() string { return NewID("vm") }

// CreateVoicemailMessage records a message whose file is complete. A
// message whose path is already recorded is not recorded twice (recovery
// after a crash may meet a file twice): the call succeeds and created is
// false.
func (s *Store) CreateVoicemailMessage(ctx context.Context, m VoicemailMessage) (created bool, err error) {
	if m.ID == "" {
		m.ID = NewVoicemailMessageID()
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO voicemail_messages(id, tenant_id, box_id, caller, caller_name, received_at, duration_ms, is_read, path)
		VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (path) DO NOTHING`,
		m.ID, m.TenantID, m.BoxID, m.Caller, m.CallerName, m.ReceivedAt.UnixMilli(), m.Duration.Milliseconds(), b2i(m.Read), m.Path)
	if isForeignKey(err) {
		return false, ErrNotFound
	}
	if isUnique(err) {
		return false, ErrConflict
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// VoicemailMessages lists a box's messages, oldest first.
func (s *Store) VoicemailMessages(ctx context.Context, tenantID, boxID string) ([]VoicemailMessage, error) {
	return collect(scanVMMessage)(s.r.QueryContext(ctx, `SELECT `+vmMsgCols+` FROM voicemail_messages
		WHERE tenant_id=? AND box_id=? ORDER BY received_at, id`, tenantID, boxID))
}

// VoicemailMessage returns one message of a box.
func (s *Store) VoicemailMessage(ctx context.Context, tenantID, boxID, id string) (VoicemailMessage, error) {
	return scanVMMessage(s.r.QueryRowContext(ctx, `SELECT `+vmMsgCols+` FROM voicemail_messages
		WHERE tenant_id=? AND box_id=? AND id=?`, tenantID, boxID, id))
}

// MarkVoicemailRead marks a message read (saved) or new again.
func (s *Store) MarkVoicemailRead(ctx context.Context, tenantID, boxID, id string, read bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE voicemail_messages SET is_read=? WHERE tenant_id=? AND box_id=? AND id=?`,
		b2i(read), tenantID, boxID, id)
	return affected(res, err)
}

// DeleteVoicemailMessage forgets a message and returns its file's path
// (the caller removes the file).
func (s *Store) DeleteVoicemailMessage(ctx context.Context, tenantID, boxID, id string) (string, error) {
	var path string
	err := s.w.QueryRowContext(ctx, `DELETE FROM voicemail_messages WHERE tenant_id=? AND box_id=? AND id=? RETURNING path`,
		tenantID, boxID, id).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return path, err
}

// VoicemailCounts returns how many new (unread) and old messages a box
// holds.
func (s *Store) VoicemailCounts(ctx context.Context, tenantID, boxID string) (newMsgs, oldMsgs int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		COUNT(CASE WHEN is_read = 1 THEN NULL ELSE 1 END), COUNT(CASE WHEN is_read = 1 THEN 1 END)
		FROM voicemail_messages WHERE tenant_id=? AND box_id=?`, tenantID, boxID).Scan(&newMsgs, &oldMsgs)
	return newMsgs, oldMsgs, err
}

// UserVoicemailCounts returns the counts of a licence's box without
// making the box (none yet: no messages), for the REGISTER and SUBSCRIBE
// paths, which must not write.
func (s *Store) UserVoicemailCounts(ctx context.Context, tenantID, userID string) (newMsgs, oldMsgs int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		COUNT(CASE WHEN m.is_read = 1 THEN NULL ELSE 1 END), COUNT(CASE WHEN m.is_read = 1 THEN 1 END)
		FROM voicemail_messages m JOIN voicemail_boxes b ON b.id = m.box_id
		WHERE b.tenant_id=? AND b.user_id=?`, tenantID, userID).Scan(&newMsgs, &oldMsgs)
	return newMsgs, oldMsgs, err
}
