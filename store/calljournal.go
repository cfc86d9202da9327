package store

import (
	"context"
	"database/sql"
	"time"
)

// The call journal: the calls a node has up, so that a crash loses no call
// record. A node writes it in batches (package calljournal): the calls
// begun, the answers, the calls ended since the last batch, and its
// heartbeat, in one transaction. A call's CDR is written when it ends, as
// before; its journal row goes in a later batch. After a crash the node's
// rows that have no CDR become CDRs with the cause system_failure, ended at
// the node's last heartbeat (RecoverJournal). A row whose CDR exists (the
// crash came between the CDR and the batch) is just removed, so a call
// never gets two records.

// CauseSystemFailure is the hangup cause of a call that was up when its
// node died.
const CauseSystemFailure = "system_failure"

// JournalEntry is one live call.
type JournalEntry struct {
	CallID, TenantID string
	Caller, Callee   string
	Origin           string
	Start, Answer    time.Time
}

// JournalBatch is what a node writes at once.
type JournalBatch struct {
	Node     string
	Begun    []JournalEntry
	Answered []JournalEntry // CallID and Answer are read
	Ended    []string
	// Seen is the node's heartbeat: the time it was last known alive.
	Seen time.Time
}

// WriteJournal applies a batch in one transaction.
func (s *Store) WriteJournal(ctx context.Context, b JournalBatch) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range b.Begun {
			if _, err := tx.ExecContext(ctx, `INSERT INTO call_journal(call_id, node, tenant_id, caller, callee, origin, start_at, answer_at)
				VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (call_id) DO NOTHING`,
				e.CallID, b.Node, e.TenantID, e.Caller, e.Callee, e.Origin, e.Start.UnixMilli(), unixMilliOrZero(e.Answer)); err != nil {
				return err
			}
		}
		for _, e := range b.Answered {
			if _, err := tx.ExecContext(ctx, `UPDATE call_journal SET answer_at = ? WHERE call_id = ?`, unixMilliOrZero(e.Answer), e.CallID); err != nil {
				return err
			}
		}
		for _, id := range b.Ended {
			if _, err := tx.ExecContext(ctx, `DELETE FROM call_journal WHERE call_id = ?`, id); err != nil {
				return err
			}
		}
		if b.Seen.IsZero() {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO node_heartbeats(node, seen_at) VALUES (?, ?)
			ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at`, b.Node, b.Seen.UnixMilli())
		return err
	})
}

// RecoverJournal turns the journal rows a node left behind into CDRs (cause
// system_failure, ended at the node's last heartbeat, or at now when it
// never beat) and removes them, in one transaction. It returns the records
// written. A node calls it at start-up, before it takes calls.
func (s *Store) RecoverJournal(ctx context.Context, node string, now time.Time) ([]CDR, error) {
	var out []CDR
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		seen := now.UnixMilli()
		switch err := tx.QueryRowContext(ctx, `SELECT seen_at FROM node_heartbeats WHERE node = ?`, node).Scan(&seen); err {
		case nil, sql.ErrNoRows:
		default:
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT j.call_id, j.tenant_id, j.caller, j.callee, j.origin, j.start_at, j.answer_at FROM call_journal j
			WHERE j.node = ? AND NOT EXISTS (SELECT 1 FROM cdrs c WHERE c.call_id = j.call_id)
			AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = j.tenant_id) ORDER BY j.start_at, j.call_id`, node)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c CDR
			var st, an int64
			if err := rows.Scan(&c.CallID, &c.TenantID, &c.Caller, &c.Callee, &c.Origin, &st, &an); err != nil {
				rows.Close()
				return err
			}
			end := seen
			if end < st {
				end = st
			}
			c.Start, c.End = time.UnixMilli(st).UTC(), time.UnixMilli(end).UTC()
			c.HangupCause, c.Disposition = CauseSystemFailure, "failed"
			if an > 0 {
				c.Answer = time.UnixMilli(an).UTC()
				c.Disposition = "answered"
				if talked := end - an; talked > 0 {
					c.BillableSeconds = int((talked + 500) / 1000)
				}
			}
			c.ID = NewID("cdr")
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range out {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cdrs(id, tenant_id, call_id, caller, callee, start_at, answer_at, end_at, billable_seconds, disposition, hangup_cause, origin)
				VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, c.ID, c.TenantID, c.CallID, c.Caller, c.Callee, c.Start.UnixMilli(), unixMilliOrZero(c.Answer), c.End.UnixMilli(),
				c.BillableSeconds, c.Disposition, c.HangupCause, c.Origin); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM call_journal WHERE node = ?`, node)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// JournalSize counts a node's journal rows (tests, metrics).
func (s *Store) JournalSize(ctx context.Context, node string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM call_journal WHERE node = ?`, node).Scan(&n)
	return n, err
}
