package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbx/dialplan"
	"pbx/rating"
	"pbx/store"
)

// creditApp is a softswitch on the meter clock clk whose credit refusal
// announcement is a tone a test can hear.
func creditApp(t *testing.T, clk *meterClock) *app {
	t.Helper()
	dir := t.TempDir()
	for _, lang := range []string{"en", "fr", "nl"} {
		if err := os.MkdirAll(filepath.Join(dir, lang), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{dialplan.PromptCreditLimit, dialplan.PromptCallsBlocked, "vm-goodbye"} {
			if err := os.WriteFile(filepath.Join(dir, lang, id+".wav"), toneWAV(time.Second), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return testApp(t, t.TempDir(), func(c *config) { c.Prompts, c.RatingClock = dir, clk })
}

// TestUserCreditLimitCutsThenRefuses: a licence with a monthly limit of
// 1 euro, 84 cents of it spent, calls a national number through the
// outbound route: it hears the warning tone, is cut when the meter's
// clock reaches its credit, and its next call is refused with the
// announcement before any carrier is dialled, while a colleague under
// the tenant's own credit still calls out, and the licence's emergency
// call still goes through.
func TestUserCreditLimitCutsThenRefuses(t *testing.T) {
	clk := &meterClock{now: time.Now()}
	a := creditApp(t, clk)
	acme := seedTenant(t, a, "Acme", "201", "202")
	tid, alice := acme[0].tenant.ID, acme[0].user.ID
	c1 := newOutCarrier(t)
	trunk := addOutTrunk(t, a, "one", int(c1.addr.Port()), nil)
	apiCall(t, a, "POST", "/api/v1/routes", map[string]any{"prefix": "", "trunks": []string{trunk}}, 201)
	main := addNumber(t, a, tid, "+3221234500", map[string]any{"type": "user", "id": alice})
	apiCall(t, a, "PATCH", "/api/v1/tenants/"+tid+"/calling", map[string]any{"main_number_id": main}, 200)
	apiCall(t, a, "PUT", "/api/v1/rates", []map[string]any{{"prefix": "+32", "name": "Belgium", "per_minute": "0.06", "setup": "0.15"}}, 200)
	apiCall(t, a, "PUT", "/api/v1/tenants/"+tid+"/credit", map[string]any{"users": []map[string]any{{"user_id": alice, "limit": "1.00"}}}, 200)
	ctx := context.Background()
	now := clk.Now()
	if err := a.store.ImportCDRs(ctx, []store.CDR{{ID: "cdr_earlier", TenantID: tid, CallID: "earlier", Caller: "201", Callee: "+3250999999",
		Start: now, Answer: now, End: now, Disposition: "answered", Origin: "device"}},
		[]store.CDRPrice{{CDRID: "cdr_earlier", TenantID: tid, UserID: alice, Number: "+3250999999", Class: "national_fixed", Cents: 84, Start: now}}); err != nil {
		t.Fatal(err)
	}
	phone := newSoftphone(t, a, acme[0], "udp")
	colleague := newSoftphone(t, a, acme[1], "udp")

	out, cc := callOut(t, phone, "021112233", c1)
	answeredAt := time.Now()
	c1.nextInvite(t)
	silence := make([]byte, 160)
	for i := range 5 {
		if err := out.rtp.send(out.remote, 0, i == 0, silence, 160); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := out.rtp.recv(5 * time.Second); err != nil {
		t.Fatalf("no warning tone: %v", err)
	}
	clk.waitTimer(t)
	if d := time.Second - time.Since(answeredAt); d > 0 {
		time.Sleep(d) // a billed second at least: the price reaches the limit
	}
	clk.advance(10 * time.Second)
	out.waitEnded(t)
	cc.waitGone(t)
	waitIdle(t, a)
	m := rating.MonthOf(now)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		spent, err := a.store.Spent(ctx, tid, alice, m.Start(), m.End())
		if err != nil {
			t.Fatal(err)
		}
		if spent >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the licence spent %d cents after the cut call", spent)
		}
	}

	pc, err := phone.dial(t, "021112233", dialOpt{})
	if statusOf(err) != 403 {
		t.Fatalf("call past the licence's limit: %v, want 403", err)
	}
	heardAnnouncement(t, pc)
	c1.noInvite(t, 500*time.Millisecond)
	out, cc = callOut(t, colleague, "021112233", c1)
	c1.nextInvite(t)
	hangUp(t, out, cc)

	// Emergency calls are never refused for credit.
	out, cc = callOut(t, phone, "112", c1)
	if u := c1.nextInvite(t).Recipient.User; u != "112" {
		t.Fatalf("the emergency call was sent to %s", u)
	}
	hangUp(t, out, cc)
	waitIdle(t, a)
}
