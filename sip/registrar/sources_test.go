package registrar

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// A REGISTER answered statelessly may be retransmitted: the copy (same
// Call-ID and CSeq) is answered 200 again, and an older CSeq still fails.
func TestRetransmittedRegister(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	req := authorized(7, "600")
	for i := 0; i < 2; i++ {
		tx := handle(t, r, req)
		if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
			t.Fatalf("copy %d: want one 200, got %+v", i, tx)
		}
	}
	if tx := handle(t, r, authorized(6, "600")); tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 500 {
		t.Fatalf("older CSeq: want one 500, got %+v", tx)
	}
	if len(st.bindings) != 1 {
		t.Fatalf("%d bindings, want 1", len(st.bindings))
	}
}

// The address a device registered from is known to the rate limit's
// exemption; another is not, and neither is the address once unregistered
// and swept.
func TestSourceRegistered(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	ctx := context.Background()
	src := netip.MustParseAddrPort("192.0.2.10:40000") // handle's source address, another port
	if r.SourceRegistered(ctx, src) {
		t.Fatal("registered before any REGISTER")
	}
	if tx := handle(t, r, authorized(2, "600")); tx == nil || tx.responses[0].StatusCode != 200 {
		t.Fatalf("register: %+v", tx)
	}
	if !r.SourceRegistered(ctx, src) {
		t.Fatal("the device's address is not known as registered")
	}
	if r.SourceRegistered(ctx, netip.MustParseAddrPort("192.0.2.11:5060")) {
		t.Fatal("another address is known as registered")
	}
	r.now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := r.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if r.SourceRegistered(ctx, src) {
		t.Fatal("still registered after the binding expired")
	}
}
