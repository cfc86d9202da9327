package dialplan

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// fakeVoicemail notes the deposits it was asked for and answers the caller,
// as the real one does before its greeting.
type fakeVoicemail struct {
	mu       sync.Mutex
	deposits []string // "tenant owner reason"
}

func (v *fakeVoicemail) Deposit(ctx context.Context, call callctl.Call, tenantID, owner, reason string) {
	v.mu.Lock()
	v.deposits = append(v.deposits, tenantID+" "+owner+" "+reason)
	v.mu.Unlock()
	call.Inbound().Answer(ctx)
}

func TestRouteToVoicemail(t *testing.T) {
	registered := fakeLocator{"u201": {binding("201", "udp")}, "u202": {binding("202", "udp")}, "u203": {binding("203", "udp")}}
	tests := []struct {
		name    string
		users   []store.User
		dial    string
		outcome map[string]fake.Outcome
		deposit string        // "" none
		cause   callctl.Cause // when no deposit
	}{
		{name: "nothing registered", users: []store.User{user("204")}, dial: "204", deposit: "t1 u204 unavailable"},
		{name: "no answer", users: []store.User{user("201")}, dial: "201",
			outcome: map[string]fake.Outcome{"u201": fake.NoAnswer}, deposit: "t1 u201 no_answer"},
		{name: "busy, forwarding on no answer only", users: []store.User{user("201", func(u *store.User) { u.ForwardNoAnswer = "202" }), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy}, deposit: "t1 u201 busy"},
		{name: "do not disturb", users: []store.User{user("201", func(u *store.User) { u.DND = true })}, dial: "201", deposit: "t1 u201 busy"},
		{name: "the last of a forwarding chain", users: []store.User{user("201", func(u *store.User) { u.ForwardNoAnswer = "202" }),
			user("202", func(u *store.User) { u.ForwardBusy = "203" }), user("203")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.NoAnswer, "u202": fake.Busy, "u203": fake.NoAnswer}, deposit: "t1 u203 no_answer"},
		{name: "forwarding wins", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "202" }), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy}},
		{name: "a rejected call is not a message", users: []store.User{user("201")}, dial: "201",
			outcome: map[string]fake.Outcome{"u201": fake.Rejected}, cause: callctl.CauseRejected},
		{name: "unknown number", dial: "299", cause: callctl.CauseNotFound},
		{name: "forwarded to an unknown number", users: []store.User{user("201", func(u *store.User) { u.ForwardAlways = "299" })},
			dial: "201", cause: callctl.CauseNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := &fakeVoicemail{}
			p := &Plan{Store: newStore(tt.users...), Locator: registered, Voicemail: vm}
			call := deviceCall(tt.dial)
			for tag, o := range tt.outcome {
				call.Script(tag, o)
			}
			route(t, p, call)
			in := call.InboundLeg()
			switch {
			case tt.deposit != "":
				if len(vm.deposits) != 1 || vm.deposits[0] != tt.deposit {
					t.Fatalf("deposits %q, want %q", vm.deposits, tt.deposit)
				}
				if h := in.Hangups(); len(h) != 0 {
					t.Fatalf("the caller was hung up (%v) instead of reaching the box", h)
				}
			case tt.cause != "":
				if len(vm.deposits) != 0 {
					t.Fatalf("deposits %q", vm.deposits)
				}
				if h := in.Hangups(); len(h) != 1 || h[0] != tt.cause {
					t.Fatalf("hang-ups %v, want %s", h, tt.cause)
				}
			default:
				if len(vm.deposits) != 0 || len(call.Bridges()) != 1 {
					t.Fatalf("deposits %q, bridges %d", vm.deposits, len(call.Bridges()))
				}
			}
		})
	}
}

type fakeMenu struct{ got []string }

func (m *fakeMenu) Listen(ctx context.Context, call callctl.Call, tenantID, owner string, pin bool) {
	m.got = append(m.got, fmt.Sprintf("%s %q %v", tenantID, owner, pin))
	call.Inbound().Answer(ctx)
}

func TestVoicemailCode(t *testing.T) {
	for _, tt := range []struct{ dial, want string }{
		{"*98", `t1 "u200" false`},    // one's own box, from one's own device
		{"*98200", `t1 "u200" false`}, // the same, by extension
		{"*98201", `t1 "u201" true`},  // a colleague's: behind its PIN
		{"*98299", `t1 "" true`},      // unknown: asked, never revealed
	} {
		t.Run(tt.dial, func(t *testing.T) {
			menu := &fakeMenu{}
			p := &Plan{Store: newStore(user("201")), Locator: fakeLocator{}, VoicemailMenu: menu}
			route(t, p, deviceCall(tt.dial))
			if len(menu.got) != 1 || menu.got[0] != tt.want {
				t.Fatalf("Listen calls %q, want %q", menu.got, tt.want)
			}
		})
	}
	// Without a menu the code is a number like any other.
	call := deviceCall("*98")
	route(t, &Plan{Store: newStore(), Locator: fakeLocator{}}, call)
	if h := call.InboundLeg().Hangups(); len(h) != 1 || h[0] != callctl.CauseNotFound {
		t.Fatalf("hang-ups %v", h)
	}
}

// TestTrunkCallsReachVoicemail: a number whose destination is a box, a
// flow's voicemail node and a number's user who is not reached all lead
// to the box.
func TestTrunkCallsReachVoicemail(t *testing.T) {
	for _, tt := range []struct {
		name    string
		dest    store.Destination
		flow    string
		group   *store.HuntGroup
		deposit string
	}{
		{name: "number to a box", dest: store.Destination{Type: store.DestVoicemail, ID: "u201"}, deposit: "t1 u201 unavailable"},
		{name: "number to an unregistered user", dest: store.Destination{Type: store.DestUser, ID: "u204"}, deposit: "t1 u204 unavailable"},
		{name: "flow's voicemail node", dest: store.Destination{Type: store.DestCallFlow, ID: "f1"},
			flow: `{"name":"x","start":"v","nodes":{"v":{"type":"voicemail","id":"u202"}}}`, deposit: "t1 u202 unavailable"},
		{name: "a group's overflow to its own box", dest: store.Destination{Type: store.DestHuntGroup, ID: "g1"},
			group: &store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u204"},
				Overflow: store.Destination{Type: store.DestVoicemail, ID: "g1"}}, deposit: "t1 g1 unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, r := numbersPlan(tt.dest)
			if tt.flow != "" {
				r.publish(tenantID, "f1", tt.flow)
			}
			if tt.group != nil {
				r.groups[tt.group.ID] = *tt.group
			}
			vm := &fakeVoicemail{}
			p.Voicemail = vm
			call := trunkCall("+3221234567")
			route(t, p, call)
			if len(vm.deposits) != 1 || vm.deposits[0] != tt.deposit {
				t.Fatalf("deposits %q, want %q", vm.deposits, tt.deposit)
			}
			if len(call.Dials()) != 0 {
				t.Fatalf("dialled %v", dialled(call))
			}
		})
	}
}
