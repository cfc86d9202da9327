package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logSink collects the JSON records of an app's logger.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// records returns the records with message msg, each as its fields.
func (s *logSink) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(s.text(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// waitRecord waits for a record with message msg whose fields include want.
func (s *logSink) waitRecord(t *testing.T, msg string, want map[string]any) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range s.records(t, msg) {
			ok := true
			for k, v := range want {
				if r[k] != v {
					ok = false
				}
			}
			if ok {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q record with %v in the log:\n%s", msg, want, s.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testAppLogging is testApp with its log, at INFO as `pbx serve` logs by
// default, in JSON into the returned sink.
func testAppLogging(t *testing.T) (*app, *logSink) {
	t.Helper()
	cfg, err := parseConfig([]string{"--data", t.TempDir(), "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--https", "127.0.0.1:0", "--rtp-ports", "2000-9999"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminToken = "test-admin-token"
	sink := &logSink{}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.start(); err != nil {
		a.close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	return a, sink
}

// TestOperatorLogLines: a registration, its removal, a refused
// authentication and a finished call each make one line an operator can
// read, with the device, contact and user agent, or the call's parties,
// cause and quality; no password ever appears.
func TestOperatorLogLines(t *testing.T) {
	a, logs := testAppLogging(t)
	accs := seedTenant(t, a, "Logs", "201", "202")
	caller, callee := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	dev := accs[0].device
	added := logs.waitRecord(t, "registration added", map[string]any{"device": dev.SIPUsername, "level": "INFO"})
	if added["contact"] != caller.contact.String() || added["user_agent"] != "testphone/1.0" || added["tenant_id"] != accs[0].tenant.ID {
		t.Errorf("registration added: %v", added)
	}
	// A refresh is the steady state of every phone: not at INFO.
	caller.register(600, accs[0].password)

	if res, err := caller.tryRegister(600, "wrong-password"); err != nil || res.StatusCode == 200 {
		t.Fatalf("a wrong password registered: %v %v", res, err)
	}
	refused := logs.waitRecord(t, "sip authentication failed", map[string]any{"username": dev.SIPUsername, "reason": "wrong_password"})
	if refused["level"] != "WARN" || refused["method"] != "REGISTER" || refused["user_agent"] != "testphone/1.0" || refused["contact"] != caller.contact.String() {
		t.Errorf("refused authentication: %v", refused)
	}

	out, in := connect(t, caller, callee, "202", "0")
	requireRelayBoth(t, out, in, 20, 15, "caller to callee: %d frames", "callee to caller: %d frames")
	endCall(t, a, out, in)
	call := logs.waitRecord(t, "call ended", map[string]any{"from": "201", "to": "202"})
	if call["level"] != "INFO" || call["tenant"] != accs[0].tenant.ID || call["cause"] == "" || call["disposition"] != "answered" || call["call_id"] == "" {
		t.Errorf("call ended: %v", call)
	}
	for _, leg := range []string{"caller_quality", "callee_quality"} {
		q, _ := call[leg].(map[string]any)
		if mos, _ := q["mos"].(float64); mos < 4 {
			t.Errorf("call ended: %s %v, want a MOS", leg, call[leg])
		}
	}

	if res := caller.register(0, accs[0].password); res.StatusCode != 200 {
		t.Fatalf("un-register: %s", res.StartLine())
	}
	logs.waitRecord(t, "registration removed", map[string]any{"device": dev.SIPUsername, "contact": caller.contact.String(), "level": "INFO"})
	if n := len(logs.records(t, "registration added")); n != 2 {
		t.Errorf("%d registration added lines, want one per phone (a refresh is not one)", n)
	}
	if n := len(logs.records(t, "registration refreshed")); n != 0 {
		t.Errorf("refreshes logged at INFO: %d", n)
	}
	for _, acc := range accs {
		if strings.Contains(logs.text(), acc.password) {
			t.Errorf("the log holds the SIP password of %s", acc.device.SIPUsername)
		}
	}
}
