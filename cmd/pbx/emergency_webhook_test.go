package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"pbx/webhook"
)

type webhookHit struct {
	header http.Header
	body   []byte
}

// The tenant's webhook is told of an emergency call: the POST arrives
// signed with the tenant's secret, and when the endpoint first answers
// 500 it is retried, the same delivery signed again, until it succeeds.
func TestEmergencyWebhookSignedAndRetried(t *testing.T) {
	hits := make(chan webhookHit, 8)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- webhookHit{r.Header.Clone(), b}
		if n.Add(1) == 1 {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	e := newEmergencyEnv(t, func(c *config) {
		c.WebhookBackoff = func(int) time.Duration { return 200 * time.Millisecond }
		c.WebhookAllowPrivate = true // the endpoint is on loopback
	})
	const secret = "tenant-webhook-secret-0123"
	apiCall(t, e.a, "PUT", "/api/v1/tenants/"+e.ten.ID+"/webhook", map[string]any{"url": srv.URL + "/pbx-events", "secret": secret}, 200)

	desk := newSoftphone(t, e.a, e.desk, "udp")
	call := startDial(t, desk, "112", dialOpt{})
	cc := e.nextAnswered(t)
	e.hangUp(t, call.wait(t), cc)

	next := func() webhookHit {
		t.Helper()
		select {
		case h := <-hits:
			return h
		case <-time.After(20 * time.Second):
			t.Fatal("no webhook delivery")
			return webhookHit{}
		}
	}
	first, second := next(), next()
	for i, h := range []webhookHit{first, second} {
		if err := webhook.Verify(secret, h.header, h.body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if webhook.Verify("another-secret-0123456", h.header, h.body, time.Now(), 5*time.Minute) == nil {
			t.Fatal("the signature does not depend on the secret")
		}
	}
	if string(first.body) != string(second.body) || first.header.Get(webhook.HeaderDelivery) != second.header.Get(webhook.HeaderDelivery) {
		t.Fatal("the retry is not the same delivery")
	}
	var raw map[string]any
	if err := json.Unmarshal(first.body, &raw); err != nil {
		t.Fatal(err)
	}
	data, _ := raw["data"].(map[string]any)
	loc, _ := data["location"].(map[string]any)
	civic, _ := loc["civic"].(map[string]any)
	if raw["event"] != "emergency_call" || raw["tenant_id"] != e.ten.ID || data["number"] != "112" || data["class"] != "on_site" ||
		data["user_id"] != e.desk.user.ID || data["device_id"] != e.desk.device.ID || data["caller"] != "+3221234201" ||
		data["location_source"] != "site" || civic["pc"] != "1000" || civic["a3"] != "Brussel" {
		t.Fatalf("payload %s", first.body)
	}
	// Delivered: nothing is left to send.
	deadline := time.Now().Add(20 * time.Second)
	for {
		due, err := e.a.store.DueWebhooks(context.Background(), time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still queued: %+v", due)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case h := <-hits:
		t.Fatalf("a third delivery: %s", h.body)
	case <-time.After(500 * time.Millisecond):
	}
}

// A device whose licence is suspended may not register, yet the device
// registered before the suspension still reaches 112 when its INVITE
// authenticates.
func TestEmergencyFromSuspendedLicence(t *testing.T) {
	e := newEmergencyEnv(t)
	desk := newSoftphone(t, e.a, e.desk, "udp")
	if err := e.a.store.SuspendUser(context.Background(), e.ten.ID, e.desk.user.ID, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if res, err := desk.tryRegister(600, e.desk.password); err != nil || res.StatusCode != 403 {
		t.Fatalf("register of a suspended licence: %v %v", res, err)
	}
	if got := waitStatus(t, startDial(t, desk, "201", dialOpt{})); got != 403 {
		t.Fatalf("ordinary call of a suspended licence: %d", got)
	}
	call := startDial(t, desk, "112", dialOpt{})
	cc := e.nextAnswered(t)
	emergencyInvite(t, cc.req, "112", "+3221234201")
	e.hangUp(t, call.wait(t), cc)
}
