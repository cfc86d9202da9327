package registrar

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"pbx/sip/sipauth"
	"pbx/store"
)

// expiringStore is a memStore whose sweep returns fixed bindings.
type expiringStore struct {
	*memStore
	gone []store.Binding
}

func (s *expiringStore) ExpireBindings(context.Context, time.Time) ([]store.Binding, error) {
	return s.gone, nil
}

// TestSweepLogsEachExpiry: each binding the sweep removes is one INFO line
// naming the device, contact and user agent.
func TestSweepLogsEachExpiry(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	st := &expiringStore{memStore: newMemStore(), gone: []store.Binding{
		{DeviceID: "dev_1", TenantID: "ten_1", Contact: "sip:a@192.0.2.1:5060", Source: "192.0.2.1:5060", Transport: "udp", UserAgent: "Yealink SIP-T54W"},
		{DeviceID: "dev_2", TenantID: "ten_1", Contact: "sip:b@192.0.2.2:5060", Source: "192.0.2.2:5060", Transport: "tcp", UserAgent: "baresip"},
	}}
	r := New(st, sipauth.NewAuthenticator(fixedKey), nil, Config{}, log, Metrics{})
	defer r.Close()
	n, err := r.SweepExpired(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	dec := json.NewDecoder(&buf)
	for _, want := range st.gone {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("want a line for %s: %v", want.DeviceID, err)
		}
		if rec["msg"] != "registration expired" || rec["level"] != "INFO" || rec["device_id"] != want.DeviceID ||
			rec["contact"] != want.Contact || rec["user_agent"] != want.UserAgent || rec["tenant_id"] != want.TenantID {
			t.Errorf("line %v, want one for %+v", rec, want)
		}
	}
}
