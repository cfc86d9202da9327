package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"pbx/store"
)

// batch is how many due deliveries one look at the store takes.
const batch = 32

// Run delivers the due deliveries until ctx ends: at once, then whenever
// Send queues one, the next one falls due, or Poll passes.
func (s *Sender) Run(ctx context.Context) {
	s.Init()
	poll := s.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		if s.deliverDue(ctx) == batch {
			continue // more may be due already
		}
		wait := poll
		if next, ok, err := s.Store.NextWebhookAt(ctx); err == nil && ok {
			wait = min(max(next.Sub(s.clock().Now()), 0), poll)
		} else if err != nil && ctx.Err() == nil {
			s.log().Error("webhook: pending deliveries", "error", err)
		}
		if wait == 0 {
			// Due now yet not delivered: claimed by another sender, whose
			// lease is not over. Look again at the next poll.
			wait = poll
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.clock().After(wait):
		}
	}
}

// deliverDue makes one attempt at each due delivery, at most batch of
// them, and says how many it attempted (not those another sender holds).
func (s *Sender) deliverDue(ctx context.Context) int {
	now := s.clock().Now()
	due, err := s.Store.DueWebhooks(ctx, now, batch)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Error("webhook: due deliveries", "error", err)
		}
		return 0
	}
	n := 0
	for _, d := range due {
		if ctx.Err() != nil {
			return n
		}
		ok, err := s.Store.ClaimWebhook(ctx, d, now.Add(lease))
		if err != nil || !ok {
			continue // another node took it, or the store failed: seen again later
		}
		s.attempt(ctx, d)
		n++
	}
	return n
}

// attempt posts d once and records the outcome.
func (s *Sender) attempt(ctx context.Context, d store.WebhookDelivery) {
	log := s.log().With("delivery", d.ID, "tenant_id", d.TenantID, "event", d.Event)
	w, err := s.Store.TenantWebhook(ctx, d.TenantID)
	if errors.Is(err, store.ErrNotFound) || err == nil && w.URL == "" {
		log.Warn("webhook: delivery dropped, the tenant has no webhook any more")
		_ = s.Store.DeleteWebhook(ctx, d.ID)
		return
	}
	if err == nil {
		err = s.post(ctx, w, d)
	}
	if err == nil {
		if err := s.Store.DeleteWebhook(ctx, d.ID); err != nil {
			log.Error("webhook: delivered, but not removed from the queue", "error", err)
		}
		log.Info("webhook delivered", "attempts", d.Attempts+1)
		return
	}
	n := d.Attempts + 1
	maxN := s.MaxAttempts
	if maxN <= 0 {
		maxN = 12
	}
	if n >= maxN {
		log.Error("webhook: delivery given up", "attempts", n, "error", err)
		_ = s.Store.DeleteWebhook(ctx, d.ID)
		return
	}
	backoff := s.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	next := s.clock().Now().Add(backoff(n))
	log.Warn("webhook: attempt failed, will retry", "attempt", n, "next", next, "error", err)
	if err := s.Store.RetryWebhook(ctx, d.ID, n, next, err.Error()); err != nil {
		log.Error("webhook: retry not recorded", "error", err)
	}
}

// post makes one signed POST; any status but 2xx is a failure.
func (s *Sender) post(ctx context.Context, w store.Webhook, d store.WebhookDelivery) error {
	client := s.Client
	if client == nil {
		client = defaultClient(s.AllowPrivate)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	ts := s.clock().Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pbx-webhook/1")
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
	if w.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, d.Body))
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return nil
}
