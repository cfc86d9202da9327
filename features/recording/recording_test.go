package recording

import (
	"testing"
	"time"

	"pbx/callctl"
	"pbx/store"
)

func TestModeStrongestWins(t *testing.T) {
	u, n, g := store.PolicyKey{Kind: store.PolicyUser, ID: "u"}, store.PolicyKey{Kind: store.PolicyNumber, ID: "n"}, store.PolicyKey{Kind: store.PolicyHuntGroup, ID: "g"}
	for _, tc := range []struct {
		pol  map[store.PolicyKey]string
		want string
	}{
		{nil, store.RecordNever},
		{map[store.PolicyKey]string{u: store.RecordOnDemand}, store.RecordOnDemand},
		{map[store.PolicyKey]string{u: store.RecordOnDemand, n: store.RecordAlways}, store.RecordAlways},
		{map[store.PolicyKey]string{g: store.RecordAlways, u: store.RecordOnDemand}, store.RecordAlways},
	} {
		if got := Mode(tc.pol); got != tc.want {
			t.Errorf("Mode(%v) = %q, want %q", tc.pol, got, tc.want)
		}
	}
}

func TestBridgedKeys(t *testing.T) {
	b := Bridged{TenantID: "t", Caller: callctl.Party{UserID: "u1"}, Callee: callctl.Party{Number: "+32475000000"}, NumberID: "n1"}
	ks := b.keys()
	if len(ks) != 2 || ks[0] != (store.PolicyKey{Kind: store.PolicyUser, ID: "u1"}) || ks[1] != (store.PolicyKey{Kind: store.PolicyNumber, ID: "n1"}) {
		t.Fatalf("keys %v", ks)
	}
	if ks := (Bridged{TenantID: "t"}).keys(); len(ks) != 0 {
		t.Fatalf("keys of a bridge of strangers %v", ks)
	}
}

// TestToggleCode: the code counts when typed by one party within the gap
// between digits; other digits before it do not matter.
func TestToggleCode(t *testing.T) {
	t0 := time.Unix(1000, 0)
	gap := 3 * time.Second
	var d digits
	typed := func(s string, every time.Duration) (hits int) {
		for _, r := range s {
			t0 = t0.Add(every)
			if d.add(r, t0, gap, "*1") {
				hits++
			}
		}
		return hits
	}
	if n := typed("45*1", time.Second); n != 1 {
		t.Fatalf("*1 after other digits: %d", n)
	}
	if n := typed("*1*1", time.Second); n != 2 {
		t.Fatalf("twice: %d", n)
	}
	if n := typed("*1", 4*time.Second); n != 0 {
		t.Fatalf("*, a pause longer than the gap, 1: %d", n)
	}
	if n := typed("1*", time.Second); n != 0 {
		t.Fatalf("1*: %d", n)
	}
}
