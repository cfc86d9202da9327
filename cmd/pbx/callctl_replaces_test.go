package main

import (
	"context"
	"testing"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// TestInviteReplacesTakesOverABridgedCall: a third phone of the tenant
// sends INVITE with Replaces naming bob's dialog of a call between alice
// and bob (RFC 3891): it ends up talking with alice, and bob is hung up.
// A Replaces naming no dialog gets 481; early-only on a confirmed dialog,
// 486; a phone of another tenant, 481.
func TestInviteReplacesTakesOverABridgedCall(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	others := seedTenant(t, a, "Other", "201")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	mallory := newSoftphone(t, a, others[0], "udp")
	parked := make(chan callctl.Leg, 1)
	bridged := make(chan error, 1)
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			return
		}
		// By what was dialled: the second caller's answer may return
		// before the first's.
		if c.Dialled() == "500" {
			parked <- in
			<-in.Done()
			return
		}
		br, err := c.Bridge(<-parked, in, callctl.BridgeOptions{})
		bridged <- err
		if err == nil {
			<-br.Done()
		}
	})
	aout, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	bout, err := bob.dial(t, "501", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-bridged; err != nil {
		t.Fatal(err)
	}
	requireRelayBoth(t, aout, bout, 30, 20, "alice to bob: %d frames", "bob to alice: %d frames")
	local, remote := bout.dialogTags()
	replaces := func(callID, toTag, fromTag, extra string) []sip.Header {
		return []sip.Header{sip.NewHeader("Replaces", callID+";to-tag="+toTag+";from-tag="+fromTag+extra)}
	}
	ctx := context.Background()

	_, err = inviteWith(t, ctx, carol, newRTPEnd(t), "202", replaces("nosuchcall", remote, local, ""), nil)
	if statusOf(err) != 481 {
		t.Fatalf("Replaces of no dialog: %v", err)
	}
	_, err = inviteWith(t, ctx, carol, newRTPEnd(t), "202", replaces(bout.callID, remote, local, ";early-only"), nil)
	if statusOf(err) != 486 {
		t.Fatalf("early-only Replaces of a confirmed dialog: %v", err)
	}
	_, err = inviteWith(t, ctx, mallory, newRTPEnd(t), "202", replaces(bout.callID, remote, local, ""), nil)
	if statusOf(err) != 481 {
		t.Fatalf("Replaces from another tenant: %v", err)
	}

	cout, err := inviteWith(t, ctx, carol, newRTPEnd(t), "202", replaces(bout.callID, remote, local, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	bout.waitEnded(t)
	requireRelayBoth(t, aout, cout, 30, 20, "alice to carol: %d frames", "carol to alice: %d frames")
	hangupAndWait(t, cout, aout)
	waitIdle(t, a)
}
