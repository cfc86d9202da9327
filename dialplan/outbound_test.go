package dialplan

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/store"
)

func (r *fakeRoutes) OutboundRoutes(context.Context) ([]store.OutboundRoute, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.outbound), nil
}

func trunkIDs(ts []store.Trunk) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestRouteTrunksLongestPrefix(t *testing.T) {
	r := newRoutes()
	r.trunks = []store.Trunk{{ID: "a", Host: "a.test"}, {ID: "b", Host: "b.test"}, {ID: "c", Host: "c.test"}}
	r.outbound = []store.OutboundRoute{
		{Prefix: "+3290", Trunks: []string{"c"}},
		{Prefix: "+32", Trunks: []string{"b", "a"}, Priority: 0},
		{Prefix: "+32", Trunks: []string{"c"}, Priority: 5},
		{Prefix: "", Trunks: []string{"a", "gone", "b"}},
	}
	p := &Plan{Routes: r}
	ctx := context.Background()
	for number, want := range map[string][]string{
		"+3290012345":  {"c"},
		"+3221234567":  {"b", "a"},
		"+33123456789": {"a", "b"}, // default route; the removed trunk is skipped
	} {
		got, err := p.routeTrunks(ctx, number)
		if err != nil || !slices.Equal(trunkIDs(got), want) {
			t.Errorf("routeTrunks(%s) = %v, %v; want %v", number, trunkIDs(got), err, want)
		}
	}
	r.outbound = r.outbound[:3]
	if got, err := p.routeTrunks(ctx, "+33123456789"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no default route: %v, %v; want ErrNotFound", trunkIDs(got), err)
	}
	r.outbound = []store.OutboundRoute{{Prefix: "", Trunks: []string{"gone"}}}
	if _, err := p.routeTrunks(ctx, "+3221234567"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("route without trunks: %v; want ErrNotFound", err)
	}
}

func TestExternalTargets(t *testing.T) {
	r := newRoutes()
	trunks := []store.Trunk{{ID: "a", Host: "a.test", Port: 5080, Transport: "tcp", Username: "acct"}, {ID: "b", Host: "b.test"}}
	p := &Plan{Routes: r, TrunkResponseTimeout: 3 * time.Second}
	hs := []callctl.Header{{Name: "P-Asserted-Identity", Value: "<sip:+3221234567@pbx.test>"}}
	dests, err := p.externalTargets(context.Background(), trunks, "+3221112233", hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dests) != 2 || dests[0].Tag != "a" || dests[1].Tag != "b" {
		t.Fatalf("destinations: %+v", dests)
	}
	a, b := dests[0].Targets[0], dests[1].Targets[0]
	if a.URI != "sip:+3221112233@a.test:5080" || a.Via != "a.test:5080" || a.Transport != "tcp" ||
		a.Auth == nil || a.Auth.Username != "acct" || a.Auth.Password != "secret-of-a" || a.ResponseTimeout != 3*time.Second {
		t.Errorf("first target: %+v", a)
	}
	if b.URI != "sip:+3221112233@b.test:5060" || b.Auth != nil || !slices.Equal(b.Headers, hs) {
		t.Errorf("second target: %+v", b)
	}
	if dests[0].Callee.Number != "+3221112233" {
		t.Errorf("callee: %+v", dests[0].Callee)
	}
}

func (r *fakeRoutes) UserCallerID(_ context.Context, tenantID, userID string) (store.Number, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.callerID[userID]
	if !ok || n.TenantID != tenantID {
		return store.Number{}, store.ErrNotFound
	}
	return n, nil
}

func (r *fakeRoutes) TenantCalling(_ context.Context, tenantID string) (store.TenantCalling, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.calling[tenantID]; ok {
		return c, nil
	}
	return store.DefaultTenantCalling(tenantID), nil
}
