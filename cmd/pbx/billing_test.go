package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbx/dialplan"
	"pbx/store"
)

// billingPrompts makes a prompts directory holding the announcements of
// billing refusals (a short tone each), so that tests hear them.
func billingPrompts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, lang := range []string{"en", "fr", "nl"} {
		if err := os.MkdirAll(filepath.Join(dir, lang), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{dialplan.PromptRestricted, dialplan.PromptServiceMinimum} {
			if err := os.WriteFile(filepath.Join(dir, lang, id+".wav"), toneWAV(300*time.Millisecond), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// gotEarlyAudio reports whether a refused call received audio (the
// announcement, as early media) before its final answer.
func gotEarlyAudio(pc *pcall) bool {
	if pc == nil || pc.rtp == nil {
		return false
	}
	_, err := pc.rtp.recv(2 * time.Second)
	return err == nil
}

// In every billing state, and under every barring with CLIR on, an
// emergency call is placed with the caller's number and location; other
// calls fail exactly as the state says: restricted refuses the public
// network (an outside number dialled, a number forwarded outside) with
// an announcement and lets
// internal and incoming calls through; service_minimum and suspended
// refuse internal calls with an announcement and incoming calls with
// 480; suspended also refuses registrations, yet its registered device
// still reaches 112.
func TestEmergencyInEveryBillingState(t *testing.T) {
	e := newEmergencyEnv(t, func(c *config) { c.Prompts = billingPrompts(t) })
	ctx := context.Background()
	a := e.a
	if err := a.store.SetTenantCalling(ctx, store.TenantCalling{TenantID: e.ten.ID, BarPremium: true, BarInternational: true}); err != nil {
		t.Fatal(err)
	}
	u := e.desk.user
	u.CLIR, u.BarInternational = true, true
	if err := a.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	addNumber(t, a, e.ten.ID, "+3221234299", map[string]any{"type": "external", "number": "050999999"})
	desk := newSoftphone(t, a, e.desk, "udp")
	soft := newSoftphone(t, a, e.soft, "udp")
	outside := newTrunkCaller(t, a, "+32470000001")

	for _, tc := range []struct {
		state                       string
		internal, outside, external int // SIP status of a refusal; 0: connected
		incoming                    int
	}{
		{"active", 0, 0, 0, 0},
		{"restricted", 0, 403, 403, 0},
		{"service_minimum", 403, 403, 480, 480},
		{"suspended", 403, 403, 480, 480},
	} {
		t.Run(tc.state, func(t *testing.T) {
			if r := apiCall(t, a, "PATCH", "/api/v1/tenants/"+e.ten.ID, map[string]any{"billing_state": tc.state}, 200); r["billing_state"] != tc.state {
				t.Fatalf("billing state %v", r["billing_state"])
			}
			// The emergency call.
			call := startDial(t, desk, "112", dialOpt{})
			cc := e.nextAnswered(t)
			emergencyInvite(t, cc.req, "112", "+3221234201")
			e.hangUp(t, call.wait(t), cc)

			// An internal call.
			call = startDial(t, soft, "201", dialOpt{})
			if tc.internal == 0 {
				in := desk.nextIncoming(t)
				in.answer(t, "0 8 101")
				endCall(t, a, call.wait(t), in)
			} else {
				r := <-call.ch
				if statusOf(r.err) != tc.internal || !gotEarlyAudio(r.pc) {
					t.Fatalf("internal call: %v, announced %v", r.err, gotEarlyAudio(r.pc))
				}
			}

			// An outside number dialled.
			call = startDial(t, desk, "050999999", dialOpt{})
			if tc.outside == 0 {
				cc := e.nextAnswered(t)
				if cc.req.Recipient.User != "+3250999999" {
					t.Fatalf("dialled out as %s", cc.req.Recipient.String())
				}
				e.hangUp(t, call.wait(t), cc)
			} else {
				r := <-call.ch
				if statusOf(r.err) != tc.outside || !gotEarlyAudio(r.pc) {
					t.Fatalf("outside number: %v, announced %v", r.err, gotEarlyAudio(r.pc))
				}
			}

			// A carrier's call to a number forwarded outside.
			call = startDial(t, outside, "021234299", dialOpt{})
			if tc.external == 0 {
				cc := e.nextAnswered(t)
				if cc.req.Recipient.User != "+3250999999" {
					t.Fatalf("forwarded to %s", cc.req.Recipient.String())
				}
				e.hangUp(t, call.wait(t), cc)
			} else {
				r := <-call.ch
				if statusOf(r.err) != tc.external || gotEarlyAudio(r.pc) != (tc.external == 403) {
					t.Fatalf("external forward: %v", r.err)
				}
			}

			// A carrier's call to a user.
			call = startDial(t, outside, "021234202", dialOpt{})
			if tc.incoming == 0 {
				in := soft.nextIncoming(t)
				in.answer(t, "0 8 101")
				endCall(t, a, call.wait(t), in)
			} else if got := waitStatus(t, call); got != tc.incoming {
				t.Fatalf("incoming call: %d", got)
			}

			res, err := soft.tryRegister(600, e.soft.password)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 403, false: 200}[tc.state == "suspended"]; res.StatusCode != want {
				t.Fatalf("register: %s", res.StartLine())
			}
			waitIdle(t, a)
		})
	}
}
