package dialplan

import (
	"context"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/media"
	"pbx/store"
)

type fakeCredit struct {
	mu     sync.Mutex
	refuse CreditRefusal
	calls  []CreditCall
	sess   *fakeSession
}

func (f *fakeCredit) Metered(callID string) CreditSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 || f.refuse != "" || f.sess == nil {
		return nil
	}
	return f.sess
}

func (f *fakeCredit) Admit(_ context.Context, c CreditCall) (CreditSession, CreditRefusal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	if f.refuse != "" {
		return nil, f.refuse, nil
	}
	return f.sess, "", nil
}

// fakeSession warns when warn is closed and cuts the call when cut is.
type fakeSession struct {
	watching, warn, cut chan struct{}
	mu                  sync.Mutex
	forgot              bool
}

func newFakeSession() *fakeSession {
	return &fakeSession{watching: make(chan struct{}), warn: make(chan struct{}), cut: make(chan struct{})}
}

func (s *fakeSession) Watch(ctx context.Context, warn func()) bool {
	close(s.watching)
	select {
	case <-s.warn:
		warn()
	case <-ctx.Done():
		return false
	}
	select {
	case <-s.cut:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *fakeSession) Forget() {
	s.mu.Lock()
	s.forgot = true
	s.mu.Unlock()
}

type promptNames struct{}

func (promptNames) Prompt(lang, id string) media.Source { return media.Silence(20 * time.Millisecond) }

func TestCreditRefusesWithAnnouncement(t *testing.T) {
	p, _ := numbersPlan(store.Destination{Type: store.DestExternal, Number: "+3250999999"})
	cr := &fakeCredit{refuse: RefusedCredit}
	p.Credit, p.Prompts = cr, promptNames{}
	call := trunkCall("+3221234567")
	rejected(t, call, route(t, p, call), callctl.CauseForbidden)
	in := call.InboundLeg()
	if !in.Progressed() || len(in.Plays()) != 1 || len(call.Dials()) != 0 {
		t.Fatalf("progress %v, plays %d, dials %d", in.Progressed(), len(in.Plays()), len(call.Dials()))
	}
	if len(cr.calls) != 1 || cr.calls[0] != (CreditCall{CallID: call.ID(), TenantID: tenantID, Number: "+3250999999"}) {
		t.Fatalf("asked %+v", cr.calls)
	}
}

func TestCreditCutsACallInProgress(t *testing.T) {
	p, _ := numbersPlan(store.Destination{Type: store.DestExternal, Number: "+3250999999"})
	sess := newFakeSession()
	p.Credit = &fakeCredit{sess: sess}
	call := trunkCall("+3221234567")
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Route(context.Background(), call)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	br := call.WaitBridge(ctx)
	if br == nil {
		t.Fatal("not bridged")
	}
	<-sess.watching
	close(sess.warn)
	in := call.InboundLeg()
	for deadline := time.Now().Add(patience); len(in.Plays()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no warning tone")
		}
	}
	close(sess.cut)
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("the call was not cut")
	}
	_, callee := br.Legs()
	// The caller's first hang-up says why; the callee is hung up too
	// (by us or by the bridge: whichever comes first).
	if ch, eh := in.Hangups(), callee.(*fake.Leg).Hangups(); len(ch) == 0 || ch[0] != callctl.CauseForbidden || len(eh) == 0 {
		t.Fatalf("hang-ups: caller %v, callee %v", in.Hangups(), callee.(*fake.Leg).Hangups())
	}
	if plays := in.Plays(); len(plays) != 1 || len(plays[0]) != 5 {
		t.Fatalf("warning tone: %d plays", len(plays))
	}
}

func TestCreditSessionEndsWithTheCall(t *testing.T) {
	p, _ := numbersPlan(store.Destination{Type: store.DestExternal, Number: "+3250999999"})
	sess := newFakeSession()
	p.Credit = &fakeCredit{sess: sess}
	call := trunkCall("+3221234567")
	bridgedTo(t, route(t, p, call), "+3250999999") // the callee hangs up: Watch ends
	if sess.forgot {
		t.Fatal("a connected call was forgotten: it would not be priced")
	}
	// A carrier's busy: the call never connects and is forgotten.
	sess = newFakeSession()
	p.Credit = &fakeCredit{sess: sess}
	call = trunkCall("+3221234567")
	call.ScriptDefault(fake.Busy)
	rejected(t, call, route(t, p, call), callctl.CauseBusy)
	if !sess.forgot {
		t.Fatal("an unconnected call stays metered")
	}
}
