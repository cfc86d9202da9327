package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"pbx/numbering"
	"pbx/store"
)

// MaxSegments bounds an SMS: carriers reassemble at most a handful, and a
// long text is a mail's job.
const MaxSegments = 10

// SMSStore is what sending an SMS reads.
type SMSStore interface {
	NumberByE164(ctx context.Context, e164 string) (store.Number, error)
	Trunks(ctx context.Context) ([]store.Trunk, error)
	TrunkPassword(ctx context.Context, id string) (string, error)
}

// Carrier sends a message to a number through a trunk (password: the
// trunk's, for the carrier's challenge; empty when it has none).
type Carrier interface {
	ToCarrier(ctx context.Context, trunk store.Trunk, password, number string, m Message) error
}

// FieldError is one bad field of an SMS request.
type FieldError struct{ Field, Problem string }

// InvalidError lists every bad field of an SMS request.
type InvalidError []FieldError

func (e InvalidError) Error() string {
	var b strings.Builder
	for i, f := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Problem)
	}
	return "messages: invalid SMS: " + b.String()
}

var (
	// ErrRateLimited: the tenant sent its quota of SMS in this window.
	ErrRateLimited = errors.New("messages: too many SMS; try again later")
	// ErrNoTrunk: no carrier trunk is configured.
	ErrNoTrunk = errors.New("messages: no carrier trunk")
)

// Receipt describes an SMS that was sent.
type Receipt struct {
	From, To string // E.164
	Encoding string
	Segments int
}

// SMS sends tenants' SMS through the first carrier trunk as SIP MESSAGE.
type SMS struct {
	Store   SMSStore
	Carrier Carrier
	// Limit SMS per Window per tenant (defaults 30 per minute). The
	// count is per node: several nodes each allow it.
	Limit  int
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	used map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// Send checks and sends an SMS of tenantID from one of its numbers.
func (s *SMS) Send(ctx context.Context, tenantID, from, to, text string) (Receipt, error) {
	var bad InvalidError
	r := Receipt{}
	if e164, err := numbering.Normalize(from); err != nil {
		bad = append(bad, FieldError{"from", "must be a phone number such as +3221234567"})
	} else if n, err := s.Store.NumberByE164(ctx, e164); errors.Is(err, store.ErrNotFound) || (err == nil && n.TenantID != tenantID) {
		bad = append(bad, FieldError{"from", "must be one of the tenant's numbers"})
	} else if err != nil {
		return r, err
	} else {
		r.From = e164
	}
	if e164, err := numbering.Normalize(to); err != nil {
		bad = append(bad, FieldError{"to", "must be a phone number such as +32470123456"})
	} else if cl, _ := numbering.Classify(e164); cl != numbering.Mobile && cl != numbering.Foreign {
		bad = append(bad, FieldError{"to", fmt.Sprintf("is a %s number; SMS go to mobile numbers", cl)})
	} else {
		r.To = e164
	}
	r.Encoding, r.Segments = Segments(text)
	switch {
	case strings.TrimSpace(text) == "":
		bad = append(bad, FieldError{"text", "is required"})
	case strings.ContainsFunc(text, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\r' }):
		bad = append(bad, FieldError{"text", "must not contain control characters other than line breaks"})
	case r.Segments > MaxSegments:
		bad = append(bad, FieldError{"text", fmt.Sprintf("takes %d %s segments; at most %d are sent", r.Segments, r.Encoding, MaxSegments)})
	}
	if len(bad) > 0 {
		return r, bad
	}
	ts, err := s.Store.Trunks(ctx)
	if err != nil {
		return r, err
	}
	if len(ts) == 0 {
		return r, ErrNoTrunk
	}
	if !s.allow(tenantID) {
		return r, ErrRateLimited
	}
	tr := ts[0]
	pw := ""
	if tr.Username != "" {
		if pw, err = s.Store.TrunkPassword(ctx, tr.ID); err != nil {
			return r, err
		}
	}
	m := Message{From: r.From, To: r.To, ContentType: "text/plain;charset=UTF-8", Body: []byte(text)}
	return r, s.Carrier.ToCarrier(ctx, tr, pw, r.To, m)
}

// allow counts one SMS of tenantID against its window's quota.
func (s *SMS) allow(tenantID string) bool {
	limit, win := s.Limit, s.Window
	if limit <= 0 {
		limit = 30
	}
	if win <= 0 {
		win = time.Minute
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = map[string]*window{}
	}
	w := s.used[tenantID]
	if w == nil || now.Sub(w.start) >= win {
		// Forget finished windows: the map holds only the tenants
		// sending now.
		for id, o := range s.used {
			if now.Sub(o.start) >= win {
				delete(s.used, id)
			}
		}
		w = &window{start: now}
		s.used[tenantID] = w
	}
	if w.n >= limit {
		return false
	}
	w.n++
	return true
}
