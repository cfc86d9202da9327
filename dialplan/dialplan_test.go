package dialplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"pbx/sip/b2bua"
	"pbx/store"
)

// fakeStore holds the tenant's licences by extension.
type fakeStore struct {
	users map[string]store.User
	err   error
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

// fakeLocator holds the bindings of each licence (by user id).
type fakeLocator map[string][]store.Binding

func (l fakeLocator) Lookup(_ context.Context, userID string) ([]store.Binding, error) {
	return l[userID], nil
}

// fakeDialer answers or refuses per extension dialled, and records what
// was dialled.
type fakeDialer struct {
	outcome map[string]b2bua.Cause // by callee extension; "" means answered
	dialled []string
	opts    []b2bua.DialOptions
}

func (d *fakeDialer) DialTargets(_ context.Context, targets []b2bua.Target, opts b2bua.DialOptions) (*b2bua.Leg, error) {
	d.dialled = append(d.dialled, opts.Callee.Number)
	d.opts = append(d.opts, opts)
	if len(targets) == 0 {
		return nil, &b2bua.DialError{Cause: b2bua.CauseUnavailable, Status: 480}
	}
	if c := d.outcome[opts.Callee.Number]; c != "" {
		return nil, &b2bua.DialError{Cause: c}
	}
	return &b2bua.Leg{}, nil
}

const tenantID = "t1"

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

func TestReach(t *testing.T) {
	registered := fakeLocator{"u201": {binding("201", "udp")}, "u202": {binding("202", "UDP")}, "u203": {binding("203", "tls")}}
	tests := []struct {
		name     string
		users    []store.User
		storeErr error
		dial     string
		outcome  map[string]b2bua.Cause
		// want
		answeredBy string
		cause      b2bua.Cause
		dialled    []string
		timeout    time.Duration // of the first dial, if any
	}{
		{name: "answered", users: []store.User{user("201")}, dial: "201",
			answeredBy: "201", dialled: []string{"201"}, timeout: 60 * time.Second},
		{name: "unknown extension", users: []store.User{user("201")}, dial: "299", cause: b2bua.CauseNotFound},
		{name: "empty number", users: []store.User{user("201")}, dial: "  ", cause: b2bua.CauseNotFound},
		{name: "store failure", storeErr: errors.New("db down"), dial: "201", cause: b2bua.CauseFailure},
		{name: "light licence is never a target", users: []store.User{user("201", func(u *store.User) { u.Licence = store.LicenceLight })},
			dial: "201", cause: b2bua.CauseUnavailable},
		{name: "suspended licence", users: []store.User{user("201", func(u *store.User) {
			u.Status = "suspended"
			u.SuspendedUntil = time.Now().Add(time.Hour)
		})}, dial: "201", cause: b2bua.CauseUnavailable},
		{name: "nothing registered", users: []store.User{user("204")}, dial: "204", cause: b2bua.CauseUnavailable},
		{name: "nothing registered forwards as no answer", users: []store.User{user("204", func(u *store.User) { u.ForwardNoAnswer = "202" }), user("202")},
			dial: "204", answeredBy: "202", dialled: []string{"202"}},
		{name: "unconditional", users: []store.User{user("201", func(u *store.User) { u.ForwardAlways = "202" }), user("202")},
			dial: "201", answeredBy: "202", dialled: []string{"202"}},
		{name: "unconditional to an unknown number", users: []store.User{user("201", func(u *store.User) { u.ForwardAlways = "299" })},
			dial: "201", cause: b2bua.CauseNotFound},
		{name: "busy forwards", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "202" }), user("202")},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseBusy}, answeredBy: "202", dialled: []string{"201", "202"}},
		{name: "busy without forwarding", users: []store.User{user("201", func(u *store.User) { u.ForwardNoAnswer = "202" }), user("202")},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseBusy}, cause: b2bua.CauseBusy, dialled: []string{"201"}},
		{name: "no answer forwards after its delay", users: []store.User{user("201", func(u *store.User) {
			u.ForwardNoAnswer = "202"
			u.NoAnswerSeconds = 15
		}), user("202")},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseNoAnswer}, answeredBy: "202", dialled: []string{"201", "202"}, timeout: 15 * time.Second},
		{name: "no answer without forwarding", users: []store.User{user("201")},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseNoAnswer}, cause: b2bua.CauseNoAnswer, dialled: []string{"201"}},
		{name: "rejected is not forwarded", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy, u.ForwardNoAnswer = "202", "202" }), user("202")},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseNotAcceptable}, cause: b2bua.CauseNotAcceptable, dialled: []string{"201"}},
		{name: "DND is busy", users: []store.User{user("201", func(u *store.User) { u.DND = true })},
			dial: "201", cause: b2bua.CauseBusy},
		{name: "DND forwards as busy", users: []store.User{user("201", func(u *store.User) {
			u.DND = true
			u.ForwardBusy = "203"
		}), user("203")}, dial: "201", answeredBy: "203", dialled: []string{"203"}},
		{name: "unconditional beats DND", users: []store.User{user("201", func(u *store.User) {
			u.DND = true
			u.ForwardAlways, u.ForwardBusy = "202", "203"
		}), user("202"), user("203")}, dial: "201", answeredBy: "202", dialled: []string{"202"}},
		{name: "forward to self is not followed", users: []store.User{user("201", func(u *store.User) { u.ForwardBusy = "201" })},
			dial: "201", outcome: map[string]b2bua.Cause{"201": b2bua.CauseBusy}, cause: b2bua.CauseBusy, dialled: []string{"201"}},
		{name: "forwarding loop ends", users: []store.User{
			user("201", func(u *store.User) { u.ForwardAlways = "202" }),
			user("202", func(u *store.User) { u.ForwardAlways = "201" }),
		}, dial: "201", cause: b2bua.CauseUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{users: map[string]store.User{}, err: tc.storeErr}
			for _, u := range tc.users {
				st.users[u.Extension] = u
			}
			d := &fakeDialer{outcome: tc.outcome}
			p := &Plan{Store: st, Locator: registered}
			leg, by, cause := p.reach(context.Background(), d, store.Tenant{ID: tenantID, Domain: "acme.example"}, tc.dial, nil, "", 0)
			if (leg != nil) != (tc.answeredBy != "") || by != tc.answeredBy || cause != tc.cause {
				t.Fatalf("reach(%q) = leg %v, by %q, cause %q; want by %q, cause %q", tc.dial, leg != nil, by, cause, tc.answeredBy, tc.cause)
			}
			if !slices.Equal(d.dialled, tc.dialled) {
				t.Fatalf("dialled %v, want %v", d.dialled, tc.dialled)
			}
			if tc.timeout != 0 && d.opts[0].Timeout != tc.timeout {
				t.Fatalf("ring timeout %v, want %v", d.opts[0].Timeout, tc.timeout)
			}
			for _, o := range d.opts {
				if o.Strategy != b2bua.Parallel || o.Callee.Domain != "acme.example" || o.Callee.Name != "User "+o.Callee.Number {
					t.Fatalf("dial options %+v", o)
				}
			}
		})
	}
}

// A transfer (or any caller given explicitly) keeps its caller identity
// through forwarding; a light licence caller presents without a number.
func TestReachKeepsCaller(t *testing.T) {
	st := &fakeStore{users: map[string]store.User{
		"201": user("201", func(u *store.User) { u.ForwardAlways = "202" }),
		"202": user("202"),
	}}
	d := &fakeDialer{}
	p := &Plan{Store: st, Locator: fakeLocator{"u202": {binding("202", "udp")}}}
	light := b2bua.Party{Name: "Lobby Phone", Domain: "acme.example", UserID: "u900"}
	base := &b2bua.DialOptions{CallerID: &light}
	if leg, _, cause := p.reach(context.Background(), d, store.Tenant{ID: tenantID}, "201", base, "", 0); leg == nil {
		t.Fatalf("not reached: %s", cause)
	}
	if got := d.opts[0].CallerID; got == nil || *got != light {
		t.Fatalf("caller id %+v, want %+v", got, light)
	}
}

func TestMaxForwards(t *testing.T) {
	st := &fakeStore{users: map[string]store.User{}}
	for i := 201; i <= 210; i++ {
		ext := fmt.Sprint(i)
		st.users[ext] = user(ext, func(u *store.User) { u.ForwardAlways = fmt.Sprint(i + 1) })
	}
	st.users["211"] = user("211")
	loc := fakeLocator{"u211": {binding("211", "udp")}}
	for _, tc := range []struct {
		max     int
		reached bool
	}{{0, false}, {5, false}, {10, true}} {
		d := &fakeDialer{}
		p := &Plan{Store: st, Locator: loc, MaxForwards: tc.max}
		leg, _, _ := p.reach(context.Background(), d, store.Tenant{ID: tenantID}, "201", nil, "", 0)
		if (leg != nil) != tc.reached {
			t.Errorf("MaxForwards %d: reached %v", tc.max, leg != nil)
		}
	}
}

func TestTargets(t *testing.T) {
	got := Targets([]store.Binding{binding("201", "UDP"), binding("202", "tls"), binding("203", "TCP")})
	want := []b2bua.Target{
		{Contact: "sip:201@192.0.2.1:5060", Source: "192.0.2.1:5060", Transport: "udp", Label: "d201"},
		{Contact: "sip:202@192.0.2.1:5060", Source: "192.0.2.1:5060", Transport: "tls", SRTP: true, Label: "d202"},
		{Contact: "sip:203@192.0.2.1:5060", Source: "192.0.2.1:5060", Transport: "tcp", Label: "d203"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Targets:\n got %+v\nwant %+v", got, want)
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

// Calling one's own extension rings one's other devices, never the device
// that dials; with no other device, it is unavailable (or forwarded).
func TestReachSkipsTheCallingDevice(t *testing.T) {
	desk, mobile := binding("201", "udp"), binding("201", "tls")
	mobile.DeviceID = "d201-mobile"
	st := &fakeStore{users: map[string]store.User{"201": user("201")}}
	var got []string
	d := &targetsDialer{fakeDialer: &fakeDialer{}, seen: &got}
	p := &Plan{Store: st, Locator: fakeLocator{"u201": {desk, mobile}}}
	if leg, _, cause := p.reach(context.Background(), d, store.Tenant{ID: tenantID}, "201", nil, "d201", 0); leg == nil {
		t.Fatalf("not reached: %s", cause)
	}
	if !slices.Equal(got, []string{"d201-mobile"}) {
		t.Fatalf("rang %v, want only the other device", got)
	}
	p.Locator = fakeLocator{"u201": {desk}}
	if leg, _, cause := p.reach(context.Background(), d, store.Tenant{ID: tenantID}, "201", nil, "d201", 0); leg != nil || cause != b2bua.CauseUnavailable {
		t.Fatalf("only the calling device registered: leg %v, cause %q", leg != nil, cause)
	}
}

// targetsDialer records the devices each dial rings.
type targetsDialer struct {
	*fakeDialer
	seen *[]string
}

func (d *targetsDialer) DialTargets(ctx context.Context, targets []b2bua.Target, opts b2bua.DialOptions) (*b2bua.Leg, error) {
	for _, t := range targets {
		*d.seen = append(*d.seen, t.Label)
	}
	return d.fakeDialer.DialTargets(ctx, targets, opts)
}
