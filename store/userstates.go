package store

import (
	"context"
	"database/sql"
	"time"
)

// UserState is the dialog state ("terminated", "early", "confirmed") of a
// licence's calls on one node of a cluster: every node writes its own, and
// the busy lamps a node serves show the busiest of them.
type UserState struct {
	UserID, Node, State string
	UpdatedAt           time.Time
}

// SetUserStates records the states of some licences on a node, in one
// transaction (a node writes the changes of many calls at once).
func (s *Store) SetUserStates(ctx context.Context, states []UserState) error {
	if len(states) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, st := range states {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_states(user_id, node, state, updated_at) VALUES (?,?,?,?)
				ON CONFLICT(user_id, node) DO UPDATE SET state=excluded.state, updated_at=excluded.updated_at`,
				st.UserID, st.Node, st.State, st.UpdatedAt.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// UserStates lists a licence's states on every node.
func (s *Store) UserStates(ctx context.Context, userID string) ([]UserState, error) {
	return s.queryUserStates(ctx, `SELECT user_id, node, state, updated_at FROM user_states WHERE user_id = ? ORDER BY node`, userID)
}

// UserStatesSince lists the states written at or after since, oldest
// first: a node polls it to hear of the other nodes' changes.
func (s *Store) UserStatesSince(ctx context.Context, since time.Time) ([]UserState, error) {
	return s.queryUserStates(ctx, `SELECT user_id, node, state, updated_at FROM user_states WHERE updated_at >= ? ORDER BY updated_at, user_id, node`,
		since.UnixMilli())
}

// DeleteIdleUserStates removes the idle states written before t.
func (s *Store) DeleteIdleUserStates(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM user_states WHERE state = 'terminated' AND updated_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) queryUserStates(ctx context.Context, q string, args ...any) ([]UserState, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserState
	for rows.Next() {
		var u UserState
		var at int64
		if err := rows.Scan(&u.UserID, &u.Node, &u.State, &at); err != nil {
			return nil, err
		}
		u.UpdatedAt = time.UnixMilli(at).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// ResetUserStates marks every state of a node idle as of at: a node that
// starts has no call up, whatever it left behind when it stopped.
func (s *Store) ResetUserStates(ctx context.Context, node string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE user_states SET state = 'terminated', updated_at = ? WHERE node = ? AND state <> 'terminated'`,
		at.UnixMilli(), node)
	return err
}

// NodesSeen is when each node last wrote its heartbeat (with its call
// journal): a node silent for long has stopped, and the states it left
// mean nothing any more.
func (s *Store) NodesSeen(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node, seen_at FROM node_heartbeats`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var node string
		var at int64
		if err := rows.Scan(&node, &at); err != nil {
			return nil, err
		}
		out[node] = time.UnixMilli(at).UTC()
	}
	return out, rows.Err()
}
