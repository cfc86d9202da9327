package dialplan

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/features/callflow"
	"pbx/media"
	"pbx/store"
)

// fakeRoutes holds numbers, hunt groups, flows and trunks.
type fakeRoutes struct {
	mu       sync.Mutex
	numbers  map[string]store.Number // by E.164
	groups   map[string]store.HuntGroup
	flows    map[string]store.CallFlow
	trunks   []store.Trunk
	outbound []store.OutboundRoute          // longest prefix first, as the store lists them
	callerID map[string]store.Number        // by user id
	calling  map[string]store.TenantCalling // by tenant id; absent: the defaults
	idle     map[string]time.Time
	answered map[string]string // group → member
	ended    []string
}

func newRoutes() *fakeRoutes {
	return &fakeRoutes{numbers: map[string]store.Number{}, groups: map[string]store.HuntGroup{}, flows: map[string]store.CallFlow{},
		idle: map[string]time.Time{}, answered: map[string]string{}}
}

func (r *fakeRoutes) NumberByE164(_ context.Context, e164 string) (store.Number, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.numbers[e164]; ok {
		return n, nil
	}
	return store.Number{}, store.ErrNotFound
}

func (r *fakeRoutes) HuntGroup(_ context.Context, tenantID, id string) (store.HuntGroup, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[id]
	if !ok || g.TenantID != tenantID {
		return store.HuntGroup{}, store.ErrNotFound
	}
	g.LastAnsweredMember = r.answered[id]
	return g, nil
}

func (r *fakeRoutes) HuntGroupByExtension(_ context.Context, tenantID, ext string) (store.HuntGroup, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.groups {
		if g.TenantID == tenantID && g.Extension != "" && g.Extension == ext {
			return g, nil
		}
	}
	return store.HuntGroup{}, store.ErrNotFound
}

func (r *fakeRoutes) HuntGroupAnswered(_ context.Context, groupID, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered[groupID] = userID
	return nil
}

func (r *fakeRoutes) UsersLastCallEnded(_ context.Context, ids []string) (map[string]time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Time{}
	for _, id := range ids {
		if at, ok := r.idle[id]; ok {
			out[id] = at
		}
	}
	return out, nil
}

func (r *fakeRoutes) UserCallEnded(_ context.Context, id string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idle[id] = at
	r.ended = append(r.ended, id)
	return nil
}

func (r *fakeRoutes) CallFlow(_ context.Context, tenantID, id string) (store.CallFlow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.flows[id]
	if !ok || f.TenantID != tenantID {
		return store.CallFlow{}, store.ErrNotFound
	}
	return f, nil
}

// publish makes graph the flow's next version.
func (r *fakeRoutes) publish(tenantID, id, graph string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.flows[id]
	r.flows[id] = store.CallFlow{ID: id, TenantID: tenantID, Version: f.Version + 1, Graph: []byte(graph)}
}

func (r *fakeRoutes) Trunk(_ context.Context, id string) (store.Trunk, error) {
	for _, t := range r.trunks {
		if t.ID == id {
			return t, nil
		}
	}
	return store.Trunk{}, store.ErrNotFound
}

func (r *fakeRoutes) Trunks(context.Context) ([]store.Trunk, error) { return r.trunks, nil }

func (r *fakeRoutes) TrunkPassword(_ context.Context, id string) (string, error) {
	return "secret-of-" + id, nil
}

// silence is an audio that has ended.
type silence struct{}

func (silence) ReadFrame([]int16) error { return io.EOF }

// audioFunc opens any audio, calling fn first.
type audioFunc func(tenantID, id string)

func (f audioFunc) Open(_ context.Context, tenantID, id string) (media.Source, error) {
	if f != nil {
		f(tenantID, id)
	}
	return silence{}, nil
}

const tenant2 = "t2"

// numbersPlan is a plan with tenant t1 (users 201, 202, 203 registered,
// 204 not) and tenant t2 (user 300, registered), and the number
// +3221234567 of t1 leading to dest.
func numbersPlan(dest store.Destination) (*Plan, *fakeRoutes) {
	st := newStore(user("201"), user("202"), user("203"), user("204"),
		user("300", func(u *store.User) { u.TenantID = tenant2 }))
	st.tenants[tenant2] = store.Tenant{ID: tenant2, Domain: "other.example", BillingState: "active"}
	loc := fakeLocator{}
	for _, ext := range []string{"201", "202", "203", "300"} {
		loc["u"+ext] = []store.Binding{binding(ext, "udp")}
	}
	r := newRoutes()
	r.numbers["+3221234567"] = store.Number{ID: "n1", TenantID: tenantID, E164: "+3221234567", Destination: dest}
	r.trunks = []store.Trunk{{ID: "tr1", Host: "carrier.example", Port: 5070, Transport: "udp", Username: "acme"}}
	return &Plan{Store: st, Locator: loc, Routes: r, Audio: audioFunc(nil)}, r
}

// trunkCall is a carrier's call to dialled.
func trunkCall(dialled string) *fake.Call {
	return fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: "tr1", Source: "127.0.0.2:5060",
		Caller: callctl.Party{Number: "+32470000001"}}, dialled)
}

// rejected fails t unless the call was refused with cause, unanswered.
func rejected(t *testing.T, call *fake.Call, br *fake.Bridge, cause callctl.Cause) {
	t.Helper()
	in := call.InboundLeg()
	if br != nil || !slices.Equal(in.Hangups(), []callctl.Cause{cause}) {
		t.Fatalf("bridged %v, hung up with %v; want rejected with %q", br != nil, in.Hangups(), cause)
	}
}

// bridgedTo fails t unless the caller was bridged with number.
func bridgedTo(t *testing.T, br *fake.Bridge, number string) {
	t.Helper()
	if br == nil {
		t.Fatalf("not bridged; want bridged with %s", number)
	}
	if _, b := br.Legs(); b.Remote().Number != number {
		t.Fatalf("bridged with %q, want %s", b.Remote().Number, number)
	}
}

func TestTrunkCallNumberForms(t *testing.T) {
	for _, form := range []string{"+3221234567", "003221234567", "021234567", "3221234567", "+32 2 123 45 67", "+3221234567;user=phone"} {
		t.Run(form, func(t *testing.T) {
			p, _ := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
			call := trunkCall(form)
			br := route(t, p, call)
			bridgedTo(t, br, "201")
			if id, dom := call.Tenant(); id != tenantID || dom != domain {
				t.Fatalf("call's tenant %q %q, want %s %s", id, dom, tenantID, domain)
			}
			if got := dialled(call); !slices.Equal(got, []string{"201"}) {
				t.Fatalf("dialled %v", got)
			}
		})
	}
}

func TestTrunkCallUnknownNumber(t *testing.T) {
	// An unknown number, a malformed one, and an extension of a tenant
	// (a carrier never reaches extensions) are all 404, with no dial.
	for _, dialled := range []string{"+3221234568", "021234568", "abc", "201", ""} {
		t.Run(dialled, func(t *testing.T) {
			p, _ := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
			call := trunkCall(dialled)
			rejected(t, call, route(t, p, call), callctl.CauseNotFound)
			if len(call.Dials()) != 0 {
				t.Fatalf("dialled %v", dialled)
			}
			if id, _ := call.Tenant(); id != "" {
				t.Fatalf("unknown number gave the call to tenant %q", id)
			}
		})
	}
}

func TestTrunkCallNeverReachesAnotherTenant(t *testing.T) {
	// t1's number naming t2's user, group or flow (a row gone wrong) is
	// resolved inside t1 only: not found, never t2's destination.
	for _, d := range []store.Destination{{Type: store.DestUser, ID: "u300"}, {Type: store.DestHuntGroup, ID: "g2"}, {Type: store.DestCallFlow, ID: "f2"}} {
		t.Run(d.Type, func(t *testing.T) {
			p, r := numbersPlan(d)
			r.groups["g2"] = store.HuntGroup{ID: "g2", TenantID: tenant2, Strategy: store.StrategyRingAll, Members: []string{"u300"}}
			r.publish(tenant2, "f2", `{"name":"x","start":"u","nodes":{"u":{"type":"user","id":"u300"}}}`)
			call := trunkCall("+3221234567")
			rejected(t, call, route(t, p, call), callctl.CauseNotFound)
			if len(call.Dials()) != 0 {
				t.Fatalf("dialled %v", dialled(call))
			}
		})
	}
	// t2's own number reaches t2's user.
	p, r := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
	r.numbers["+3250123456"] = store.Number{ID: "n2", TenantID: tenant2, E164: "+3250123456", Destination: store.Destination{Type: store.DestUser, ID: "u300"}}
	call := trunkCall("050123456")
	bridgedTo(t, route(t, p, call), "300")
	if id, _ := call.Tenant(); id != tenant2 {
		t.Fatalf("tenant %q", id)
	}
}

func TestTrunkCallToAHuntGroup(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
	// 202 is on DND, 203 in a call, 204 has no device: only 201 rings.
	p.Store.(*fakeStore).users["202"] = user("202", func(u *store.User) { u.DND = true })
	p.Busy = func(id string) bool { return id == "u203" }
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u204", "u203", "u202", "u201"}}
	call := trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "201")
	ds := call.Dials()
	if len(ds) != 1 || ds[0].Strategy != callctl.Simultaneous || !slices.Equal(dialled(call), []string{"201"}) {
		t.Fatalf("dials %+v", ds)
	}
	if r.answered["g1"] != "u201" {
		t.Fatalf("last answered %q", r.answered["g1"])
	}
}

func TestHuntGroupStrategiesOrder(t *testing.T) {
	members := []string{"u201", "u202", "u203"}
	tests := []struct {
		strategy string
		last     string
		idle     map[string]time.Time
		want     []string
	}{
		{strategy: store.StrategyLinear, want: []string{"201", "202", "203"}},
		{strategy: store.StrategyRoundRobin, last: "u201", want: []string{"202", "203", "201"}},
		{strategy: store.StrategyLongestIdle, idle: map[string]time.Time{"u201": time.Unix(300, 0), "u202": time.Unix(100, 0), "u203": time.Unix(200, 0)},
			want: []string{"202", "203", "201"}},
	}
	for _, tc := range tests {
		t.Run(tc.strategy, func(t *testing.T) {
			p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
			r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: tc.strategy, Members: members, MemberTimeout: 7 * time.Second}
			r.answered["g1"] = tc.last
			for id, at := range tc.idle {
				r.idle[id] = at
			}
			call := trunkCall("+3221234567")
			call.ScriptDefault(fake.NoAnswer)
			rejected(t, call, route(t, p, call), callctl.CauseNoAnswer)
			ds := call.Dials()
			if len(ds) != 1 || ds[0].Strategy != callctl.Sequential || ds[0].Destinations[0].Timeout != 7*time.Second {
				t.Fatalf("dials %+v", ds)
			}
			if got := dialled(call); !slices.Equal(got, tc.want) {
				t.Fatalf("ring order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOverflowChain(t *testing.T) {
	// Nobody in g1 answers: its overflow is a flow whose schedule is
	// closed, leading to g2, whose member answers.
	p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u201", "u202"},
		Overflow: store.Destination{Type: store.DestCallFlow, ID: "f1"}}
	r.groups["g2"] = store.HuntGroup{ID: "g2", TenantID: tenantID, Strategy: store.StrategyLinear, Members: []string{"u203"}}
	r.publish(tenantID, "f1", `{"name":"after","start":"s","nodes":{
		"s":{"type":"schedule","hours":[{"days":["mon"],"from":"08:00","to":"09:00"}],"open":"v","closed":"g"},
		"v":{"type":"voicemail","id":"u201"},"g":{"type":"hunt_group","id":"g2"}}}`)
	p.Now = func() time.Time { return time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC) } // a Friday evening
	call := trunkCall("+3221234567")
	call.Script("u201", fake.NoAnswer)
	call.Script("u202", fake.Busy)
	bridgedTo(t, route(t, p, call), "203")
	if got := dialled(call); !slices.Equal(got, []string{"201", "202", "203"}) {
		t.Fatalf("dialled %v", got)
	}
}

func TestOverflowLoopIsBounded(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestHuntGroup, ID: "g1"})
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u201"},
		Overflow: store.Destination{Type: store.DestHuntGroup, ID: "g2"}}
	r.groups["g2"] = store.HuntGroup{ID: "g2", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u202"},
		Overflow: store.Destination{Type: store.DestHuntGroup, ID: "g1"}}
	p.MaxDispatch = 5
	call := trunkCall("+3221234567")
	call.ScriptDefault(fake.NoAnswer)
	rejected(t, call, route(t, p, call), callctl.CauseFailure)
	if n := len(call.Dials()); n != 5 {
		t.Fatalf("%d dials, want 5 (the hop limit)", n)
	}
}

func TestTrunkCallToAFlowWithAMenu(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestCallFlow, ID: "f1"})
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u202", "u203"}}
	r.publish(tenantID, "f1", `{"name":"reception","start":"m","nodes":{
		"m":{"type":"menu","prompt":"aud_1","options":{"1":"g","2":"u"},"timeout":4},
		"g":{"type":"hunt_group","id":"g1"},"u":{"type":"user","id":"u201"}}}`)
	var opened []string
	p.Audio = audioFunc(func(tenant, id string) { opened = append(opened, tenant+"/"+id) })
	call := trunkCall("+3221234567")
	call.InboundLeg().Type("1")
	call.Script("u202", fake.NoAnswer)
	bridgedTo(t, route(t, p, call), "203")
	if !slices.Equal(opened, []string{tenantID + "/aud_1"}) || len(call.InboundLeg().Prompts()) != 1 {
		t.Fatalf("opened %v, prompts %d", opened, len(call.InboundLeg().Prompts()))
	}
}

func TestFlowVersionPinnedAtCallStart(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestCallFlow, ID: "f1"})
	const v1 = `{"name":"v1","start":"p","nodes":{"p":{"type":"play","audio":"aud_1","next":"u"},"u":{"type":"user","id":"u201"}}}`
	const v2 = `{"name":"v2","start":"p","nodes":{"p":{"type":"play","audio":"aud_1","next":"u"},"u":{"type":"user","id":"u202"}}}`
	r.publish(tenantID, "f1", v1)
	// v2 is published while the caller hears the announcement of v1.
	p.Audio = audioFunc(func(string, string) { r.publish(tenantID, "f1", v2) })
	call := trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "201")
	// The next call takes v2.
	p.Audio = audioFunc(nil)
	call = trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "202")
}

// With voicemail off (no Plan.Voicemail), a number leading to a box is
// refused as unavailable; a flow's hang-up ends the call.
func TestTrunkCallToVoicemailAndHangup(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestVoicemail, ID: "u201"})
	call := trunkCall("+3221234567")
	rejected(t, call, route(t, p, call), callctl.CauseUnavailable)
	if len(call.Dials()) != 0 {
		t.Fatal("a number leading to voicemail dialled someone")
	}
	r.numbers["+3221234567"] = store.Number{TenantID: tenantID, E164: "+3221234567", Destination: store.Destination{Type: store.DestCallFlow, ID: "f1"}}
	r.publish(tenantID, "f1", `{"name":"x","start":"h","nodes":{"h":{"type":"hangup"}}}`)
	call = trunkCall("+3221234567")
	rejected(t, call, route(t, p, call), callctl.CauseNormal)
}

func TestTrunkCallToAnExternalNumber(t *testing.T) {
	p, _ := numbersPlan(store.Destination{Type: store.DestExternal, Number: "+3250999999"})
	call := trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "+3250999999")
	ds := call.Dials()
	if len(ds) != 1 || len(ds[0].Destinations) != 1 || ds[0].StopOn == nil || !ds[0].EarlyMedia {
		t.Fatalf("dials %+v", ds)
	}
	tg := ds[0].Destinations[0].Targets[0]
	want := callctl.Target{URI: "sip:+3250999999@carrier.example:5070", Via: "carrier.example:5070", Transport: "udp",
		Auth: &callctl.Credentials{Username: "acme", Password: "secret-of-tr1"}}
	if tg.URI != want.URI || tg.Via != want.Via || tg.Transport != want.Transport || tg.Auth == nil || *tg.Auth != *want.Auth {
		t.Fatalf("target %+v", tg)
	}
	// A carrier's busy is final: the caller hears busy.
	call = trunkCall("+3221234567")
	call.ScriptDefault(fake.Busy)
	rejected(t, call, route(t, p, call), callctl.CauseBusy)
}

func TestDeviceCallToAHuntGroupExtension(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Extension: "600", Strategy: store.StrategyRingAll, Members: []string{"u201", "u202"}}
	r.groups["g2"] = store.HuntGroup{ID: "g2", TenantID: tenant2, Extension: "601", Strategy: store.StrategyRingAll, Members: []string{"u300"}}
	call := deviceCall("600")
	bridgedTo(t, route(t, p, call), "201")
	if got := dialled(call); !slices.Equal(got, []string{"201", "202"}) {
		t.Fatalf("dialled %v", got)
	}
	// Another tenant's group extension is not ours.
	call = deviceCall("601")
	rejected(t, call, route(t, p, call), callctl.CauseNotFound)
}

func TestUserCallEndedWakesQueues(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestUser, ID: "u201"})
	q := p.Hunts().Queue("g1")
	tk := q.Join()
	defer tk.Leave()
	at := time.Unix(1000, 0)
	p.UserCallEnded(context.Background(), "u201", at)
	if !r.idle["u201"].Equal(at) {
		t.Fatalf("idle %v", r.idle)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	// Woken: Turn returns without its recheck (an hour) passing.
	if err := tk.Turn(ctx, hourClock{}, time.Hour); err != nil {
		t.Fatal("the queue's head was not woken")
	}
}

// hourClock never fires within a test.
type hourClock struct{}

func (hourClock) Now() time.Time                       { return time.Now() }
func (hourClock) After(time.Duration) <-chan time.Time { return nil }

var _ callflow.Audio = audioFunc(nil)

// A flow's voicemail_access node asks for a mailbox and its PIN; a flow's
// music is what its callers hear in a queue that has none of its own.
func TestFlowVoicemailAccessAndMusic(t *testing.T) {
	p, r := numbersPlan(store.Destination{Type: store.DestCallFlow, ID: "f1"})
	menu := &fakeMenu{}
	p.VoicemailMenu = menu
	r.publish(tenantID, "f1", `{"name":"vm","start":"v","nodes":{"v":{"type":"voicemail_access"}}}`)
	call := trunkCall("+3221234567")
	route(t, p, call)
	if want := []string{tenantID + ` "" true`}; !slices.Equal(menu.got, want) {
		t.Fatalf("Listen calls %q, want %q", menu.got, want)
	}

	r.groups["g1"] = store.HuntGroup{ID: "g1", TenantID: tenantID, Strategy: store.StrategyRingAll, Members: []string{"u202"},
		Queue: &store.Queue{MaxWait: time.Millisecond}}
	r.publish(tenantID, "f1", `{"name":"q","start":"g","music":"jazz","nodes":{"g":{"type":"hunt_group","id":"g1"}}}`)
	p.Locator = fakeLocator{} // nobody registered: the caller waits, then overflows
	call = trunkCall("+3221234567")
	route(t, p, call)
	if m := call.InboundLeg().Music(); len(m) == 0 || m[0] != "jazz" {
		t.Fatalf("queued caller heard %v, want the flow's class jazz", m)
	}
}
