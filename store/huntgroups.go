package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Hunt group strategies.
const (
	StrategyRingAll     = "ring_all"
	StrategyLinear      = "linear"
	StrategyRoundRobin  = "round_robin"
	StrategyLongestIdle = "longest_idle"
	StrategyRandom      = "random"
)

// HuntGroup rings a list of colleagues (full licences) by a strategy.
type HuntGroup struct {
	ID, TenantID string
	Name         string
	Extension    string // "" when it has none
	Strategy     string
	Members      []string // user ids, in hunting order
	// MemberTimeout is how long one member rings (linear, round robin,
	// longest idle); Timeout how long the group rings before its overflow
	// (or before the caller queues).
	MemberTimeout, Timeout time.Duration
	Queue                  *Queue // nil: no queue
	Overflow               Destination
	// LastAnsweredMember is the member who last answered (round robin
	// resumes after them); "" before any answer.
	LastAnsweredMember string
	CreatedAt          time.Time
}

// Queue makes callers who find every member busy wait, with hold music.
type Queue struct {
	MaxWait          time.Duration
	Music            string // hold-music class; "" the tenant's default
	AnnouncePosition bool
}

const huntGroupCols = `id, tenant_id, name, COALESCE(extension,''), strategy, member_timeout, timeout, queue, queue_max_wait, queue_music,
	queue_announce_position, overflow_type, overflow_id, overflow_number, last_answered_member, created_at`

func scanHuntGroup(row interface{ Scan(...any) error }) (HuntGroup, error) {
	var g HuntGroup
	var memberTO, to, maxWait, created int64
	var queue, announce int
	var music string
	err := row.Scan(&g.ID, &g.TenantID, &g.Name, &g.Extension, &g.Strategy, &memberTO, &to, &queue, &maxWait, &music,
		&announce, &g.Overflow.Type, &g.Overflow.ID, &g.Overflow.Number, &g.LastAnsweredMember, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return HuntGroup{}, ErrNotFound
	}
	g.MemberTimeout, g.Timeout = time.Duration(memberTO)*time.Second, time.Duration(to)*time.Second
	if queue != 0 {
		g.Queue = &Queue{MaxWait: time.Duration(maxWait) * time.Second, Music: music, AnnouncePosition: announce != 0}
	}
	g.CreatedAt = timeOrZero(created)
	return g, err
}

// ErrExtensionTaken is returned (wrapped in ErrConflict) when an extension
// is a user's or another hunt group's in the tenant.
var ErrExtensionTaken = fmt.Errorf("extension taken: %w", ErrConflict)

// groupWrite checks what a hunt group refers to inside tx: the extension is
// no user's, every member is a full licence of the tenant.
func groupWrite(ctx context.Context, tx *sql.Tx, g HuntGroup) error {
	if g.Extension != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND extension=?`, g.TenantID, g.Extension).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("extension %s is a user's: %w", g.Extension, ErrExtensionTaken)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM hunt_group_members WHERE group_id=?`, g.ID); err != nil {
		return err
	}
	for i, u := range g.Members {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=? AND licence='full'`, g.TenantID, u).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("member %q: %w", u, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hunt_group_members(group_id, user_id, position) VALUES (?,?,?)`, g.ID, u, i); err != nil {
			if isUnique(err) {
				return fmt.Errorf("member %q is listed twice: %w", u, ErrConflict)
			}
			return err
		}
	}
	return nil
}

func queueCols(q *Queue) (on int, maxWait int64, music string, announce int) {
	if q == nil {
		return 0, 0, "", 0
	}
	return 1, int64(q.MaxWait / time.Second), q.Music, b2i(q.AnnouncePosition)
}

// CreateHuntGroup inserts a hunt group with its members. An extension held
// by a user or another group of the tenant is ErrExtensionTaken; a member
// that is not a full licence of the tenant is ErrNotFound.
func (s *Store) CreateHuntGroup(ctx context.Context, g HuntGroup) (HuntGroup, error) {
	if g.ID == "" {
		g.ID = NewID("hg")
	}
	g.CreatedAt = time.Now().UTC().Truncate(time.Second)
	q, maxWait, music, announce := queueCols(g.Queue)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hunt_groups(id, tenant_id, name, extension, strategy, member_timeout, timeout, queue, queue_max_wait,
			queue_music, queue_announce_position, overflow_type, overflow_id, overflow_number, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			g.ID, g.TenantID, g.Name, nullStr(g.Extension), g.Strategy, int64(g.MemberTimeout/time.Second), int64(g.Timeout/time.Second),
			q, maxWait, music, announce, g.Overflow.Type, g.Overflow.ID, g.Overflow.Number, g.CreatedAt.Unix())
		switch {
		case isUnique(err):
			return fmt.Errorf("extension %s is another hunt group's: %w", g.Extension, ErrExtensionTaken)
		case isForeignKey(err):
			return ErrNotFound
		case err != nil:
			return err
		}
		return groupWrite(ctx, tx, g)
	})
	if err != nil {
		return HuntGroup{}, err
	}
	return g, nil
}

// UpdateHuntGroup replaces a group's settings and members (not its
// routing state).
func (s *Store) UpdateHuntGroup(ctx context.Context, g HuntGroup) error {
	q, maxWait, music, announce := queueCols(g.Queue)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hunt_groups SET name=?, extension=?, strategy=?, member_timeout=?, timeout=?, queue=?, queue_max_wait=?,
			queue_music=?, queue_announce_position=?, overflow_type=?, overflow_id=?, overflow_number=? WHERE tenant_id=? AND id=?`,
			g.Name, nullStr(g.Extension), g.Strategy, int64(g.MemberTimeout/time.Second), int64(g.Timeout/time.Second), q, maxWait, music, announce,
			g.Overflow.Type, g.Overflow.ID, g.Overflow.Number, g.TenantID, g.ID)
		if isUnique(err) {
			return fmt.Errorf("extension %s is another hunt group's: %w", g.Extension, ErrExtensionTaken)
		}
		if err := affected(res, err); err != nil {
			return err
		}
		return groupWrite(ctx, tx, g)
	})
}

func (s *Store) groupMembers(ctx context.Context, groupIDs ...string) (map[string][]string, error) {
	if len(groupIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(groupIDs))
	for i, id := range groupIDs {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, `SELECT group_id, user_id FROM hunt_group_members WHERE group_id IN (?`+strings.Repeat(",?", len(groupIDs)-1)+`) ORDER BY group_id, position`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var g, u string
		if err := rows.Scan(&g, &u); err != nil {
			return nil, err
		}
		out[g] = append(out[g], u)
	}
	return out, rows.Err()
}

// HuntGroup returns a hunt group of a tenant with its members in order.
func (s *Store) HuntGroup(ctx context.Context, tenantID, id string) (HuntGroup, error) {
	g, err := scanHuntGroup(s.r.QueryRowContext(ctx, `SELECT `+huntGroupCols+` FROM hunt_groups WHERE tenant_id=? AND id=?`, tenantID, id))
	if err != nil {
		return g, err
	}
	ms, err := s.groupMembers(ctx, g.ID)
	g.Members = ms[g.ID]
	return g, err
}

// HuntGroupByExtension returns the tenant's hunt group with this extension.
func (s *Store) HuntGroupByExtension(ctx context.Context, tenantID, ext string) (HuntGroup, error) {
	return cached(&s.cache, "groupext\x00"+tenantID+"\x00"+ext, huntGroupTables, cloneHuntGroup, func() (HuntGroup, error) {
		return s.huntGroupByExtension(ctx, tenantID, ext)
	})
}

func (s *Store) huntGroupByExtension(ctx context.Context, tenantID, ext string) (HuntGroup, error) {
	g, err := scanHuntGroup(s.r.QueryRowContext(ctx, `SELECT `+huntGroupCols+` FROM hunt_groups WHERE tenant_id=? AND extension=?`, tenantID, ext))
	if err != nil {
		return g, err
	}
	ms, err := s.groupMembers(ctx, g.ID)
	g.Members = ms[g.ID]
	return g, err
}

// HuntGroups lists a tenant's hunt groups.
func (s *Store) HuntGroups(ctx context.Context, tenantID string) ([]HuntGroup, error) {
	gs, err := collect(scanHuntGroup)(s.r.QueryContext(ctx, `SELECT `+huntGroupCols+` FROM hunt_groups WHERE tenant_id=? ORDER BY created_at, id`, tenantID))
	if err != nil || len(gs) == 0 {
		return gs, err
	}
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	ms, err := s.groupMembers(ctx, ids...)
	for i := range gs {
		gs[i].Members = ms[gs[i].ID]
	}
	return gs, err
}

// DeleteHuntGroup removes a hunt group. One that a number, another group's
// overflow or a call flow's current version leads to is ErrConflict: the
// calls reaching it would have nowhere to go.
func (s *Store) DeleteHuntGroup(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := notReferenced(ctx, tx, tenantID, DestHuntGroup, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM hunt_groups WHERE tenant_id=? AND id=?`, tenantID, id)
		return affected(res, err)
	})
}

// notReferenced returns ErrConflict naming what leads to the destination
// (kind, id): a number, a hunt group's overflow, a call flow's current version.
func notReferenced(ctx context.Context, tx *sql.Tx, tenantID, kind, id string) error {
	var what, ref string
	err := tx.QueryRowContext(ctx, `SELECT 'number', e164 FROM numbers WHERE tenant_id=? AND dest_type=? AND dest_id=?
		UNION ALL SELECT 'hunt group', id FROM hunt_groups WHERE tenant_id=? AND overflow_type=? AND overflow_id=?
		UNION ALL SELECT 'call flow', f.id FROM call_flow_refs r JOIN call_flows f ON f.id = r.flow_id WHERE f.tenant_id=? AND r.kind=? AND r.ref_id=?
		LIMIT 1`, tenantID, kind, id, tenantID, kind, id, tenantID, kind, id).Scan(&what, &ref)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%s %s leads to it: %w", what, ref, ErrConflict)
}

// HuntGroupAnswered records the member who answered a call of the group
// (round robin resumes after them).
func (s *Store) HuntGroupAnswered(ctx context.Context, groupID, userID string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE hunt_groups SET last_answered_member=? WHERE id=?`, userID, groupID)
	return affected(res, err)
}

// UserCallEnded records when a user's last call ended (longest-idle hunting).
func (s *Store) UserCallEnded(ctx context.Context, userID string, at time.Time) error {
	err := s.group.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_call_state(user_id, last_call_ended_at) VALUES (?,?)
		ON CONFLICT(user_id) DO UPDATE SET last_call_ended_at = CASE WHEN user_call_state.last_call_ended_at > excluded.last_call_ended_at THEN user_call_state.last_call_ended_at ELSE excluded.last_call_ended_at END`, userID, at.UnixMilli())
		return err
	})
	if isForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// UsersLastCallEnded maps each of the users to the end of their last call;
// a user who never had one is absent (longest idle counts them first).
func (s *Store) UsersLastCallEnded(ctx context.Context, userIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, `SELECT user_id, last_call_ended_at FROM user_call_state WHERE user_id IN (?`+strings.Repeat(",?", len(userIDs)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, err
		}
		out[id] = time.UnixMilli(ms).UTC()
	}
	return out, rows.Err()
}
