package interop

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSIPpTrunkCallThroughMenu: SIPp, as a carrier sending from its
// trunk's address (127.0.0.2), calls a public number in its national form.
// The number leads to a call flow whose menu answers; SIPp presses 1 with
// RFC 4733 events (the pcap SIPp ships); the menu's 1 leads to a hunt
// group (linear) whose first member has no registered device and whose
// second is a SIPp callee registered beforehand. The calls are judged by
// both SIPp's statistics and the CDRs: answered, to the member, hung up by
// the carrier.
func TestSIPpTrunkCallThroughMenu(t *testing.T) {
	requireTool(t, "sipp", "sip-tester")
	for _, f := range []string{sippPCAP, "/usr/share/sip-tester/dtmf_2833_1.pcap"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the SIPp recording %s is missing (Debian package sip-tester): %v", f, err)
		}
	}
	srv := startServer(t, sippArgs...)
	ctx := testContext(t, 3*time.Minute)
	api := srv.API()
	const calls = 2
	tenant, accs, err := api.CreateCallAccounts(ctx, "Interop trunk calls", 2, 2, callNaming)
	if err != nil {
		t.Fatal(err)
	}
	absent, member := accs[0], accs[1]
	var id struct {
		ID string `json:"id"`
	}
	must := func(method, path string, body any) string {
		t.Helper()
		if err := api.Do(ctx, method, path, body, http.StatusCreated, &id); err != nil {
			t.Fatal(err)
		}
		return id.ID
	}
	must("POST", "/api/v1/trunks", map[string]any{"name": "SIPp carrier", "host": "127.0.0.2", "port": 5060, "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}})
	group := must("POST", "/api/v1/tenants/"+tenant.ID+"/hunt_groups", map[string]any{"name": "Sales", "strategy": "linear",
		"members": []string{absent.UserID, member.UserID}, "member_timeout": 10, "timeout": 30,
		"overflow": map[string]any{"type": "voicemail", "id": absent.UserID}})
	flow := must("POST", "/api/v1/tenants/"+tenant.ID+"/call_flows", map[string]any{"name": "Reception", "start": "menu",
		"nodes": map[string]any{
			"menu":  map[string]any{"type": "menu", "options": map[string]any{"1": "sales"}, "timeout": 10, "invalid": "bye"},
			"sales": map[string]any{"type": "hunt_group", "id": group},
			"bye":   map[string]any{"type": "hangup"},
		}})
	must("POST", "/api/v1/tenants/"+tenant.ID+"/numbers", map[string]any{"number": "+3221234567",
		"destination": map[string]any{"type": "call_flow", "id": flow}})

	dir := t.TempDir()
	port, err := FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	registerFromPort(t, ctx, srv, dir, []CallAccount{member}, port)
	uasScenario, err := WriteScenario(dir, "uas_call.xml")
	if err != nil {
		t.Fatal(err)
	}
	uacScenario, err := WriteScenario(dir, "trunk_menu_call.xml")
	if err != nil {
		t.Fatal(err)
	}
	uasMP, err := freeMediaPort()
	if err != nil {
		t.Fatal(err)
	}
	uacMP, err := freeMediaPort()
	for err == nil && uacMP == uasMP {
		uacMP, err = freeMediaPort()
	}
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 90 * time.Second
	uas := SIPp{Scenario: uasScenario, Target: srv.SIPAddr, Rate: 1, Calls: calls, Timeout: timeout + 20*time.Second,
		Args: []string{"-p", strconv.Itoa(port), "-mp", strconv.Itoa(uasMP), "-rtp_echo"}}
	// One call at a time: the group has one member who can answer.
	uac := SIPp{Scenario: uacScenario, Target: srv.SIPAddr, LocalIP: "127.0.0.2", Rate: 1, Calls: calls, Limit: 1, Timeout: timeout,
		Args: []string{"-s", "021234567", "-mp", strconv.Itoa(uacMP)}}
	run, err := RunSIPpCalls(ctx, dir, uas, uac, timeout+60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("carrier: %s", run.UAC.Summary())
	if run.UASErr != nil {
		t.Fatalf("member SIPp: %v", run.UASErr)
	}
	t.Logf("member: %s", run.UAS.Summary())
	if !run.UAC.Clean(calls) {
		t.Fatalf("carrier SIPp: want %d successful calls and none failed, got %s\n%s\n--- member ---\n%s",
			calls, run.UAC.Summary(), run.UAC.Diagnostics(), run.UAS.Diagnostics())
	}
	if !run.UAS.Clean(calls) {
		t.Fatalf("member SIPp: want %d successful calls and none failed, got %s\n%s", calls, run.UAS.Summary(), run.UAS.Diagnostics())
	}
	cdrs, err := waitCDRs(ctx, api, tenant.ID, calls)
	if err != nil {
		t.Fatal(err)
	}
	if n := answered(cdrs, 6); n != calls {
		t.Fatalf("want %d answered CDRs with at least 6 billable seconds, got %d:\n%s", calls, n, cdrSummary(cdrs))
	}
	for _, c := range cdrs {
		if c.Caller != "+32470000001" || c.Callee != member.Extension || c.HangupCause != "normal_clearing" {
			t.Errorf("CDR %s -> %s %s, want +32470000001 -> %s normal_clearing", c.Caller, c.Callee, c.HangupCause, member.Extension)
		}
	}
	if t.Failed() {
		t.Log(cdrSummary(cdrs))
	}
}
