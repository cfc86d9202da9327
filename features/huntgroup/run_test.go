package huntgroup

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
)

// dir is a group's members as the tests set them.
type dir struct {
	mu       sync.Mutex
	members  map[string]Member
	last     string
	answered []string
}

func newDir(ids ...string) *dir {
	d := &dir{members: map[string]Member{}}
	for _, id := range ids {
		d.members[id] = Member{UserID: id, Registered: true}
	}
	return d
}

func (d *dir) set(id string, f func(*Member)) {
	d.mu.Lock()
	m := d.members[id]
	f(&m)
	d.members[id] = m
	d.mu.Unlock()
}

func (d *dir) Members(_ context.Context, ids []string) ([]Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Member
	for _, id := range ids {
		out = append(out, d.members[id])
	}
	return out, nil
}

func (d *dir) Destination(_ context.Context, id string) (callctl.Destination, Wake, error) {
	return callctl.Destination{Targets: []callctl.Target{{URI: "sip:" + id + "@192.0.2.1"}}, Callee: callctl.Party{Number: id, UserID: id}}, nil, nil
}

func (d *dir) LastAnswered(context.Context, string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last, nil
}

func (d *dir) Answered(_ context.Context, _, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = id
	d.answered = append(d.answered, id)
	m := d.members[id]
	m.Busy = true // in a call with the caller now, as the b2bua would report
	d.members[id] = m
	return nil
}

func newCall() *fake.Call {
	return fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, Caller: callctl.Party{Number: "+3221234567"}}, "+3229000000")
}

func tags(spec callctl.DialSpec) []string {
	var out []string
	for _, d := range spec.Destinations {
		out = append(out, d.Tag)
	}
	return out
}

// hangUpWhenBridged ends the member's leg once the program bridged it, as
// a member finishing the conversation would.
func hangUpWhenBridged(t *testing.T, call *fake.Call) {
	t.Helper()
	go func() {
		deadline := time.After(10 * time.Second)
		for {
			if ls := call.Answered(); len(ls) > 0 && len(call.Bridges()) > 0 {
				ls[len(ls)-1].RemoteHangup(callctl.CauseNormal)
				return
			}
			select {
			case <-deadline:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
}

func TestStrategiesRingInOrder(t *testing.T) {
	for _, tc := range []struct {
		s        Strategy
		dialSeq  bool
		want     []string
		answerBy string
	}{
		{RingAll, false, []string{"a", "b", "c"}, "b"},
		{Linear, true, []string{"a", "b", "c"}, "c"},
		{RoundRobin, true, []string{"c", "a", "b"}, "a"}, // b answered last time
		{LongestIdle, true, []string{"c", "a", "b"}, "c"},
	} {
		t.Run(string(tc.s), func(t *testing.T) {
			d := newDir("a", "b", "c")
			d.last = "b"
			d.set("a", func(m *Member) { m.LastCallEnded = time.Unix(200, 0) })
			d.set("b", func(m *Member) { m.LastCallEnded = time.Unix(300, 0) })
			call := newCall()
			call.ScriptDefault(fake.NoAnswer)
			call.Script(tc.answerBy, fake.Answer)
			hangUpWhenBridged(t, call)
			h := &Hunt{Dir: d}
			out, err := h.Run(context.Background(), call, Group{ID: "g", Strategy: tc.s, Members: []string{"a", "b", "c"}, MemberTimeout: 7 * time.Second})
			if err != nil || out != Served {
				t.Fatalf("outcome %v, %v", out, err)
			}
			dials := call.Dials()
			if len(dials) != 1 || !slices.Equal(tags(dials[0]), tc.want) {
				t.Fatalf("rang %v, want %v", dials, tc.want)
			}
			if (dials[0].Strategy == callctl.Sequential) != tc.dialSeq {
				t.Errorf("strategy %v", dials[0].Strategy)
			}
			if tc.dialSeq && dials[0].Destinations[0].Timeout != 7*time.Second {
				t.Errorf("member timeout %v", dials[0].Destinations[0].Timeout)
			}
			if !slices.Equal(d.answered, []string{tc.answerBy}) {
				t.Errorf("answered recorded %v", d.answered)
			}
			if !call.InboundLeg().Answered() || len(call.Bridges()) != 1 {
				t.Errorf("caller not answered and bridged")
			}
		})
	}
}

func TestSkippedMembersAndOverflow(t *testing.T) {
	d := newDir("a", "b", "c", "d")
	d.set("a", func(m *Member) { m.DND = true })
	d.set("b", func(m *Member) { m.Busy = true })
	d.set("c", func(m *Member) { m.Registered = false })
	call := newCall()
	call.ScriptDefault(fake.NoAnswer)
	out, err := (&Hunt{Dir: d}).Run(context.Background(), call, Group{ID: "g", Strategy: RingAll, Members: []string{"a", "b", "c", "d"}, Timeout: 30 * time.Second})
	if err != nil || out != Overflow {
		t.Fatalf("outcome %v, %v", out, err)
	}
	dials := call.Dials()
	if len(dials) != 1 || !slices.Equal(tags(dials[0]), []string{"d"}) || dials[0].Timeout != 30*time.Second {
		t.Fatalf("dials %+v", dials)
	}
	if call.InboundLeg().State() == callctl.LegEnded || call.InboundLeg().Answered() {
		t.Error("an overflowing caller must stay up and unanswered for the overflow destination")
	}
	// Nobody free at all: straight to the overflow, no dial.
	d.set("d", func(m *Member) { m.DND = true })
	call = newCall()
	if out, _ := (&Hunt{Dir: d}).Run(context.Background(), call, Group{ID: "g", Strategy: Linear, Members: []string{"a", "b", "c", "d"}}); out != Overflow || len(call.Dials()) != 0 {
		t.Fatalf("outcome %v dials %v", out, call.Dials())
	}
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	d := newDir("a")
	call := newCall()
	call.InboundLeg().RemoteHangup(callctl.CauseCancelled)
	if out, _ := (&Hunt{Dir: d}).Run(context.Background(), call, Group{ID: "g", Strategy: RingAll, Members: []string{"a"}}); out != Gone {
		t.Fatalf("outcome %v", out)
	}
}
