package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CallFlow is a tenant's call flow at one version: the graph is JSON the
// store keeps as given (features/callflow reads and validates it).
type CallFlow struct {
	ID, TenantID string
	Name         string
	Version      int
	Graph        []byte
	CreatedAt    time.Time // of the flow
	UpdatedAt    time.Time // when Version was published
}

// CallFlowVersionInfo is one published version of a flow.
type CallFlowVersionInfo struct {
	Version   int
	CreatedAt time.Time
}

// FlowRef is something a flow's graph leads to or plays: Kind is a
// destination type (user, hunt_group, voicemail) or "audio". The store
// keeps the refs of each flow's current version so that deleting what a
// running flow uses can be refused.
type FlowRef struct {
	Kind, ID string
}

// RefAudio is the FlowRef kind of an audio.
const RefAudio = "audio"

// CreateCallFlow inserts a flow at version 1.
func (s *Store) CreateCallFlow(ctx context.Context, tenantID, name string, graph []byte, refs []FlowRef) (CallFlow, error) {
	f := CallFlow{ID: NewID("cf"), TenantID: tenantID, Name: name, Version: 1, Graph: graph}
	f.CreatedAt = time.Now().UTC().Truncate(time.Second)
	f.UpdatedAt = f.CreatedAt
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO call_flows(id, tenant_id, name, current_version, created_at, updated_at) VALUES (?,?,?,?,?,?)`,
			f.ID, tenantID, name, 1, f.CreatedAt.Unix(), f.UpdatedAt.Unix())
		if isForeignKey(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return publish(ctx, tx, f, refs)
	})
	if err != nil {
		return CallFlow{}, err
	}
	return f, nil
}

// PublishCallFlow makes graph the flow's new current version (n+1) in one
// transaction: calls that hold version n keep reading it
// (CallFlowVersion), new calls get n+1. It returns the new version.
func (s *Store) PublishCallFlow(ctx context.Context, tenantID, id, name string, graph []byte, refs []FlowRef) (CallFlow, error) {
	f := CallFlow{ID: id, TenantID: tenantID, Name: name, Graph: graph}
	f.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT current_version, created_at FROM call_flows WHERE tenant_id=? AND id=?`, tenantID, id).Scan(&f.Version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		f.CreatedAt = timeOrZero(created)
		// Versions only grow: a restored graph is published anew, so the
		// highest version is always the current one.
		f.Version++
		if _, err := tx.ExecContext(ctx, `UPDATE call_flows SET name=?, current_version=?, updated_at=? WHERE id=?`, name, f.Version, f.UpdatedAt.Unix(), id); err != nil {
			return err
		}
		return publish(ctx, tx, f, refs)
	})
	if err != nil {
		return CallFlow{}, err
	}
	return f, nil
}

// publish inserts f's version row and replaces the flow's refs, checking
// inside the transaction that everything referred to still exists (a
// concurrent delete of an audio cannot slip between validation and publish).
func publish(ctx context.Context, tx *sql.Tx, f CallFlow, refs []FlowRef) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO call_flow_versions(flow_id, version, graph, created_at) VALUES (?,?,?,?)`,
		f.ID, f.Version, string(f.Graph), f.UpdatedAt.Unix()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM call_flow_refs WHERE flow_id=?`, f.ID); err != nil {
		return err
	}
	for _, r := range refs {
		var q string
		switch r.Kind {
		case RefAudio:
			q = `SELECT COUNT(*) FROM audio WHERE tenant_id=? AND id=?`
		case DestHuntGroup:
			q = `SELECT COUNT(*) FROM hunt_groups WHERE tenant_id=? AND id=?`
		case DestUser, DestVoicemail:
			q = `SELECT COUNT(*) FROM users WHERE tenant_id=? AND id=? AND licence='full'`
		default:
			return fmt.Errorf("store: unknown flow reference kind %q", r.Kind)
		}
		var n int
		if err := tx.QueryRowContext(ctx, q, f.TenantID, r.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s %q: %w", r.Kind, r.ID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO call_flow_refs(flow_id, kind, ref_id) VALUES (?,?,?) ON CONFLICT DO NOTHING`, f.ID, r.Kind, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// CallFlow returns a flow of a tenant at its current version.
func (s *Store) CallFlow(ctx context.Context, tenantID, id string) (CallFlow, error) {
	return scanFlow(s.r.QueryRowContext(ctx, `SELECT f.id, f.tenant_id, f.name, f.current_version, v.graph, f.created_at, v.created_at
		FROM call_flows f JOIN call_flow_versions v ON v.flow_id = f.id AND v.version = f.current_version WHERE f.tenant_id=? AND f.id=?`, tenantID, id))
}

// CallFlowVersion returns one version of a flow, current or not: a call
// that started on version n reads n until it ends, whatever is published
// meanwhile.
func (s *Store) CallFlowVersion(ctx context.Context, tenantID, id string, version int) (CallFlow, error) {
	return scanFlow(s.r.QueryRowContext(ctx, `SELECT f.id, f.tenant_id, f.name, v.version, v.graph, f.created_at, v.created_at
		FROM call_flows f JOIN call_flow_versions v ON v.flow_id = f.id WHERE f.tenant_id=? AND f.id=? AND v.version=?`, tenantID, id, version))
}

func scanFlow(row interface{ Scan(...any) error }) (CallFlow, error) {
	var f CallFlow
	var graph string
	var created, updated int64
	err := row.Scan(&f.ID, &f.TenantID, &f.Name, &f.Version, &graph, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return CallFlow{}, ErrNotFound
	}
	f.Graph = []byte(graph)
	f.CreatedAt, f.UpdatedAt = timeOrZero(created), timeOrZero(updated)
	return f, err
}

// CallFlows lists a tenant's flows at their current versions.
func (s *Store) CallFlows(ctx context.Context, tenantID string) ([]CallFlow, error) {
	return collect(scanFlow)(s.r.QueryContext(ctx, `SELECT f.id, f.tenant_id, f.name, f.current_version, v.graph, f.created_at, v.created_at
		FROM call_flows f JOIN call_flow_versions v ON v.flow_id = f.id AND v.version = f.current_version WHERE f.tenant_id=? ORDER BY f.created_at, f.id`, tenantID))
}

// CallFlowVersions lists the versions of a flow, oldest first.
func (s *Store) CallFlowVersions(ctx context.Context, tenantID, id string) ([]CallFlowVersionInfo, error) {
	out, err := collect(func(row interface{ Scan(...any) error }) (CallFlowVersionInfo, error) {
		var v CallFlowVersionInfo
		var created int64
		err := row.Scan(&v.Version, &created)
		v.CreatedAt = timeOrZero(created)
		return v, err
	})(s.r.QueryContext(ctx, `SELECT v.version, v.created_at FROM call_flow_versions v JOIN call_flows f ON f.id = v.flow_id
		WHERE f.tenant_id=? AND f.id=? ORDER BY v.version`, tenantID, id))
	if err == nil && len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, err
}

// DeleteCallFlow removes a flow with its versions. A flow a number or a
// hunt group's overflow leads to is ErrConflict.
func (s *Store) DeleteCallFlow(ctx context.Context, tenantID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := notReferenced(ctx, tx, tenantID, DestCallFlow, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM call_flows WHERE tenant_id=? AND id=?`, tenantID, id)
		return affected(res, err)
	})
}
