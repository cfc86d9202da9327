package rating

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

type notes struct {
	mu     sync.Mutex
	events []string
}

func (n *notes) Notify(_ context.Context, tenantID, event string, data map[string]any) {
	n.mu.Lock()
	n.events = append(n.events, event)
	n.mu.Unlock()
}

func (n *notes) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTenantUser(t *testing.T, s *store.Store) (store.Tenant, store.User) {
	t.Helper()
	ctx := context.Background()
	ten, err := s.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: store.NewID("d") + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, store.User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: store.LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	return ten, u
}

// spend records a priced call of the tenant.
func spend(t *testing.T, s *store.Store, tenantID, userID, number string, start time.Time, seconds int, cents int64) {
	t.Helper()
	id := store.NewID("cdr")
	c := store.CDR{ID: id, TenantID: tenantID, CallID: id, Caller: "201", Callee: number, Start: start, Answer: start, End: start.Add(time.Duration(seconds) * time.Second),
		BillableSeconds: seconds, Disposition: "answered", Origin: "device"}
	p := store.CDRPrice{CDRID: id, TenantID: tenantID, UserID: userID, Number: number, Class: string(Classify(number)), Seconds: seconds, Cents: cents, Start: start}
	if err := s.ImportCDRs(context.Background(), []store.CDR{c}, []store.CDRPrice{p}); err != nil {
		t.Fatal(err)
	}
}

// end writes the record of an answered call as the switch does and hands
// it to the meter.
func end(t *testing.T, s *store.Store, m *Meter, tenantID, callID string, start time.Time, seconds int) {
	t.Helper()
	c, err := s.InsertCDR(context.Background(), store.CDR{TenantID: tenantID, CallID: callID, Caller: "201", Callee: "x", Start: start, Answer: start,
		End: start.Add(time.Duration(seconds) * time.Second), BillableSeconds: seconds, Disposition: "answered"})
	if err != nil {
		t.Fatal(err)
	}
	m.Ended(context.Background(), c)
}

var november = time.Date(2026, 11, 10, 9, 0, 0, 0, Zone)

// TestCreditLimitCutsThenRefuses: 80 cents of the 1 euro limit are
// spent; a call at 6 cents a minute gets a warning at 140 s and is cut
// at 200 s (20 cents), its price reaches the limit, the tenant moves to
// restricted and its administrators are told, and the next call is
// refused.
func TestCreditLimitCutsThenRefuses(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ten, u := newTenantUser(t, s)
	if err := s.ReplaceRates(ctx, []store.Rate{{Prefix: "32", Name: "Belgium", PerMinute: 60_000}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCreditLimits(ctx, ten.ID, []store.CreditLimit{{Cents: 100, AutoRestrict: true}}); err != nil {
		t.Fatal(err)
	}
	spend(t, s, ten.ID, u.ID, "+3221234567", november.Add(-24*time.Hour), 800, 80)
	clk := newFakeClock(november)
	n := &notes{}
	m := &Meter{Store: s, Clock: clk, Notify: n, Recheck: time.Hour}

	c, refused, err := m.Begin(ctx, "call-1", ten.ID, u.ID, "+3250999999")
	if err != nil || refused != "" {
		t.Fatalf("first call: %v %v", refused, err)
	}
	warned := make(chan struct{}, 1)
	cut := make(chan bool, 1)
	go func() { cut <- c.Watch(ctx, func() { warned <- struct{}{} }) }()
	clk.WaitTimers(t, 1)
	clk.Advance(139 * time.Second)
	clk.WaitTimers(t, 1)
	select {
	case <-warned:
		t.Fatal("warned 61 s before the end")
	default:
	}
	clk.Advance(time.Second)
	<-warned
	clk.WaitTimers(t, 1)
	clk.Advance(59 * time.Second)
	clk.WaitTimers(t, 1)
	select {
	case <-cut:
		t.Fatal("cut a second early")
	default:
	}
	clk.Advance(time.Second)
	if !<-cut {
		t.Fatal("Watch ended without a cut")
	}
	end(t, s, m, ten.ID, "call-1", november, 200)
	if spent, _ := s.Spent(ctx, ten.ID, "", MonthOf(november).Start(), MonthOf(november).End()); spent != 100 {
		t.Fatalf("spent %d cents, want 100", spent)
	}
	if tt, _ := s.Tenant(ctx, ten.ID); tt.BillingState != "restricted" {
		t.Fatalf("billing state %q", tt.BillingState)
	}
	if ev := n.list(); len(ev) != 1 || ev[0] != EventCreditLimit {
		t.Fatalf("events %v", ev)
	}
	if _, refused, err := m.Begin(ctx, "call-2", ten.ID, u.ID, "+3250999999"); err != nil || refused != RefusedCredit {
		t.Fatalf("next call: %q %v", refused, err)
	}
	// December starts afresh.
	clk.Advance(30 * 24 * time.Hour)
	if c, refused, err := m.Begin(ctx, "call-3", ten.ID, u.ID, "+3250999999"); err != nil || refused != "" {
		t.Fatalf("a call in December: %q %v", refused, err)
	} else {
		c.Forget()
	}
}

// TestCreditShared: two calls at once share the credit: each looks again
// at what the other spent and both are cut once together they reach it.
func TestCreditShared(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ten, u := newTenantUser(t, s)
	if err := s.ReplaceRates(ctx, []store.Rate{{Prefix: "32", Name: "Belgium", PerMinute: 60_000}}); err != nil {
		t.Fatal(err)
	}
	// A licence limit of 20 cents under the default tenant line.
	if err := s.SetCreditLimits(ctx, ten.ID, []store.CreditLimit{{UserID: u.ID, Cents: 20}}); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock(november)
	m := &Meter{Store: s, Clock: clk, Recheck: 10 * time.Second}
	cuts := make(chan time.Time, 2)
	for i := range 2 {
		c, refused, err := m.Begin(ctx, fmt.Sprint("call-", i), ten.ID, u.ID, "+3221234567")
		if err != nil || refused != "" {
			t.Fatalf("call %d: %v %v", i, refused, err)
		}
		go func() {
			if c.Watch(ctx, func() {}) {
				cuts <- clk.Now()
			}
		}()
		clk.WaitTimers(t, i+1)
	}
	// 0.2 cent a second together: 20 cents last 100 s, not 200.
	var got []time.Time
	for len(got) < 2 {
		clk.Advance(10 * time.Second)
		select {
		case at := <-cuts:
			got = append(got, at)
			continue
		case <-time.After(50 * time.Millisecond):
		}
		if clk.Now().Sub(november) > 200*time.Second {
			t.Fatal("not cut by 200 s")
		}
		if len(got) < 2 {
			clk.WaitTimers(t, 2-len(got))
		}
	}
	for _, at := range got {
		if d := at.Sub(november); d < 90*time.Second || d > 110*time.Second {
			t.Errorf("cut after %v, want about 100 s", d)
		}
	}
}

func TestRatesRefuseAndFree(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ten, u := newTenantUser(t, s)
	m := &Meter{Store: s, Clock: newFakeClock(november)}
	// No rate table: calls go, free (unrated), watched forever.
	c, refused, err := m.Begin(ctx, "c1", ten.ID, u.ID, "+447700900000")
	if err != nil || refused != "" {
		t.Fatalf("without rates: %v %v", refused, err)
	}
	end(t, s, m, ten.ID, "c1", november, 600)
	if spent, _ := s.Spent(ctx, ten.ID, "", MonthOf(november).Start(), MonthOf(november).End()); spent != 0 {
		t.Fatalf("an unrated call cost %d", spent)
	}
	_ = c
	if err := s.ReplaceRates(ctx, []store.Rate{{Prefix: "32", Name: "Belgium", PerMinute: 60_000}}); err != nil {
		t.Fatal(err)
	}
	if _, refused, err := m.Begin(ctx, "c2", ten.ID, u.ID, "+447700900000"); err != nil || refused != RefusedNoRate {
		t.Fatalf("no rate for the UK: %q %v", refused, err)
	}
	// A call that ends unanswered is not priced; one the meter never
	// admitted (internal) is not either.
	if _, refused, _ := m.Begin(ctx, "c3", ten.ID, u.ID, "+3221234567"); refused != "" {
		t.Fatal(refused)
	}
	cdr, _ := s.InsertCDR(ctx, store.CDR{TenantID: ten.ID, CallID: "c3", Start: november, End: november, Disposition: "no_answer"})
	m.Ended(ctx, cdr)
	end(t, s, m, ten.ID, "internal", november, 60)
	if spent, _ := s.Spent(ctx, ten.ID, "", MonthOf(november).Start(), MonthOf(november).End()); spent != 0 {
		t.Fatalf("spent %d", spent)
	}
	if len(m.calls) != 0 {
		t.Fatalf("%d calls left metered", len(m.calls))
	}
}
