package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"pbx/rating"
	"pbx/store"
	"pbx/webhook"
)

const webhookSecret = "credit-webhook-secret-0123"

// meterClock is the credit meter's clock in these tests: it moves only
// when the test says so.
type meterClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []meterWaiter
}

type meterWaiter struct {
	at time.Time
	c  chan time.Time
}

func (f *meterClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *meterClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	f.waiters = append(f.waiters, meterWaiter{f.now.Add(d), c})
	return c
}

func (f *meterClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.c <- f.now
	}
	f.waiters = kept
}

func (f *meterClock) waitTimer(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		n := len(f.waiters)
		f.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the meter is not watching the call")
		}
	}
}

// TestCreditLimitCutsThenRefuses: a tenant's number forwards to an
// external number, which the carrier (a sipgo UA) answers. With 84 of
// its 100 cents spent, the call (0.15 setup, 0.06 a minute) gets a
// warning tone at once and is cut when the meter's clock reaches the
// credit; its price reaches the limit, the tenant moves to restricted,
// the administrators' webhook is told (signed), and the next call is
// refused before any carrier is dialled.
func TestCreditLimitCutsThenRefuses(t *testing.T) {
	clk := &meterClock{now: time.Now()}
	a := testApp(t, t.TempDir(), func(c *config) {
		c.RatingClock = clk
		c.WebhookAllowPrivate = true // the administrators' endpoint is on loopback
	})
	acme := seedTenant(t, a, "Acme", "201")
	tid := acme[0].tenant.ID
	answered := make(chan *carrierCall, 4)
	out := newCarrier(t, func(cc *carrierCall) {
		cc.respond(200, "OK", cc.sdp(t))
		answered <- cc
	})
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": out.addr.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}}, 201)
	addNumber(t, a, tid, "+3221234567", map[string]any{"type": "external", "number": "050999999"})
	apiCall(t, a, "PUT", "/api/v1/rates", []map[string]any{{"prefix": "+32", "name": "Belgium", "per_minute": "0.06", "setup": "0.15"}}, 200)
	apiCall(t, a, "PUT", "/api/v1/tenants/"+tid+"/credit", map[string]any{"limit": "1.00", "auto_restrict": true}, 200)
	ctx := context.Background()
	now := clk.Now()
	if err := a.store.ImportCDRs(ctx, []store.CDR{{ID: "cdr_earlier", TenantID: tid, CallID: "earlier", Caller: "+32470000001", Callee: "+3250999999",
		Start: now, Answer: now, End: now, Disposition: "answered", Origin: "trunk"}},
		[]store.CDRPrice{{CDRID: "cdr_earlier", TenantID: tid, Number: "+3250999999", Class: "national_fixed", Cents: 84, Start: now}}); err != nil {
		t.Fatal(err)
	}
	hooks := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if webhook.Verify(webhookSecret, r.Header, b, time.Now(), 5*time.Minute) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		hooks <- b
	}))
	defer srv.Close()
	apiCall(t, a, "PUT", "/api/v1/tenants/"+tid+"/webhook", map[string]any{"url": srv.URL, "secret": webhookSecret}, 200)
	caller := newTrunkCaller(t, a, "+32470000001")

	in, err := caller.dial(t, "021234567", dialOpt{})
	if err != nil {
		t.Fatalf("call to the external number: %v", err)
	}
	answeredAt := time.Now()
	var cc *carrierCall
	select {
	case cc = <-answered:
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier was not called")
	}
	out.nextInvite(t)
	// 16 cents left: 10 s on the meter's clock, less than a minute: the
	// warning tone comes at once (the carrier sends nothing: what the
	// caller hears is the tone).
	silence := make([]byte, 160)
	for i := range 5 {
		if err := in.rtp.send(in.remote, 0, i == 0, silence, 160); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := in.rtp.recv(5 * time.Second); err != nil {
		t.Fatalf("no warning tone: %v", err)
	}
	clk.waitTimer(t)
	// The record's billed time is the real one: let a second pass so that
	// the price (setup and at least a second) reaches the limit.
	if d := time.Second - time.Since(answeredAt); d > 0 {
		time.Sleep(d)
	}
	clk.advance(10 * time.Second)
	in.waitEnded(t)
	select {
	case <-cc.dlg.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier's leg was not hung up")
	}
	waitIdle(t, a)
	m := rating.MonthOf(now)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		spent, err := a.store.Spent(ctx, tid, "", m.Start(), m.End())
		if err != nil {
			t.Fatal(err)
		}
		if spent >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spent %d cents after the cut call", spent)
		}
	}
	if ten, _ := a.store.Tenant(ctx, tid); ten.BillingState != "restricted" {
		t.Fatalf("billing state %q after reaching the limit", ten.BillingState)
	}
	select {
	case b := <-hooks:
		var p struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b, &p); err != nil || p.Event != rating.EventCreditLimit || p.Data["restricted"] != true || p.Data["limit_cents"] != 100.0 {
			t.Fatalf("webhook %s, %v", b, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the administrators' webhook was not called")
	}

	// The next call is refused, and no carrier is dialled.
	if _, err := caller.dial(t, "021234567", dialOpt{}); statusOf(err) != 403 {
		t.Fatalf("call past the limit: %v, want 403", err)
	}
	out.noInvite(t, 500*time.Millisecond)
	waitIdle(t, a)
}
