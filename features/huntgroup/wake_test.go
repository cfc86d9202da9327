package huntgroup

import (
	"context"
	"slices"
	"sync"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
)

// sleepyDir is dir whose member "m" has only a device asleep behind a
// push service: its destination holds no target, and its wake adds the
// woken device to the dial.
type sleepyDir struct {
	*dir
	mu      sync.Mutex
	dialing callctl.Dialing
	stopped bool
}

func (s *sleepyDir) Destination(ctx context.Context, id string) (callctl.Destination, Wake, error) {
	if id != "m" {
		return s.dir.Destination(ctx, id)
	}
	wake := func(_ context.Context, _ callctl.Call, dialing callctl.Dialing) func() {
		s.mu.Lock()
		s.dialing = dialing
		s.mu.Unlock()
		_ = dialing.Add(callctl.Destination{Targets: []callctl.Target{{URI: "sip:m@198.51.100.9"}}, Callee: callctl.Party{Number: "m", UserID: "m"}, Tag: "m"})
		return func() {
			s.mu.Lock()
			s.stopped = true
			s.mu.Unlock()
		}
	}
	return callctl.Destination{Callee: callctl.Party{Number: "m", UserID: "m"}, Tag: "m"}, wake, nil
}

func TestSleepingMemberRingsOnceWoken(t *testing.T) {
	d := &sleepyDir{dir: newDir("a", "m")}
	call := newCall()
	call.ScriptDefault(fake.NoAnswer)
	call.Script("m", fake.Answer)
	hangUpWhenBridged(t, call)
	out, err := (&Hunt{Dir: d}).Run(context.Background(), call, Group{ID: "g", Strategy: RingAll, Members: []string{"a", "m"}})
	if err != nil || out != Served {
		t.Fatalf("outcome %v, %v", out, err)
	}
	dials := call.Dials()
	if len(dials) != 1 || !slices.Equal(tags(dials[0]), []string{"a", "m", "m"}) {
		t.Fatalf("dials %+v: want a, m's place holder, then m's woken device", dials)
	}
	if woken := dials[0].Destinations[2]; len(woken.Targets) != 1 || woken.Targets[0].URI != "sip:m@198.51.100.9" {
		t.Errorf("woken destination %+v", woken)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dialing == nil || !d.stopped {
		t.Errorf("wake started on the dial %v, stopped %v", d.dialing != nil, d.stopped)
	}
	if !slices.Equal(d.answered, []string{"m"}) {
		t.Errorf("answered recorded %v", d.answered)
	}
}
