package messages

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

type memStore struct {
	mu      sync.Mutex
	users   map[string]store.User
	pending []store.PendingMessage
	numbers map[string]store.Number
	trunks  []store.Trunk
}

func (m *memStore) UserByExtension(_ context.Context, tenantID, ext string) (store.User, error) {
	u, ok := m.users[ext]
	if !ok || u.TenantID != tenantID {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (m *memStore) AddPendingMessage(_ context.Context, pm store.PendingMessage) (store.PendingMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pm.ID = store.NewID("msg")
	m.pending = append(m.pending, pm)
	return pm, nil
}

func (m *memStore) PendingMessages(_ context.Context, userID string, now time.Time) ([]store.PendingMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.PendingMessage
	for _, pm := range m.pending {
		if pm.UserID == userID && pm.ExpiresAt.After(now) {
			out = append(out, pm)
		}
	}
	return out, nil
}

func (m *memStore) DeletePendingMessage(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.pending)
	m.pending = slices.DeleteFunc(m.pending, func(pm store.PendingMessage) bool { return pm.ID == id })
	return len(m.pending) < n, nil
}

func (m *memStore) NumberByE164(_ context.Context, e164 string) (store.Number, error) {
	if n, ok := m.numbers[e164]; ok {
		return n, nil
	}
	return store.Number{}, store.ErrNotFound
}
func (m *memStore) Trunks(context.Context) ([]store.Trunk, error)         { return m.trunks, nil }
func (m *memStore) TrunkPassword(context.Context, string) (string, error) { return "secret", nil }

type locator map[string][]store.Binding

func (l locator) Lookup(_ context.Context, id string) ([]store.Binding, error) { return l[id], nil }

// sender records what each device got; devices in refuse fail.
type sender struct {
	mu     sync.Mutex
	got    map[string][]Message
	refuse map[string]bool
}

func (s *sender) ToBinding(_ context.Context, b store.Binding, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse[b.DeviceID] {
		return errors.New("408")
	}
	s.got[b.DeviceID] = append(s.got[b.DeviceID], m)
	return nil
}

func TestMessagesDeliveredOrKept(t *testing.T) {
	st := &memStore{users: map[string]store.User{"202": {ID: "u202", TenantID: "t1", Extension: "202"}}}
	loc := locator{}
	snd := &sender{got: map[string][]Message{}, refuse: map[string]bool{"dead": true}}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &Service{Store: st, Locator: loc, Sender: snd, Now: func() time.Time { return now }}
	ctx := context.Background()
	m := Message{From: "201", FromName: "Ann", Domain: "acme.test", To: "202", ContentType: "text/plain", Body: []byte("hi")}

	if _, err := s.Send(ctx, "t2", m); !errors.Is(err, ErrNoRecipient) {
		t.Errorf("another tenant's extension: %v", err)
	}
	loc["u202"] = []store.Binding{{DeviceID: "desk"}, {DeviceID: "mobile"}, {DeviceID: "dead"}}
	if o, err := s.Send(ctx, "t1", m); o != Delivered || err != nil || len(snd.got["desk"]) != 1 || len(snd.got["mobile"]) != 1 {
		t.Fatalf("live: %v %v %v", o, err, snd.got)
	}
	loc["u202"] = []store.Binding{{DeviceID: "dead"}}
	for _, body := range []string{"one", "two"} {
		m.Body = []byte(body)
		if o, err := s.Send(ctx, "t1", m); o != Kept || err != nil {
			t.Fatalf("kept: %v %v", o, err)
		}
	}
	if len(st.pending) != 2 || !st.pending[0].ExpiresAt.Equal(now.Add(7*24*time.Hour)) {
		t.Fatalf("pending %+v", st.pending)
	}
	s.Registered(ctx, "acme.test", st.users["202"], store.Binding{DeviceID: "dead"})
	if len(st.pending) != 2 {
		t.Errorf("a device that refused took the messages: %+v", st.pending)
	}
	s.Registered(ctx, "acme.test", st.users["202"], store.Binding{DeviceID: "phone"})
	if got := snd.got["phone"]; len(got) != 2 || string(got[0].Body) != "one" || string(got[1].Body) != "two" || got[0].From != "201" || got[0].FromName != "Ann" {
		t.Errorf("delivered at registration: %+v", got)
	}
	if len(st.pending) != 0 {
		t.Errorf("still pending: %+v", st.pending)
	}
	// Past seven days a kept message is not delivered.
	m.Body = []byte("late")
	s.Send(ctx, "t1", m)
	now = now.Add(7*24*time.Hour + time.Second)
	s.Registered(ctx, "acme.test", st.users["202"], store.Binding{DeviceID: "phone2"})
	if len(snd.got["phone2"]) != 0 {
		t.Errorf("an expired message was delivered")
	}
}

type carrier struct {
	sent []Message
	pw   string
}

func (c *carrier) ToCarrier(_ context.Context, _ store.Trunk, pw, number string, m Message) error {
	c.sent, c.pw = append(c.sent, m), pw
	return nil
}

func TestSMSChecksAndLimits(t *testing.T) {
	st := &memStore{numbers: map[string]store.Number{"+3221234567": {TenantID: "t1", E164: "+3221234567"}, "+3221234568": {TenantID: "t2"}},
		trunks: []store.Trunk{{ID: "tr1", Username: "pbx"}}}
	c := &carrier{}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &SMS{Store: st, Carrier: c, Limit: 2, Window: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()

	_, err := s.Send(ctx, "t1", "+3221234568", "021234567", "")
	var inv InvalidError
	if !errors.As(err, &inv) || len(inv) != 3 || inv[0].Field != "from" || inv[1].Field != "to" || inv[2].Field != "text" {
		t.Fatalf("every bad field at once: %v", err)
	}
	long := make([]rune, 0, 700)
	for range 700 {
		long = append(long, 'ł')
	}
	if _, err := s.Send(ctx, "t1", "+3221234567", "+32470123456", string(long)); !errors.As(err, &inv) || inv[0].Field != "text" {
		t.Errorf("an 11-segment UCS-2 text: %v", err)
	}
	r, err := s.Send(ctx, "t1", "021234567", "0470 12 34 56", "Uw afspraak: morgen 10u")
	if err != nil || r.From != "+3221234567" || r.To != "+32470123456" || r.Encoding != GSM7 || r.Segments != 1 {
		t.Fatalf("send: %+v %v", r, err)
	}
	if len(c.sent) != 1 || c.sent[0].From != "+3221234567" || string(c.sent[0].Body) != "Uw afspraak: morgen 10u" || c.pw != "secret" {
		t.Errorf("carrier got %+v (%q)", c.sent, c.pw)
	}
	s.Send(ctx, "t1", "021234567", "+32470123456", "2")
	if _, err := s.Send(ctx, "t1", "021234567", "+32470123456", "3"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("third SMS in a minute: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := s.Send(ctx, "t1", "021234567", "+32470123456", "4"); err != nil {
		t.Errorf("next window: %v", err)
	}
}
