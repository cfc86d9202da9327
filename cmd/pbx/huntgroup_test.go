package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// groupLab is a tenant with members 201-203 registered, 204 without a
// device, 205 registered on DND, and 209 for overflows, called by a carrier.
type groupLab struct {
	a       *app
	accs    []account
	tenant  string
	phones  map[string]*softphone // by extension
	carrier *softphone
	n       int
}

func newGroupLab(t *testing.T) *groupLab {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203", "204", "205", "209")
	l := &groupLab{a: a, accs: accs, tenant: accs[0].tenant.ID, phones: map[string]*softphone{}}
	for _, acc := range accs {
		if ext := acc.user.Extension; ext != "204" {
			l.phones[ext] = newSoftphone(t, a, acc, "udp")
		}
	}
	u := accs[4].user
	u.DND = true
	if err := a.store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	addTrunk(t, a)
	l.carrier = newTrunkCaller(t, a, "+32470000001")
	return l
}

// user is the id of extension ext.
func (l *groupLab) user(ext string) string {
	for _, acc := range l.accs {
		if acc.user.Extension == ext {
			return acc.user.ID
		}
	}
	panic("no extension " + ext)
}

// group creates a group of the extensions with spec's settings (strategy,
// timeouts, queue), overflowing to 209, and a number leading to it.
func (l *groupLab) group(t *testing.T, spec map[string]any, exts ...string) string {
	t.Helper()
	var members []string
	for _, e := range exts {
		members = append(members, l.user(e))
	}
	spec["name"] = fmt.Sprintf("Group %d", l.n)
	spec["members"] = members
	spec["overflow"] = map[string]any{"type": "user", "id": l.user("209")}
	for k, v := range map[string]any{"member_timeout": 10, "timeout": 30} {
		if _, ok := spec[k]; !ok {
			spec[k] = v
		}
	}
	id := addGroup(t, l.a, l.tenant, spec)
	l.n++
	number := fmt.Sprintf("+322123450%d", l.n)
	addNumber(t, l.a, l.tenant, number, map[string]any{"type": "hunt_group", "id": id})
	return number
}

// rings waits for the next call on ext and checks that no other phone
// rings meanwhile.
func (l *groupLab) rings(t *testing.T, ext string) *pcall {
	t.Helper()
	in := l.phones[ext].nextIncoming(t)
	for e, p := range l.phones {
		if e != ext {
			p.noIncoming(t, 0)
		}
	}
	return in
}

// quiet checks that no phone rings for a while.
func (l *groupLab) quiet(t *testing.T) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	for _, p := range l.phones {
		p.noIncoming(t, 0)
	}
}

// order places a call to number; each member of refuse rings in turn and
// refuses (480), then answer rings and answers. It returns both ends.
func (l *groupLab) order(t *testing.T, number string, refuse []string, answer string) (*pcall, *pcall) {
	t.Helper()
	d := startDial(t, l.carrier, number, dialOpt{})
	for _, ext := range refuse {
		l.rings(t, ext).reject(480, "Temporarily Unavailable")
	}
	in := l.rings(t, answer)
	in.answer(t, "0 101")
	return d.wait(t), in
}

// ended waits until the store has the end of ext's last call.
func (l *groupLab) ended(t *testing.T, ext string, after time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m, err := l.a.store.UsersLastCallEnded(context.Background(), []string{l.user(ext)})
		if err != nil {
			t.Fatal(err)
		}
		if at, ok := m[l.user(ext)]; ok && !at.Before(after) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the end of %s's call was not recorded", ext)
}

// TestHuntGroupStrategies shows each strategy by who rings, in which
// order; members on DND or with no registered device never ring.
func TestHuntGroupStrategies(t *testing.T) {
	l := newGroupLab(t)
	all := []string{"201", "202", "203", "204", "205"}

	t.Run("ring_all", func(t *testing.T) {
		number := l.group(t, map[string]any{"strategy": "ring_all"}, all...)
		d := startDial(t, l.carrier, number, dialOpt{})
		r := map[string]*pcall{}
		for _, ext := range []string{"201", "202", "203"} {
			r[ext] = l.phones[ext].nextIncoming(t)
		}
		r["203"].answer(t, "0 101")
		r["201"].waitCancelled(t)
		r["202"].waitCancelled(t)
		out := d.wait(t)
		requireRelayBoth(t, out, r["203"], 50, 40, "carrier to 203: %d frames", "203 to carrier: %d frames")
		endCall(t, l.a, out, r["203"])
		l.phones["205"].noIncoming(t, 0)
	})
	t.Run("linear", func(t *testing.T) {
		number := l.group(t, map[string]any{"strategy": "linear"}, all...)
		out, in := l.order(t, number, []string{"201", "202"}, "203")
		endCall(t, l.a, out, in)
	})
	t.Run("round_robin", func(t *testing.T) {
		number := l.group(t, map[string]any{"strategy": "round_robin"}, all...)
		// Each call starts after the member who answered the last one.
		for _, ext := range []string{"201", "202", "203", "201"} {
			out, in := l.order(t, number, nil, ext)
			endCall(t, l.a, in, out)
		}
		out, in := l.order(t, number, []string{"202"}, "203")
		endCall(t, l.a, in, out)
		start := time.Now()
		out, in = l.order(t, number, nil, "201") // after 203, skipping 204 and 205
		endCall(t, l.a, in, out)
		l.ended(t, "201", start)
	})
	t.Run("longest_idle", func(t *testing.T) {
		number := l.group(t, map[string]any{"strategy": "longest_idle"}, "202", "201", "203")
		// Their last calls (above) ended 202's first, then 203's, then
		// 201's: 202 has been idle longest, whatever the group's order.
		start := time.Now()
		out, in := l.order(t, number, nil, "202")
		endCall(t, l.a, out, in)
		l.ended(t, "202", start)
		// Now 203 has been idle longest, then 201, then 202 (just now).
		start = time.Now()
		out, in = l.order(t, number, []string{"203"}, "201")
		endCall(t, l.a, in, out)
		l.ended(t, "201", start)
		out, in = l.order(t, number, []string{"203", "202"}, "201")
		endCall(t, l.a, in, out)
	})
	t.Run("random", func(t *testing.T) {
		number := l.group(t, map[string]any{"strategy": "random"}, all...)
		// Every free member rings once, in some order; nobody answers:
		// the overflow (209) rings.
		d := startDial(t, l.carrier, number, dialOpt{})
		var rang []string
		for range 3 {
			select {
			case in := <-l.phones["201"].incoming:
				rang = append(rang, "201")
				in.reject(480, "Temporarily Unavailable")
			case in := <-l.phones["202"].incoming:
				rang = append(rang, "202")
				in.reject(480, "Temporarily Unavailable")
			case in := <-l.phones["203"].incoming:
				rang = append(rang, "203")
				in.reject(480, "Temporarily Unavailable")
			case <-time.After(20 * time.Second):
				t.Fatalf("rang %v, then nobody", rang)
			}
		}
		in := l.rings(t, "209")
		in.answer(t, "0 101")
		out := d.wait(t)
		endCall(t, l.a, out, in)
		slices.Sort(rang)
		if !slices.Equal(rang, []string{"201", "202", "203"}) {
			t.Fatalf("rang %v", rang)
		}
	})
}

// TestHuntGroupOverflow: nobody answers within the group's timeout; the
// members' calls are cancelled and the overflow destination rings.
func TestHuntGroupOverflow(t *testing.T) {
	l := newGroupLab(t)
	number := l.group(t, map[string]any{"strategy": "ring_all", "timeout": 5}, "201", "202")
	d := startDial(t, l.carrier, number, dialOpt{})
	r1, r2 := l.phones["201"].nextIncoming(t), l.phones["202"].nextIncoming(t)
	r1.waitCancelled(t)
	r2.waitCancelled(t)
	in := l.rings(t, "209")
	in.answer(t, "0 101")
	out := d.wait(t)
	requireRelay(t, out, in, 50, 40, "carrier to the overflow: %d frames")
	endCall(t, l.a, out, in)
}

// TestHuntGroupQueue: callers who find the only member busy are answered
// and hear music; when the member's call ends, the first in line is put
// through, then the next.
func TestHuntGroupQueue(t *testing.T) {
	l := newGroupLab(t)
	number := l.group(t, map[string]any{"strategy": "ring_all", "queue": map[string]any{"max_wait": 120}}, "201")
	callers := []*softphone{l.carrier, newTrunkCaller(t, l.a, "+32470000002"), newTrunkCaller(t, l.a, "+32470000003")}
	member := l.phones["201"]

	outA, err := callers[0].dial(t, number, dialOpt{})
	if err != nil {
		t.Fatal(err)
	}
	in := member.nextIncoming(t)
	in.answer(t, "0 101")
	requireRelay(t, outA, in, 50, 40, "first caller to the member: %d frames")

	// Two more callers queue, in this order, and hear music.
	var waiting []*pcall
	for _, c := range callers[1:] {
		out, err := c.dial(t, number, dialOpt{})
		if err != nil {
			t.Fatal(err)
		}
		rtpArrives(t, out, 5*time.Second, "music for "+c.acc.user.Extension)
		waiting = append(waiting, out)
		time.Sleep(100 * time.Millisecond) // their order in line
	}
	member.noIncoming(t, 500*time.Millisecond)

	prev, prevOut := in, outA
	for i, out := range waiting {
		// The member hangs up: the head of the line is put through.
		hangupAndWait(t, prev, prevOut)
		next := member.nextIncoming(t)
		if got, want := next.invite.From().Address.User, callers[i+1].acc.user.Extension; got != want {
			t.Fatalf("the member was put through to %s, want %s (first come, first served)", got, want)
		}
		next.answer(t, "0 101")
		requireRelayBoth(t, out, next, 50, 40, "queued caller to the member: %d frames", "member to queued caller: %d frames")
		prev, prevOut = next, out
	}
	endCall(t, l.a, prev, prevOut)
	// The member's ends were recorded (longest idle, wake-ups).
	if m, err := l.a.store.UsersLastCallEnded(context.Background(), []string{l.user("201")}); err != nil || m[l.user("201")].IsZero() {
		t.Fatalf("member's last call end: %v %v", m, err)
	}
}
