package dialplan

import (
	"context"
	"sync"
	"testing"
	"time"

	"pbx/callctl/fake"
	"pbx/store"
)

// recWaker records the wake-ups asked of it and wakes nobody.
type recWaker struct {
	mu    sync.Mutex
	wakes []Wake
}

func (w *recWaker) Wake(ctx context.Context, wk Wake, _ func(store.Binding)) {
	w.mu.Lock()
	w.wakes = append(w.wakes, wk)
	w.mu.Unlock()
}

func pushBinding(ext string) store.Binding {
	b := binding(ext+"m", "tcp")
	b.Push = store.PushParams{Provider: "apns", PRID: "tok" + ext, Param: "T.app.voip"}
	return b
}

func TestWakeSleepingDevices(t *testing.T) {
	w := &recWaker{}
	desk := binding("201", "udp")
	loc := fakeLocator{"u201": {desk, pushBinding("201")}, "u202": {pushBinding("202")}}
	p := &Plan{Store: newStore(user("201"), user("202", func(u *store.User) { u.ForwardNoAnswer = "201" })), Locator: loc, Waker: w, PushWait: 7 * time.Second}

	// The desk phone rings at once; the mobile is woken, and a waiting
	// room with no target keeps the dial open for the push wait.
	call := deviceCall("201")
	call.ScriptDefault(fake.Answer)
	route(t, p, call)
	dials := call.Dials()
	if len(dials) != 1 || len(dials[0].Destinations) != 2 {
		t.Fatalf("dials %+v", dials)
	}
	d0, d1 := dials[0].Destinations[0], dials[0].Destinations[1]
	if len(d0.Targets) != 1 || d0.Targets[0].URI != desk.Contact || d0.Tag != "u201" {
		t.Errorf("first destination %+v: want the desk phone only", d0)
	}
	if len(d1.Targets) != 0 || d1.Delay != 7*time.Second || d1.Tag != "u201" {
		t.Errorf("waiting room %+v", d1)
	}
	w.mu.Lock()
	if len(w.wakes) != 1 || len(w.wakes[0].Bindings) != 1 || w.wakes[0].Bindings[0].Push.PRID != "tok201" ||
		w.wakes[0].CallID != call.ID() || w.wakes[0].Caller.Number != "200" {
		t.Errorf("wake-ups %+v", w.wakes)
	}
	w.mu.Unlock()

	// Only a sleeping device, which does not wake: the callee is as
	// unreachable as with nothing registered, and forwards on no answer.
	call = deviceCall("202")
	call.ScriptDefault(fake.Answer)
	route(t, p, call)
	if got := dialled(call); len(got) != 3 || got[0] != "202" || got[1] != "201" {
		t.Errorf("dialled %v, want 202's waiting room then its forwarding to 201 (desk phone and waiting room)", got)
	}
	if ans := call.Answered(); len(ans) != 1 || ans[0].Remote().Number != "201" {
		t.Errorf("answered by %+v", ans)
	}
}

func TestNoWakerRingsEveryBinding(t *testing.T) {
	p := &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp"), pushBinding("201")}}}
	call := deviceCall("201")
	call.ScriptDefault(fake.Answer)
	route(t, p, call)
	if d := call.Dials(); len(d) != 1 || len(d[0].Destinations) != 1 || len(d[0].Destinations[0].Targets) != 2 {
		t.Errorf("dials %+v", d)
	}
}
