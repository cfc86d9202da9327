// Package webhook owns the delivery of events to a tenant's own HTTP
// endpoint (its administrators' webhook): each event is kept in the store
// until delivered, posted as JSON signed with HMAC-SHA256 under the
// tenant's secret, and retried with back-off when the endpoint fails, so
// that neither a failing endpoint nor a restart loses it. Emergency calls
// use it; any feature that tells a tenant of an event may.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pbx/store"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-PBX-Signature" // sha256=<hex HMAC of "<timestamp>.<body>">
	HeaderTimestamp = "X-PBX-Timestamp" // Unix seconds when the attempt was signed
	HeaderEvent     = "X-PBX-Event"
	HeaderDelivery  = "X-PBX-Delivery" // the delivery's id, the same on every retry
)

// Store keeps the deliveries and the tenants' webhooks (*store.Store).
type Store interface {
	EnqueueWebhook(ctx context.Context, d store.WebhookDelivery) (store.WebhookDelivery, error)
	DueWebhooks(ctx context.Context, now time.Time, limit int) ([]store.WebhookDelivery, error)
	NextWebhookAt(ctx context.Context) (time.Time, bool, error)
	ClaimWebhook(ctx context.Context, d store.WebhookDelivery, until time.Time) (bool, error)
	RetryWebhook(ctx context.Context, id string, attempts int, next time.Time, lastError string) error
	DeleteWebhook(ctx context.Context, id string) error
	TenantWebhook(ctx context.Context, tenantID string) (store.Webhook, error)
}

// Clock is the sender's time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Payload is the JSON body of every delivery.
type Payload struct {
	ID        string    `json:"id"` // the delivery's id: receivers drop a retry they already had
	Event     string    `json:"event"`
	TenantID  string    `json:"tenant_id"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// Sender delivers the events. Its zero value with a Store is ready: Send
// queues, Run delivers.
type Sender struct {
	Store Store
	// Client posts the deliveries; the default one times out after 10 s
	// and, unless AllowPrivate, connects to public addresses only.
	Client *http.Client
	// AllowPrivate lets the default client reach loopback, private and
	// link-local addresses: a tenant's URL could otherwise make the
	// server post to the services of its own network.
	AllowPrivate bool
	Clock        Clock // default: the real clock
	// Backoff is the wait after the n-th failed attempt (default
	// DefaultBackoff).
	Backoff func(n int) time.Duration
	// MaxAttempts before a delivery is given up (default 12: about a
	// day with the default back-off).
	MaxAttempts int
	// Poll is the longest wait between looks at the store, for the
	// deliveries that other nodes queued (default 30 s).
	Poll   time.Duration
	Logger *slog.Logger

	wake chan struct{}
}

// DefaultBackoff doubles from 10 s, up to 4 h.
func DefaultBackoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

// lease is how long an attempt holds its claim: past it, a delivery whose
// sender died (or hangs) is taken again.
const lease = 2 * time.Minute

func (s *Sender) clock() Clock {
	if s.Clock != nil {
		return s.Clock
	}
	return realClock{}
}

func (s *Sender) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Init makes the sender ready for Send and Run; call it once before
// either runs on another goroutine.
func (s *Sender) Init() {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
}

// Send queues event with data for the tenant's webhook; nothing is
// queued when the tenant has none. The delivery is made by Run.
func (s *Sender) Send(ctx context.Context, tenantID, event string, data any) error {
	w, err := s.Store.TenantWebhook(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("webhook: tenant %s: %w", tenantID, err)
	}
	if w.URL == "" {
		return nil
	}
	now := s.clock().Now()
	id := store.NewID("whd")
	body, err := json.Marshal(Payload{ID: id, Event: event, TenantID: tenantID, CreatedAt: now.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	if _, err := s.Store.EnqueueWebhook(ctx, store.WebhookDelivery{ID: id, TenantID: tenantID, Event: event, Body: body, NextAt: now}); err != nil {
		return fmt.Errorf("webhook: queue %s: %w", event, err)
	}
	if s.wake != nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Sign is the value of HeaderSignature for body signed at ts with secret.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrSignature is a delivery whose signature or timestamp is wrong.
var ErrSignature = errors.New("webhook: bad signature")

// Verify checks a delivery as a receiver does: the signature over the
// timestamp and the body, and a timestamp within tolerance of now (a
// replayed old delivery fails).
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrSignature, h.Get(HeaderTimestamp))
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %d too far from now", ErrSignature, ts)
	}
	got := strings.TrimSpace(h.Get(HeaderSignature))
	if !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return ErrSignature
	}
	return nil
}
