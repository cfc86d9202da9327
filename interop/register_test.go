package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// registerWithSIPp provisions n accounts on srv, registers each once with
// SIPp's REGISTER-with-digest scenario and checks every call succeeded and
// every device shows a binding in the REST API.
func registerWithSIPp(t *testing.T, srv *Server, tenantName, sippTransport string, n int, rate float64, timeout time.Duration) {
	t.Helper()
	ctx := testContext(t, timeout+3*time.Minute)
	api := srv.API()
	tenant, accounts, err := api.CreateAccounts(ctx, tenantName, n, 8)
	if err != nil {
		t.Fatalf("provisioning %d accounts: %v", n, err)
	}
	dir := t.TempDir()
	inf := filepath.Join(dir, "accounts.csv")
	if err := WriteInjectionFile(inf, accounts); err != nil {
		t.Fatal(err)
	}
	scenario, err := WriteScenario(dir, "register.xml")
	if err != nil {
		t.Fatal(err)
	}
	run := SIPp{Scenario: scenario, Target: srv.SIPAddr, Transport: sippTransport, Injection: inf,
		Rate: rate, Calls: n, Limit: max(50, int(rate)*10), Timeout: timeout, Dir: dir}
	res, err := run.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sipp -t %s, %d accounts at %.0f/s: %s", sippTransport, n, rate, res.Summary())
	if !res.Clean(n) {
		t.Fatalf("want %d successful registrations and none failed, got %s\n%s", n, res.Summary(), res.Diagnostics())
	}

	regs, err := api.Registrations(ctx, tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	byDevice := map[string][]Registration{}
	for _, r := range regs {
		byDevice[r.DeviceID] = append(byDevice[r.DeviceID], r)
	}
	wantTransport := "udp"
	if strings.HasPrefix(sippTransport, "t") {
		wantTransport = "tcp"
	}
	missing := 0
	for _, a := range accounts {
		rs := byDevice[a.DeviceID]
		ok := false
		for _, r := range rs {
			ok = ok || (r.UserAgent == "SIPp-interop" && strings.EqualFold(r.Transport, wantTransport) &&
				strings.Contains(r.Contact, a.Username) && r.ExpiresAt.After(time.Now()))
		}
		if !ok {
			if missing < 5 {
				t.Errorf("device %s (%s): no live %s binding from SIPp in the registrations list: %+v", a.DeviceID, a.Username, wantTransport, rs)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d registered devices missing from GET /api/v1/tenants/%s/registrations (%d bindings listed)",
			missing, n, tenant.ID, len(regs))
	}
}

// TestSIPpRegisterWithDigest registers a few dozen accounts over UDP and
// over TCP with SIPp, each REGISTER challenged and then authenticated.
func TestSIPpRegisterWithDigest(t *testing.T) {
	requireTool(t, "sipp", "sip-tester")
	srv := startServer(t, sippArgs...)
	t.Run("udp", func(t *testing.T) {
		registerWithSIPp(t, srv, "Interop UDP", "u1", 40, 20, 60*time.Second)
	})
	t.Run("tcp", func(t *testing.T) {
		registerWithSIPp(t, srv, "Interop TCP", "t1", 20, 20, 60*time.Second)
	})
}

// TestSIPpRegisterLoad is the bounded load test of CI: 2,000 distinct
// accounts registering at 200 per second, with not a single failure.
func TestSIPpRegisterLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short; make test runs it")
	}
	requireTool(t, "sipp", "sip-tester")
	// Bans off: under load a failure must show as itself, not as the
	// cascade a banned 127.0.0.1 would cause.
	srv := startServer(t, append(sippArgs, "--ban-source-failures", "0", "--ban-account-failures", "0")...)
	registerWithSIPp(t, srv, "Interop Load", "u1", 2000, 200, 120*time.Second)
}
