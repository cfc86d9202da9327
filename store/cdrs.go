package store

import (
	"context"
	"database/sql"
	"time"
)

// CDR is the record of one call.
type CDR struct {
	ID, TenantID, CallID string
	Caller, Callee       string
	Start, Answer, End   time.Time
	BillableSeconds      int
	Disposition          string // answered, busy, no_answer, failed, cancelled
	HangupCause          string
	// Origin is who placed the call: device, trunk or originate (the
	// platform itself); empty for records older than the column.
	Origin string
	// CallerQuality is the caller's leg, CalleeQuality the leg that
	// answered; zero when a leg carried no media.
	CallerQuality, CalleeQuality LegQuality
}

// LegQuality is the audio quality of one leg of a call as the media engine
// measured it.
type LegQuality struct {
	// LossPercent of the packets the phone sent that never arrived, and
	// JitterMS their interarrival jitter (RFC 3550).
	LossPercent, JitterMS float64
	// MOS is the estimated mean opinion score (1-4.5) of the leg's worse
	// direction; 0 when the leg carried no media.
	MOS float64
}

// InsertCDR writes a call record.
func (s *Store) InsertCDR(ctx context.Context, c CDR) (CDR, error) {
	if c.ID == "" {
		c.ID = NewID("cdr")
	}
	cq, ce := c.CallerQuality, c.CalleeQuality
	err := s.group.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cdrs(id, tenant_id, call_id, caller, callee, start_at, answer_at, end_at, billable_seconds, disposition, hangup_cause, origin,
		caller_loss_percent, caller_jitter_ms, caller_mos, callee_loss_percent, callee_jitter_ms, callee_mos)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, c.ID, c.TenantID, c.CallID, c.Caller, c.Callee, c.Start.UnixMilli(), unixMilliOrZero(c.Answer), c.End.UnixMilli(),
			c.BillableSeconds, c.Disposition, c.HangupCause, c.Origin, cq.LossPercent, cq.JitterMS, cq.MOS, ce.LossPercent, ce.JitterMS, ce.MOS)
		return err
	})
	return c, err
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// CDRs lists a tenant's call records, newest first, at most limit.
func (s *Store) CDRs(ctx context.Context, tenantID string, limit int) ([]CDR, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, tenant_id, call_id, caller, callee, start_at, answer_at, end_at, billable_seconds, disposition, hangup_cause, origin,
		caller_loss_percent, caller_jitter_ms, caller_mos, callee_loss_percent, callee_jitter_ms, callee_mos
		FROM cdrs WHERE tenant_id = ? ORDER BY start_at DESC, id LIMIT ?`, tenantID, limit)
	return scanCDRs(rows, err)
}

func scanCDRs(rows *sql.Rows, err error) ([]CDR, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CDR
	for rows.Next() {
		var c CDR
		var st, an, en int64
		cq, ce := &c.CallerQuality, &c.CalleeQuality
		if err := rows.Scan(&c.ID, &c.TenantID, &c.CallID, &c.Caller, &c.Callee, &st, &an, &en, &c.BillableSeconds, &c.Disposition, &c.HangupCause, &c.Origin,
			&cq.LossPercent, &cq.JitterMS, &cq.MOS, &ce.LossPercent, &ce.JitterMS, &ce.MOS); err != nil {
			return nil, err
		}
		c.Start = time.UnixMilli(st).UTC()
		if an != 0 {
			c.Answer = time.UnixMilli(an).UTC()
		}
		c.End = time.UnixMilli(en).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
