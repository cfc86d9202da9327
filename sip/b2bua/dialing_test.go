package b2bua

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// script says how each target (by URI) of a scripted dial behaves: it
// fails at once with status, or rings until answer is closed (then it
// answers) or its attempt's context ends.
type script struct {
	mu     sync.Mutex
	rung   []string
	lost   map[string]Cause // the cause a cancelled target was given
	status map[string]int
	answer map[string]chan struct{}
	rang   chan string
	ended  chan string // a target's attempt reported
}

func newScript() *script {
	return &script{lost: map[string]Cause{}, status: map[string]int{}, answer: map[string]chan struct{}{}, rang: make(chan string, 16), ended: make(chan string, 16)}
}

func (s *script) try(d *Dialing) func(ctx context.Context, idx int, dest callctl.Destination, t callctl.Target) attemptResult {
	return func(ctx context.Context, idx int, dest callctl.Destination, t callctl.Target) attemptResult {
		s.mu.Lock()
		s.rung = append(s.rung, t.URI)
		st, ans := s.status[t.URI], s.answer[t.URI]
		s.mu.Unlock()
		s.rang <- t.URI
		defer func() { s.ended <- t.URI }()
		if st != 0 {
			return attemptResult{status: st}
		}
		select {
		case <-ans:
			l := &Leg{svc: d.c.svc, done: make(chan struct{}), remote: dest.Callee}
			if d.claim(idx, dest, l) {
				return attemptResult{won: true}
			}
			return attemptResult{status: 487}
		case <-ctx.Done():
			s.mu.Lock()
			s.lost[t.URI] = lostCause(ctx)
			s.mu.Unlock()
			return attemptResult{status: 487}
		}
	}
}

func (s *script) rungURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rung...)
}

func (s *script) lostCause(uri string) Cause {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost[uri]
}

// waitEnded waits until n attempts reported.
func (s *script) waitEnded(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.ended:
		case <-time.After(10 * time.Second):
			t.Fatal("an attempt did not end")
		}
	}
}

// waitRung waits until uri was rung.
func (s *script) waitRung(t *testing.T, uri string) {
	t.Helper()
	for {
		select {
		case u := <-s.rang:
			if u == uri {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not rung", uri)
		}
	}
}

// scriptedDial starts a dial of spec whose targets follow sc.
func scriptedDial(t *testing.T, sc *script, spec callctl.DialSpec) *Dialing {
	t.Helper()
	svc := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &Call{svc: svc}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	d := newDialing(c, context.Background(), spec, nil)
	d.try = sc.try(d)
	svc.spawn(d.run)
	t.Cleanup(func() {
		d.Cancel(CauseNormal)
		c.cancel()
		svc.wg.Wait()
	})
	return d
}

func dest(tag string, uris ...string) callctl.Destination {
	d := callctl.Destination{Tag: tag}
	for _, u := range uris {
		d.Targets = append(d.Targets, callctl.Target{URI: u})
	}
	return d
}

func waitDial(t *testing.T, d *Dialing) (callctl.DialResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := d.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the dial did not end")
	}
	return r, err
}

func TestDialSimultaneousNamesWinnerAndCancelsLosers(t *testing.T) {
	sc := newScript()
	sc.answer["sip:b2"] = make(chan struct{})
	d := scriptedDial(t, sc, callctl.DialSpec{Destinations: []callctl.Destination{dest("a", "sip:a1", "sip:a2"), dest("b", "sip:b1", "sip:b2")}})
	for range 4 {
		<-sc.rang
	}
	close(sc.answer["sip:b2"])
	r, err := waitDial(t, d)
	if err != nil || r.Destination != 1 || r.Tag != "b" || r.PickedUp || r.Leg == nil {
		t.Fatalf("result %+v, %v; want destination 1 tagged b", r, err)
	}
	sc.waitEnded(t, 4)
	for _, u := range []string{"sip:a1", "sip:a2", "sip:b1"} {
		if got := sc.lostCause(u); got != CauseAnsweredElsewhere {
			t.Errorf("%s lost with %q, want %q (its CANCEL says completed elsewhere)", u, got, CauseAnsweredElsewhere)
		}
	}
}

func TestDialSequentialStopOn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stopOn  func(int) bool
		rung    string
		wantErr bool
	}{
		{name: "trunk failover stops on 486", stopOn: callctl.TrunkFailover, rung: "sip:1 sip:2", wantErr: true},
		{name: "hunt moves on", rung: "sip:1 sip:2 sip:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript()
			sc.status["sip:1"], sc.status["sip:2"] = 503, 486
			sc.answer["sip:3"] = make(chan struct{})
			close(sc.answer["sip:3"])
			d := scriptedDial(t, sc, callctl.DialSpec{Strategy: callctl.Sequential, StopOn: tc.stopOn,
				Destinations: []callctl.Destination{dest("one", "sip:1"), dest("two", "sip:2"), dest("three", "sip:3")}})
			r, err := waitDial(t, d)
			if got := strings.Join(sc.rungURIs(), " "); got != tc.rung {
				t.Fatalf("rung %q, want %q", got, tc.rung)
			}
			if tc.wantErr {
				var de *DialError
				if !errors.As(err, &de) || de.Cause != CauseBusy || de.Status != 486 {
					t.Fatalf("error %v, want busy 486", err)
				}
				return
			}
			if err != nil || r.Destination != 2 || r.Tag != "three" {
				t.Fatalf("result %+v, %v", r, err)
			}
		})
	}
}

func TestDialAddPickUpCancel(t *testing.T) {
	t.Run("add", func(t *testing.T) {
		sc := newScript()
		sc.answer["sip:late"] = make(chan struct{})
		close(sc.answer["sip:late"])
		d := scriptedDial(t, sc, callctl.DialSpec{Destinations: []callctl.Destination{dest("first", "sip:first")}})
		sc.waitRung(t, "sip:first")
		if err := d.Add(dest("late", "sip:late")); err != nil {
			t.Fatal(err)
		}
		r, err := waitDial(t, d)
		if err != nil || r.Destination != 1 || r.Tag != "late" {
			t.Fatalf("result %+v, %v; want the added destination 1", r, err)
		}
		if err := d.Add(dest("after", "sip:after")); err == nil {
			t.Fatal("Add after the dial ended succeeded")
		}
	})
	t.Run("pick up", func(t *testing.T) {
		sc := newScript()
		d := scriptedDial(t, sc, callctl.DialSpec{Destinations: []callctl.Destination{dest("x", "sip:x")}})
		sc.waitRung(t, "sip:x")
		picker := &Leg{svc: d.c.svc, done: make(chan struct{})}
		if err := d.PickUp(picker); err != nil {
			t.Fatal(err)
		}
		r, err := waitDial(t, d)
		if err != nil || !r.PickedUp || r.Leg != callctl.Leg(picker) {
			t.Fatalf("result %+v, %v; want picked up", r, err)
		}
		sc.waitEnded(t, 1)
		if got := sc.lostCause("sip:x"); got != CauseAnsweredElsewhere {
			t.Fatalf("the rung target lost with %q", got)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		sc := newScript()
		d := scriptedDial(t, sc, callctl.DialSpec{Destinations: []callctl.Destination{dest("x", "sip:x")}})
		sc.waitRung(t, "sip:x")
		d.Cancel(CauseForbidden)
		_, err := waitDial(t, d)
		if CauseOf(err) != CauseForbidden {
			t.Fatalf("error %v, want forbidden", err)
		}
		sc.waitEnded(t, 1)
		if got := sc.lostCause("sip:x"); got != CauseCancelled {
			t.Fatalf("a cancelled dial's target lost with %q", got)
		}
	})
}

func TestCancelRequestCarriesReason(t *testing.T) {
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "100", Host: "127.0.0.2", Port: 5070})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5060, Params: sip.NewParams()}
	via.Params.Add("branch", "z9hG4bK-abc")
	inv.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "201", Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", "t1")
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "100", Host: "acme.test"}, Params: sip.NewParams()})
	cid := sip.CallIDHeader("cid-1")
	inv.AppendHeader(&cid)
	inv.AppendHeader(&sip.CSeqHeader{SeqNo: 7, MethodName: sip.INVITE})
	inv.AppendHeader(sip.NewHeader("Route", "<sip:proxy.test;lr>"))

	c := cancelRequest(inv, reasonCompletedElsewhere)
	raw := c.String()
	for _, want := range []string{
		"CANCEL sip:100@127.0.0.2:5070 SIP/2.0",
		"branch=z9hG4bK-abc",
		"CSeq: 7 CANCEL",
		"Route: <sip:proxy.test;lr>",
		`Reason: SIP;cause=200;text="Call completed elsewhere"`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("CANCEL lacks %q:\n%s", want, raw)
		}
	}
	if strings.Contains(cancelRequest(inv, "").String(), "Reason:") {
		t.Error("a plain CANCEL has a Reason")
	}
}

func TestMultipartBodyKeepsSDPFirst(t *testing.T) {
	ctype, body := multipartBody([]byte("v=0\r\n"), []callctl.BodyPart{{ContentType: "application/pidf+xml",
		Headers: []callctl.Header{{Name: "Content-ID", Value: "<loc@pbx>"}}, Body: []byte("<presence/>")}})
	boundary, ok := strings.CutPrefix(ctype, "multipart/mixed;boundary=")
	if !ok {
		t.Fatalf("content type %q", ctype)
	}
	want := "--" + boundary + "\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n" +
		"--" + boundary + "\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@pbx>\r\n\r\n<presence/>\r\n" +
		"--" + boundary + "--\r\n"
	if string(body) != want {
		t.Fatalf("body:\n%q\nwant:\n%q", body, want)
	}
}
