package registrar

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"pbx/store"
)

type natStore []store.Binding

func (n natStore) UDPBindings(context.Context, time.Time) ([]store.Binding, error) { return n, nil }

func TestKeepaliveTargets(t *testing.T) {
	st := natStore{
		{Source: "198.51.100.7:40312", Contact: "sip:a@192.168.1.20:5060"}, // NAT: private contact
		{Source: "198.51.100.7:40312", Contact: "sip:b@192.168.1.20:5060"}, // same mapping, pinged once
		{Source: "203.0.113.5:5060", Contact: "sip:c@203.0.113.5"},         // public, default port
		{Source: "203.0.113.6:5070", Contact: "sip:d@203.0.113.6:5070;ob"}, // public, same port
		{Source: "203.0.113.8:61000", Contact: "sip:e@203.0.113.8:5060"},   // port rewritten by a NAT
		{Source: "203.0.113.9:5060", Contact: "sip:f@phone.example.be"},    // host name: cannot tell
		{Source: "not an address", Contact: "sip:g@192.168.1.21"},          // skipped
	}
	got, err := KeepaliveTargets(context.Background(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"198.51.100.7:40312", "203.0.113.8:61000", "203.0.113.9:5060"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, w := range want {
		if got[i] != netip.MustParseAddrPort(w) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
