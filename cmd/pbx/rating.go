package main

import (
	"context"
	"fmt"
	"log/slog"

	"pbx/dialplan"
	"pbx/rating"
	"pbx/store"
	"pbx/webhook"
)

// cdrWriter writes call records (the b2bua's CDRs sink).
type cdrWriter interface {
	InsertCDR(ctx context.Context, r store.CDR) (store.CDR, error)
}

// setupRating makes the credit meter, gives it to the dialplan, and
// returns the CDR writer that prices each record after next wrote it.
func (a *app) setupRating(c *calls, next cdrWriter) (cdrWriter, error) {
	floor, err := rating.ParseEuro(a.cfg.FraudFloor)
	if err != nil || floor%rating.MicroPerCent != 0 {
		return nil, fmt.Errorf("--fraud-floor %q: want euro with at most 2 decimals", a.cfg.FraudFloor)
	}
	if a.cfg.FraudMultiple < 1 {
		return nil, fmt.Errorf("--fraud-multiple %d: want 1 or more", a.cfg.FraudMultiple)
	}
	m := &rating.Meter{Store: a.store, Clock: a.cfg.RatingClock, Logger: a.log, Notify: webhookNotifier{a.webhooks, a.log},
		Fraud: rating.FraudRule{Multiple: int64(a.cfg.FraudMultiple), Floor: rating.Cents(floor / rating.MicroPerCent)}}
	c.plan.Credit = meterCredit{m}
	return pricedCDRs{next: next, meter: m}, nil
}

// meterCredit is the meter as the dialplan asks it.
type meterCredit struct{ m *rating.Meter }

func (mc meterCredit) Admit(ctx context.Context, c dialplan.CreditCall) (dialplan.CreditSession, dialplan.CreditRefusal, error) {
	call, refused, err := mc.m.Begin(ctx, c.CallID, c.TenantID, c.UserID, c.Number)
	if err != nil {
		return nil, "", err
	}
	switch refused {
	case "":
		return call, "", nil
	case rating.RefusedCredit:
		return nil, dialplan.RefusedCredit, nil
	case rating.RefusedFraud:
		return nil, dialplan.RefusedFraud, nil
	}
	return nil, dialplan.RefusedNoRate, nil
}

func (mc meterCredit) Metered(callID string) dialplan.CreditSession {
	if c := mc.m.Metered(callID); c != nil {
		return c
	}
	return nil // not a typed nil in the interface
}

// pricedCDRs writes a record, then has the meter price it.
type pricedCDRs struct {
	next  cdrWriter
	meter *rating.Meter
}

func (p pricedCDRs) InsertCDR(ctx context.Context, r store.CDR) (store.CDR, error) {
	r, err := p.next.InsertCDR(ctx, r)
	written := r
	if err != nil {
		written.ID = "" // not stored: nothing to price, the meter forgets it
	}
	p.meter.Ended(ctx, written)
	return r, err
}

// webhookNotifier logs the meter's events and queues them for the
// tenant's webhook (signed, retried: package webhook).
type webhookNotifier struct {
	hooks *webhook.Sender
	log   *slog.Logger
}

func (n webhookNotifier) Notify(ctx context.Context, tenantID, event string, data map[string]any) {
	args := []any{"tenant_id", tenantID, "event", event}
	for k, v := range data {
		args = append(args, k, v)
	}
	n.log.Warn("rating: tenant event", args...)
	if n.hooks == nil {
		return
	}
	if err := n.hooks.Send(ctx, tenantID, event, data); err != nil {
		n.log.Error("rating: webhook not queued", "tenant_id", tenantID, "event", event, "error", err)
	}
}
