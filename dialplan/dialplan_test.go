package dialplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// fakeStore holds the tenant's licences by extension.
type fakeStore struct {
	users   map[string]store.User
	tenants map[string]store.Tenant
	err     error
}

func (s *fakeStore) UserByExtension(_ context.Context, tenantID, ext string) (store.User, error) {
	if s.err != nil {
		return store.User{}, s.err
	}
	u, ok := s.users[ext]
	if !ok || u.TenantID != tenantID {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (s *fakeStore) User(_ context.Context, tenantID, id string) (store.User, error) {
	for _, u := range s.users {
		if u.ID == id && u.TenantID == tenantID {
			return u, nil
		}
	}
	return store.User{}, store.ErrNotFound
}

func (s *fakeStore) Tenant(_ context.Context, id string) (store.Tenant, error) {
	if t, ok := s.tenants[id]; ok {
		return t, nil
	}
	return store.Tenant{}, store.ErrNotFound
}

// fakeLocator holds the bindings of each licence (by user id).
type fakeLocator map[string][]store.Binding

func (l fakeLocator) Lookup(_ context.Context, userID string) ([]store.Binding, error) {
	return l[userID], nil
}

const (
	tenantID = "t1"
	domain   = "acme.example"
)

func user(ext string, mutate ...func(*store.User)) store.User {
	u := store.User{ID: "u" + ext, TenantID: tenantID, FirstName: "User", LastName: ext, Licence: store.LicenceFull, Extension: ext, Status: "active"}
	for _, m := range mutate {
		m(&u)
	}
	return u
}

func binding(ext, transport string) store.Binding {
	return store.Binding{DeviceID: "d" + ext, Contact: "sip:" + ext + "@192.0.2.1:5060", Source: "192.0.2.1:5060", Transport: transport}
}

// newStore holds users, the caller 200 among them, and one active tenant.
func newStore(users ...store.User) *fakeStore {
	st := &fakeStore{users: map[string]store.User{}, tenants: map[string]store.Tenant{tenantID: {ID: tenantID, Domain: domain, BillingState: "active"}}}
	for _, u := range append([]store.User{user("200")}, users...) {
		st.users[u.Extension] = u
	}
	return st
}

// deviceCall is a call from extension 200's device d200 to dialled.
func deviceCall(dialled string) *fake.Call {
	return fake.NewCall(callctl.Origin{Kind: callctl.OriginDevice, TenantID: tenantID, Domain: domain, UserID: "u200", DeviceID: "d200",
		Caller: callctl.Party{Name: "User 200", Number: "200", Domain: domain, UserID: "u200"}}, dialled)
}

const patience = 10 * time.Second // generous: nothing here waits on purpose

// route runs p.Route on call. When the program bridges, the callee hangs
// up (as a real party would, some time later) so that Route returns; the
// bridge is returned, nil if there was none.
func route(t *testing.T, p *Plan, call *fake.Call) *fake.Bridge {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Route(context.Background(), call)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	bridged := make(chan *fake.Bridge, 1)
	go func() { bridged <- call.WaitBridge(ctx) }()
	var br *fake.Bridge
	select {
	case <-done:
	case br = <-bridged:
		_, callee := br.Legs()
		callee.(*fake.Leg).RemoteHangup(callctl.CauseNormal)
		select {
		case <-done:
		case <-time.After(patience):
			t.Fatal("Route did not return after the callee hung up")
		}
	case <-time.After(patience):
		t.Fatal("Route neither bridged nor returned")
	}
	cancel()
	if br == nil {
		br = <-bridged
	}
	call.End()
	return br
}

// dialled lists the callees' numbers of every dial, in order.
func dialled(call *fake.Call) []string {
	var out []string
	for _, s := range call.Dials() {
		for _, d := range s.Destinations {
			out = append(out, d.Callee.Number)
		}
	}
	return out
}

func TestRoute(t *testing.T) {
	registered := fakeLocator{"u201": {binding("201", "udp")}, "u202": {binding("202", "UDP")}, "u203": {binding("203", "tls")}}
	tests := []struct {
		name     string
		users    []store.User
		storeErr error
		dial     string
		outcome  map[string]fake.Outcome // by user id
		// want
		answeredBy string
		cause      callctl.Cause
		dialled    []string
		timeout    time.Duration // of the first dial, if any
	}{
		{name: "answered", users: []store.User{user("201")}, dial: "201",
			answeredBy: "201", dialled: []string{"201"}, timeout: 60 * time.Second},
		{name: "unknown extension", dial: "299", cause: callctl.CauseNotFound},
		{name: "empty number", dial: "  ", cause: callctl.CauseNotFound},
		{name: "store failure", storeErr: errors.New("db down"), dial: "201", cause: callctl.CauseFailure},
		{name: "light licence is never a target", users: []store.User{user("201", func(u *store.User) { u.Licence = store.LicenceLight })},
			dial: "201", cause: callctl.CauseUnavailable},
		{name: "suspended callee", users: []store.User{user("201", func(u *store.User) {
			u.Status = "suspended"
			u.SuspendedUntil = time.Now().Add(time.Hour)
		})}, dial: "201", cause: callctl.CauseUnavailable},
		{name: "nothing registered", users: []store.User{user("204")}, dial: "204", cause: callctl.CauseUnavailable},
		{name: "nothing registered forwards as no answer", users: []store.User{user("204", func(u *store.User) { u.ForwardNoAnswer = "202" }), user("202")},
			dial: "204", answeredBy: "202", dialled: []string{"202"}},
		{name: "unconditional", users: []store.User{user("201", func(u *store.User) { u.ForwardAlways = "202" }), user("202")},
			dial: "201", answeredBy: "202", dialled: []string{"202"}},
		{name: "unconditional to an unknown number", users: []store.User{user("201", func(u *store.User) { u.ForwardAlways = "299" })},
			dial: "201", cause: callctl.CauseNotFound},
		{name: "busy forwards", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "202" }), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy}, answeredBy: "202", dialled: []string{"201", "202"}},
		{name: "busy chain", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "202" }),
			user("202", func(u *store.User) { u.ForwardBusy = "203" }), user("203")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy, "u202": fake.Busy}, answeredBy: "203", dialled: []string{"201", "202", "203"}},
		{name: "busy without forwarding", users: []store.User{user("201", func(u *store.User) { u.ForwardNoAnswer = "202" }), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy}, cause: callctl.CauseBusy, dialled: []string{"201"}},
		{name: "no answer forwards after its delay", users: []store.User{user("201", func(u *store.User) {
			u.ForwardNoAnswer = "202"
			u.NoAnswerSeconds = 15
		}), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.NoAnswer}, answeredBy: "202", dialled: []string{"201", "202"}, timeout: 15 * time.Second},
		{name: "no answer then busy", users: []store.User{user("201", func(u *store.User) { u.ForwardNoAnswer = "202" }),
			user("202", func(u *store.User) { u.ForwardBusy = "203" }), user("203")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.NoAnswer, "u202": fake.Busy, "u203": fake.NoAnswer},
			cause: callctl.CauseNoAnswer, dialled: []string{"201", "202", "203"}},
		{name: "no answer without forwarding", users: []store.User{user("201")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.NoAnswer}, cause: callctl.CauseNoAnswer, dialled: []string{"201"}},
		{name: "rejected is not forwarded", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy, u.ForwardNoAnswer = "202", "202" }), user("202")},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Rejected}, cause: callctl.CauseRejected, dialled: []string{"201"}},
		{name: "DND is busy", users: []store.User{user("201", func(u *store.User) { u.DND = true })},
			dial: "201", cause: callctl.CauseBusy},
		{name: "DND forwards as busy", users: []store.User{user("201", func(u *store.User) {
			u.DND = true
			u.ForwardBusy = "203"
		}), user("203")}, dial: "201", answeredBy: "203", dialled: []string{"203"}},
		{name: "unconditional beats DND", users: []store.User{user("201", func(u *store.User) {
			u.DND = true
			u.ForwardAlways, u.ForwardBusy = "202", "203"
		}), user("202"), user("203")}, dial: "201", answeredBy: "202", dialled: []string{"202"}},
		{name: "forward to self is not followed", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "201" })},
			dial: "201", outcome: map[string]fake.Outcome{"u201": fake.Busy}, cause: callctl.CauseBusy, dialled: []string{"201"}},
		{name: "forwarding loop ends", users: []store.User{
			user("201", func(u *store.User) { u.ForwardAlways = "202" }),
			user("202", func(u *store.User) { u.ForwardAlways = "201" }),
		}, dial: "201", cause: callctl.CauseUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(tc.users...)
			st.err = tc.storeErr
			call := deviceCall(tc.dial)
			for tag, o := range tc.outcome {
				call.Script(tag, o)
			}
			p := &Plan{Store: st, Locator: registered}
			br := route(t, p, call)
			in := call.InboundLeg()
			if tc.answeredBy == "" {
				if br != nil || in.Answered() || !slices.Equal(in.Hangups(), []callctl.Cause{tc.cause}) {
					t.Fatalf("bridged %v, answered %v, hung up with %v; want rejected with %q", br != nil, in.Answered(), in.Hangups(), tc.cause)
				}
			} else {
				if br == nil || !in.Answered() {
					t.Fatalf("bridged %v, answered %v, hung up with %v; want answered by %s", br != nil, in.Answered(), in.Hangups(), tc.answeredBy)
				}
				a, b := br.Legs()
				if a != callctl.Leg(in) || b.Remote().Number != tc.answeredBy {
					t.Fatalf("bridge of %s and %s, want the caller and %s", a.ID(), b.Remote().Number, tc.answeredBy)
				}
				// The callee who hung up ended the bridge: the caller is
				// hung up with its cause.
				if !slices.Equal(in.Hangups(), []callctl.Cause{callctl.CauseNormal}) {
					t.Fatalf("caller hung up with %v", in.Hangups())
				}
				callee, set := call.Callee()
				if want := tc.answeredBy != tc.dial; set != want || (set && callee.Number != tc.answeredBy) {
					t.Fatalf("CDR callee %+v (set %v), want %s named: %v", callee, set, tc.answeredBy, want)
				}
			}
			if got := dialled(call); !slices.Equal(got, tc.dialled) {
				t.Fatalf("dialled %v, want %v", got, tc.dialled)
			}
			specs := call.Dials()
			if tc.timeout != 0 && specs[0].Timeout != tc.timeout {
				t.Fatalf("ring timeout %v, want %v", specs[0].Timeout, tc.timeout)
			}
			for _, s := range specs {
				d := s.Destinations[0]
				if len(s.Destinations) != 1 || s.Strategy != callctl.Simultaneous || s.Caller != nil || d.CallerID != nil ||
					d.Callee.Domain != domain || d.Callee.Name != "User "+d.Callee.Number || d.Tag != "u"+d.Callee.Number || d.Callee.UserID != d.Tag {
					t.Fatalf("dial spec %+v", s)
				}
			}
		})
	}
}

// The dial names the callee's devices as they registered: one destination
// per licence, its devices ringing together, each reached where it
// registered from, TLS ones with SRTP.
func TestRouteDialsEveryDevice(t *testing.T) {
	desk, mobile := binding("201", "udp"), binding("201", "TLS")
	mobile.DeviceID, mobile.Contact, mobile.Source = "d201-mobile", "sips:201@198.51.100.7:5061", "198.51.100.7:40001"
	call := deviceCall("201")
	route(t, &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {desk, mobile}}, RingTimeout: 25 * time.Second}, call)
	specs := call.Dials()
	if len(specs) != 1 || len(specs[0].Destinations) != 1 {
		t.Fatalf("dials %+v", specs)
	}
	want := []callctl.Target{
		{URI: "sip:201@192.0.2.1:5060", Via: "192.0.2.1:5060", Transport: "udp", DeviceID: "d201"},
		{URI: "sips:201@198.51.100.7:5061", Via: "198.51.100.7:40001", Transport: "tls", SRTP: true, DeviceID: "d201-mobile"},
	}
	if got := specs[0].Destinations[0].Targets; !slices.EqualFunc(got, want, func(a, b callctl.Target) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatalf("targets\n got %+v\nwant %+v", got, want)
	}
	if specs[0].Timeout != 25*time.Second {
		t.Fatalf("ring timeout %v", specs[0].Timeout)
	}
}

// Calling one's own extension rings one's other devices, never the device
// that dials; with no other device, it is unavailable.
func TestRouteSkipsTheCallingDevice(t *testing.T) {
	own, other := binding("200", "udp"), binding("200", "tcp")
	other.DeviceID = "d200-mobile"
	call := deviceCall("200")
	if br := route(t, &Plan{Store: newStore(), Locator: fakeLocator{"u200": {own, other}}}, call); br == nil {
		t.Fatalf("not reached: %v", call.InboundLeg().Hangups())
	}
	var rang []string
	for _, tg := range call.Dials()[0].Destinations[0].Targets {
		rang = append(rang, tg.DeviceID)
	}
	if !slices.Equal(rang, []string{"d200-mobile"}) {
		t.Fatalf("rang %v, want only the other device", rang)
	}
	call = deviceCall("200")
	route(t, &Plan{Store: newStore(), Locator: fakeLocator{"u200": {own}}}, call)
	if got := call.InboundLeg().Hangups(); len(call.Dials()) != 0 || !slices.Equal(got, []callctl.Cause{callctl.CauseUnavailable}) {
		t.Fatalf("only the calling device registered: dials %d, hung up with %v", len(call.Dials()), got)
	}
}

func TestMaxForwards(t *testing.T) {
	var users []store.User
	for i := 201; i <= 210; i++ {
		users = append(users, user(fmt.Sprint(i), func(u *store.User) { u.ForwardAlways = fmt.Sprint(i + 1) }))
	}
	users = append(users, user("211"))
	loc := fakeLocator{"u211": {binding("211", "udp")}}
	for _, tc := range []struct {
		max     int
		reached bool
	}{{0, false}, {5, false}, {10, true}} {
		call := deviceCall("201")
		br := route(t, &Plan{Store: newStore(users...), Locator: loc, MaxForwards: tc.max}, call)
		if (br != nil) != tc.reached {
			t.Errorf("MaxForwards %d: reached %v", tc.max, br != nil)
		}
	}
}

// The caller hanging up while the callee rings ends the dial: nothing is
// answered and the call is not forwarded.
func TestRouteCallerGone(t *testing.T) {
	call := deviceCall("201")
	call.InboundLeg().RemoteHangup(callctl.CauseCancelled)
	st := newStore(user("201", func(u *store.User) { u.ForwardBusy, u.ForwardNoAnswer = "202", "202" }), user("202"))
	route(t, &Plan{Store: st, Locator: fakeLocator{"u201": {binding("201", "udp")}, "u202": {binding("202", "udp")}}}, call)
	if got := dialled(call); !slices.Equal(got, []string{"201"}) || len(call.Answered()) != 0 || call.InboundLeg().Answered() {
		t.Fatalf("dialled %v, answered %d", got, len(call.Answered()))
	}
}

// A caller that cannot be answered any more leaves the callee hung up.
func TestRouteAnswerFails(t *testing.T) {
	call := deviceCall("201")
	call.InboundLeg().AnswerErr = errors.New("no ACK")
	route(t, &Plan{Store: newStore(user("201")), Locator: fakeLocator{"u201": {binding("201", "udp")}}}, call)
	ans := call.Answered()
	if len(ans) != 1 || !slices.Equal(ans[0].Hangups(), []callctl.Cause{callctl.CauseNormal}) || len(call.Bridges()) != 0 {
		t.Fatalf("answered legs %d, bridges %d", len(ans), len(call.Bridges()))
	}
}

func TestRingTimeout(t *testing.T) {
	for _, tc := range []struct {
		u    store.User
		def  time.Duration
		want time.Duration
	}{
		{store.User{}, 0, 60 * time.Second},
		{store.User{}, 20 * time.Second, 20 * time.Second},
		{store.User{NoAnswerSeconds: 10}, 20 * time.Second, 20 * time.Second}, // no forwarding: delay unused
		{store.User{ForwardNoAnswer: "202", NoAnswerSeconds: 10}, 20 * time.Second, 10 * time.Second},
		{store.User{ForwardNoAnswer: "202"}, 0, 60 * time.Second},
	} {
		if got := ringTimeout(tc.u, tc.def); got != tc.want {
			t.Errorf("ringTimeout(%+v, %v) = %v, want %v", tc.u, tc.def, got, tc.want)
		}
	}
}
