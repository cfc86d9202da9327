package store

import (
	"context"
	"testing"
	"time"
)

func TestPendingMessages(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		now := time.UnixMilli(4102444800123).UTC()
		body := []byte("h\xc3\xa9 \x00binary")
		for i, text := range [][]byte{body, []byte("second"), []byte("old")} {
			exp := now.Add(7 * 24 * time.Hour)
			if i == 2 {
				exp = now.Add(-time.Second)
			}
			if _, err := s.AddPendingMessage(ctx, PendingMessage{TenantID: ten.ID, UserID: u.ID, Sender: "sip:201@acme.test", SenderName: "Ann",
				ContentType: "text/plain;charset=UTF-8", Body: text, CreatedAt: now.Add(time.Duration(i) * time.Millisecond), ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := s.PendingMessages(ctx, u.ID, now)
		if err != nil || len(ms) != 2 || string(ms[0].Body) != string(body) || string(ms[1].Body) != "second" || ms[0].SenderName != "Ann" || !ms[0].CreatedAt.Equal(now) {
			t.Fatalf("pending: %+v %v", ms, err)
		}
		if ok, err := s.DeletePendingMessage(ctx, ms[0].ID); !ok || err != nil {
			t.Errorf("delete: %v %v", ok, err)
		}
		if ok, _ := s.DeletePendingMessage(ctx, ms[0].ID); ok {
			t.Error("a message was delivered twice")
		}
		if n, err := s.DeleteExpiredMessages(ctx, now); n != 1 || err != nil {
			t.Errorf("expired: %d %v", n, err)
		}
		if ms, _ := s.PendingMessages(ctx, u.ID, now); len(ms) != 1 || string(ms[0].Body) != "second" {
			t.Errorf("left: %+v", ms)
		}
	})
}
