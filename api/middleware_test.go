package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A panicking handler answers a 500 problem with the request id, and the
// panic is logged; the process goes on.
func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	// nopStore's methods panic (nil interface): any authenticated request does.
	h := New(Options{Store: nopStore{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	req := httptest.NewRequest("GET", "/api/v1/tenants", nil)
	req.Header.Set("Authorization", "Bearer pbx_whatever")
	req.Header.Set("X-Request-Id", "proxy-id-42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.RequestID != "proxy-id-42" || rec.Header().Get("X-Request-Id") != "proxy-id-42" || strings.Contains(rec.Body.String(), "nil pointer") {
		t.Fatalf("problem: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"api: panic"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("logs: %s", logs.String())
	}
	if strings.Contains(logs.String(), "pbx_whatever") {
		t.Fatal("secret logged")
	}
}

func TestRequestIDSanitised(t *testing.T) {
	for in, keep := range map[string]bool{"abc-123": true, "": false, "has space": false, strings.Repeat("a", 65): false, "x\ny": false} {
		got := newRequestID(in)
		if (got == in) != keep || got == "" {
			t.Errorf("newRequestID(%q) = %q", in, got)
		}
	}
}
