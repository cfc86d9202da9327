package api_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"pbx/api"
	"pbx/features/messages"
	"pbx/store"
)

// nullCarrier takes every SMS, or fails them all.
type nullCarrier struct {
	mu   sync.Mutex
	sent []messages.Message
	fail bool
}

func (c *nullCarrier) ToCarrier(_ context.Context, _ store.Trunk, _, _ string, m messages.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("carrier answered 503")
	}
	c.sent = append(c.sent, m)
	return nil
}

func TestSendSMS(t *testing.T) {
	car := &nullCarrier{}
	e := newEnv(t, func(o *api.Options) {
		o.SMS = &messages.SMS{Store: o.Store.(*store.Store), Carrier: car, Limit: 2, Window: time.Hour}
	})
	ten, tok := e.tenant("Smsco")
	user := e.must(201, "POST", "/api/v1/tenants/"+ten+"/users", tok, map[string]any{"first_name": "A", "last_name": "B", "licence": "full", "extension": "201"}).str("id")
	e.must(201, "POST", "/api/v1/tenants/"+ten+"/numbers", tok, map[string]any{"number": "+3221234567", "destination": map[string]any{"type": "user", "id": user}})
	path := "/api/v1/tenants/" + ten + "/sms"

	// No trunk: 503.
	e.must(503, "POST", path, tok, map[string]any{"from": "+3221234567", "to": "+32470123456", "text": "hi"})
	e.must(201, "POST", "/api/v1/trunks", e.admin, map[string]any{"name": "Carrier", "host": "192.0.2.50", "transport": "udp", "inbound_sources": []string{"192.0.2.50"}})

	r := e.must(422, "POST", path, tok, map[string]any{"from": "+3250999999", "to": "021234567", "text": ""})
	if f := r.fields(); fmt.Sprint(f) != "[from to text]" {
		t.Errorf("422 fields %v: %s", f, r.raw)
	}
	long := ""
	for range 71 * 10 {
		long += "ł"
	}
	if f := e.must(422, "POST", path, tok, map[string]any{"from": "+3221234567", "to": "+32470123456", "text": long}).fields(); fmt.Sprint(f) != "[text]" {
		t.Errorf("too long: %v", f)
	}
	r = e.must(202, "POST", path, tok, map[string]any{"from": "021234567", "to": "0470 12 34 56", "text": "Ça coûte 5 €"})
	if r.str("encoding") != "UCS-2" || r.obj["segments"] != float64(1) || r.str("to") != "+32470123456" || r.str("from") != "+3221234567" {
		t.Errorf("receipt %s", r.raw)
	}
	car.fail = true
	e.must(502, "POST", path, tok, map[string]any{"from": "+3221234567", "to": "+32470123456", "text": "x"})
	e.must(429, "POST", path, tok, map[string]any{"from": "+3221234567", "to": "+32470123456", "text": "x"})
	if len(car.sent) != 1 || string(car.sent[0].Body) != "Ça coûte 5 €" {
		t.Errorf("sent %+v", car.sent)
	}
}

func TestSendSMSNotConfigured(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Nosms")
	e.must(503, "POST", "/api/v1/tenants/"+ten+"/sms", tok, map[string]any{"from": "+3221234567", "to": "+32470123456", "text": "hi"})
}
