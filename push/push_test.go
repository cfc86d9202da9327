package push

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/push/pushtest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAPNsVoIPPush(t *testing.T) {
	srv := pushtest.NewAPNs(t, "be.example.phone")
	key, err := ParseP8(srv.P8())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().Add(-55 * time.Minute)} // the stand-in checks iat against the real clock
	a, err := NewAPNs(APNsConfig{KeyID: srv.KeyID, TeamID: srv.TeamID, Key: key, BundleID: srv.BundleID, URL: srv.URL(),
		Client: NewHTTP2Client(srv.Roots()), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dev := Device{Provider: "apns", Token: "a1b2c3d4", Param: srv.TeamID + ".be.example.phone.voip"}
	n := Notification{ID: "call-1", From: "201", FromName: "Ann", TTL: 10 * time.Second}
	var auths []string
	for i := range 3 {
		if err := a.Send(ctx, dev, n); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		p := <-srv.Pushes()
		if p.Token != dev.Token || p.Body["call-id"] != "call-1" || p.Body["from"] != "201" || p.Body["from-name"] != "Ann" {
			t.Errorf("push %+v", p)
		}
		auths = append(auths, p.Header.Get("authorization"))
		clk.add(25 * time.Minute)
	}
	// Apple wants a token refreshed at most every 20 and at least every 60 minutes.
	if auths[0] != auths[1] || auths[1] == auths[2] {
		t.Errorf("provider tokens at 0, 25 and 50 minutes: reused %v, %v", auths[0] == auths[1], auths[1] == auths[2])
	}

	for _, tc := range []struct {
		status int
		reason string
		gone   bool
	}{{410, "Unregistered", true}, {400, "BadDeviceToken", true}, {500, "InternalServerError", false}, {429, "TooManyRequests", false}} {
		tok := "tok" + tc.reason
		srv.Refuse(tok, tc.status, tc.reason)
		err := a.Send(ctx, Device{Provider: "apns", Token: tok}, n)
		if err == nil || Gone(err) != tc.gone || strings.Contains(err.Error(), tok) {
			t.Errorf("%d %s: %v (gone %v)", tc.status, tc.reason, err, Gone(err))
		}
	}
}

func TestFCMDataMessage(t *testing.T) {
	srv := pushtest.NewFCM(t, "pbx-test-1")
	f, err := NewFCM(FCMConfig{ServiceAccount: srv.ServiceAccount(), URL: srv.URL(), Client: NewHTTP2Client(srv.Roots())})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := Notification{ID: "call-2", From: "sip:201@acme.test", TTL: 10 * time.Second}
	for i, dev := range []Device{{Provider: "fcm", Token: "fcm-tok", Param: "pbx-test-1"}, {Provider: "fcm", Token: "fcm-tok"}} {
		if err := f.Send(ctx, dev, n); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		p := <-srv.Pushes()
		data := p.Body["data"].(map[string]any)
		if p.Token != "fcm-tok" || data["call-id"] != "call-2" || data["from"] != "sip:201@acme.test" || data["type"] != "call" {
			t.Errorf("push %+v", p)
		}
	}
	if srv.Minted() != 1 {
		t.Errorf("%d access tokens minted for two messages, want 1", srv.Minted())
	}
	srv.Refuse("gone", 404, "UNREGISTERED")
	if err := f.Send(ctx, Device{Provider: "fcm", Token: "gone"}, n); !Gone(err) {
		t.Errorf("UNREGISTERED: %v", err)
	}
	srv.Refuse("busy", 503, "UNAVAILABLE")
	if err := f.Send(ctx, Device{Provider: "fcm", Token: "busy"}, n); err == nil || Gone(err) {
		t.Errorf("UNAVAILABLE: %v", err)
	}
	if _, err := NewFCM(FCMConfig{ServiceAccount: []byte(`{"private_key":"secret-material"}`)}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad service account file: %v", err)
	}
}

func TestSendersUnknownService(t *testing.T) {
	if err := (Senders{}).Send(context.Background(), Device{Provider: "webpush", Token: "x"}, Notification{}); err != ErrNoService {
		t.Errorf("%v", err)
	}
}
