package dialplan

import (
	"context"
	"slices"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// blindTransfer: 200 called 201, 201 transfers 200 to target.
func blindTransfer(t *testing.T, target string, script func(*fake.Call), users ...store.User) (*fake.Call, *fake.Transfer) {
	t.Helper()
	call := deviceCall("201")
	if script != nil {
		script(call)
	}
	transferor := fake.NewLeg(false, callctl.Party{Name: "User 201", Number: "201", Domain: domain, UserID: "u201"})
	tr := fake.NewTransfer(call, transferor, call.Inbound(), target)
	loc := fakeLocator{"u202": {binding("202", "udp")}, "u203": {binding("203", "udp")}}
	(&Plan{Store: newStore(users...), Locator: loc}).BlindTransfer(context.Background(), tr)
	return call, tr
}

func TestBlindTransferCompletes(t *testing.T) {
	call, tr := blindTransfer(t, "202", nil, user("201"), user("202"))
	ans := call.Answered()
	if len(ans) != 1 || tr.Completed() != callctl.Leg(ans[0]) || tr.Failed() != "" {
		t.Fatalf("answered %d, completed with %v, failed %q", len(ans), tr.Completed(), tr.Failed())
	}
	// The target is dialled for the transferee, who is presented as the
	// caller, and who waits (ringing) for it.
	spec := call.Dials()[0]
	if spec.Caller != tr.Transferee() || spec.Destinations[0].CallerID == nil || spec.Destinations[0].CallerID.Number != "200" ||
		spec.Destinations[0].Callee.Number != "202" {
		t.Fatalf("dial spec %+v", spec)
	}
	if got := tr.Transferor().(*fake.Leg).Hangups(); !slices.Equal(got, []callctl.Cause{callctl.CauseTransferred}) {
		t.Fatalf("transferor hung up with %v", got)
	}
}

// A busy target forwards like any call; the transferee keeps its identity.
func TestBlindTransferFollowsForwarding(t *testing.T) {
	call, tr := blindTransfer(t, "202", func(c *fake.Call) { c.Script("u202", fake.Busy) },
		user("202", func(u *store.User) { u.ForwardBusy = "203" }), user("203"))
	if tr.Completed() == nil || dialled(call)[1] != "203" || call.Dials()[1].Destinations[0].CallerID.Number != "200" {
		t.Fatalf("completed %v, dialled %v", tr.Completed(), dialled(call))
	}
}

func TestBlindTransferFails(t *testing.T) {
	for _, tc := range []struct {
		target string
		script func(*fake.Call)
		want   callctl.Cause
	}{
		{"202", func(c *fake.Call) { c.Script("u202", fake.Busy) }, callctl.CauseBusy},
		{"202", func(c *fake.Call) { c.Script("u202", fake.NoAnswer) }, callctl.CauseNoAnswer},
		{"299", nil, callctl.CauseNotFound},
	} {
		_, tr := blindTransfer(t, tc.target, tc.script, user("202"))
		if tr.Completed() != nil || tr.Failed() != tc.want {
			t.Errorf("transfer to %s: completed %v, failed %q; want %q", tc.target, tr.Completed(), tr.Failed(), tc.want)
		}
		if got := tr.Transferor().(*fake.Leg).Hangups(); len(got) != 0 {
			t.Errorf("transferor hung up with %v after a failed transfer", got)
		}
	}
}
