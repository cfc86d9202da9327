package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutboundRoute sends calls to the public numbers that begin with Prefix
// (E.164, "+32", "+3290"; "" is the default route) through Trunks, tried
// in order. The longest matching prefix wins; among routes of the same
// prefix, the lowest Priority.
type OutboundRoute struct {
	ID        string
	Prefix    string
	Trunks    []string // trunk ids, in the order they are tried
	Priority  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

const routeCols = `id, prefix, priority, created_at, updated_at`

func scanRoute(row interface{ Scan(...any) error }) (OutboundRoute, error) {
	var r OutboundRoute
	var created, updated int64
	err := row.Scan(&r.ID, &r.Prefix, &r.Priority, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboundRoute{}, ErrNotFound
	}
	r.CreatedAt, r.UpdatedAt = timeOrZero(created), timeOrZero(updated)
	return r, err
}

// CreateOutboundRoute inserts a route; a trunk id that names no trunk is
// ErrNotFound.
func (s *Store) CreateOutboundRoute(ctx context.Context, r OutboundRoute) (OutboundRoute, error) {
	if r.ID == "" {
		r.ID = NewID("rte")
	}
	r.CreatedAt = time.Now().UTC().Truncate(time.Second)
	r.UpdatedAt = r.CreatedAt
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO outbound_routes(id, prefix, priority, created_at, updated_at) VALUES (?,?,?,?,?)`,
			r.ID, r.Prefix, r.Priority, r.CreatedAt.Unix(), r.UpdatedAt.Unix())
		if err != nil {
			return err
		}
		return insertRouteTrunks(ctx, tx, r.ID, r.Trunks)
	})
	if err != nil {
		return OutboundRoute{}, err
	}
	return r, nil
}

func insertRouteTrunks(ctx context.Context, tx *sql.Tx, routeID string, trunks []string) error {
	for i, id := range trunks {
		_, err := tx.ExecContext(ctx, `INSERT INTO outbound_route_trunks(route_id, trunk_id, position) VALUES (?,?,?)`, routeID, id, i)
		switch {
		case isForeignKey(err):
			return fmt.Errorf("trunk %s: %w", id, ErrNotFound)
		case isUnique(err):
			return fmt.Errorf("trunk %s twice in a route: %w", id, ErrConflict)
		case err != nil:
			return err
		}
	}
	return nil
}

// UpdateOutboundRoute replaces a route's prefix, priority and trunks.
func (s *Store) UpdateOutboundRoute(ctx context.Context, r OutboundRoute) error {
	r.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbound_routes SET prefix=?, priority=?, updated_at=? WHERE id=?`,
			r.Prefix, r.Priority, r.UpdatedAt.Unix(), r.ID)
		if err := affected(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbound_route_trunks WHERE route_id=?`, r.ID); err != nil {
			return err
		}
		return insertRouteTrunks(ctx, tx, r.ID, r.Trunks)
	})
}

// OutboundRoute returns one route with its trunks.
func (s *Store) OutboundRoute(ctx context.Context, id string) (OutboundRoute, error) {
	r, err := scanRoute(s.r.QueryRowContext(ctx, `SELECT `+routeCols+` FROM outbound_routes WHERE id = ?`, id))
	if err != nil {
		return OutboundRoute{}, err
	}
	trunks, err := s.routeTrunks(ctx, id)
	r.Trunks = trunks[id]
	return r, err
}

// OutboundRoutes lists every route: longest prefix first, then by
// priority, then oldest first; the first whose prefix matches a number is
// the one its calls take.
func (s *Store) OutboundRoutes(ctx context.Context) ([]OutboundRoute, error) {
	rs, err := collect(scanRoute)(s.r.QueryContext(ctx, `SELECT `+routeCols+` FROM outbound_routes
		ORDER BY length(prefix) DESC, priority, created_at, id`))
	if err != nil {
		return nil, err
	}
	trunks, err := s.routeTrunks(ctx, "")
	for i := range rs {
		rs[i].Trunks = trunks[rs[i].ID]
	}
	return rs, err
}

// routeTrunks maps route ids to their trunks in order (one route's, or
// every route's when id is "").
func (s *Store) routeTrunks(ctx context.Context, id string) (map[string][]string, error) {
	q, args := `SELECT route_id, trunk_id FROM outbound_route_trunks ORDER BY route_id, position`, []any{}
	if id != "" {
		q, args = `SELECT route_id, trunk_id FROM outbound_route_trunks WHERE route_id = ? ORDER BY position`, []any{id}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var rid, tid string
		if err := rows.Scan(&rid, &tid); err != nil {
			return nil, err
		}
		out[rid] = append(out[rid], tid)
	}
	return out, rows.Err()
}

// DeleteOutboundRoute removes a route.
func (s *Store) DeleteOutboundRoute(ctx context.Context, id string) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM outbound_routes WHERE id = ?`, id))
}
