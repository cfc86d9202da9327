package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// subscription is a phone's dialog subscription to an extension.
type subscription struct {
	p      *softphone
	pc     *pcall // collects the NOTIFY bodies (by Call-ID)
	req    *sip.Request
	toTag  string
	states chan string
}

// subscribe sends SUBSCRIBE (Event: dialog) for ext, answering the digest
// challenge, and returns the final response and the subscription.
func subscribe(t *testing.T, p *softphone, ext, event string, expires int) (*sip.Response, *subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host, port := splitHostPort(t, p.target)
	ruri := sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port, UriParams: sip.HeaderParams{}}
	if p.transport != "udp" {
		ruri.UriParams.Add("transport", p.transport)
	}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: p.acc.tenant.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: p.acc.tenant.Domain}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: p.contact})
	callID := sip.CallIDHeader("sub-" + randomString(12) + "@test")
	req.AppendHeader(&callID)
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Accept", "application/dialog-info+xml"))
	req.AppendHeader(sip.NewHeader("Expires", itoa(expires)))
	req.SetTransport(strings.ToUpper(p.transport))
	s := &subscription{p: p, pc: p.newCall(), req: req}
	s.pc.callID = req.CallID().Value()
	p.track(s.pc)
	res, err := p.client.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.acc.device.SIPUsername, Password: p.acc.password})
	}
	if err != nil {
		t.Fatal(err)
	}
	s.toTag, _ = res.To().Params.Get("tag")
	return res, s
}

// refresh re-subscribes within the subscription with expires.
func (s *subscription) refresh(t *testing.T, expires int) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := s.req.Clone()
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Via")
	req.To().Params.Add("tag", s.toTag)
	req.CSeq().SeqNo += 10
	req.ReplaceHeader(sip.NewHeader("Expires", itoa(expires)))
	res, err := s.p.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// next waits for the next NOTIFY and returns the dialog state it reports
// ("terminated" for a dialog-info without a dialog).
func (s *subscription) next(t *testing.T) string {
	t.Helper()
	select {
	case body := <-s.pc.notifies:
		for _, st := range []string{"early", "confirmed"} {
			if strings.Contains(body, "<state>"+st+"</state>") {
				return st
			}
		}
		if !strings.Contains(body, "<dialog-info") {
			t.Fatalf("NOTIFY body is not dialog-info:\n%s", body)
		}
		return "terminated"
	case <-time.After(20 * time.Second):
		t.Fatal("no NOTIFY")
		return ""
	}
}

// A busy lamp: a colleague's phone subscribes to 202 and is notified of
// each change of 202's calls, until it withdraws the subscription.
func TestBusyLampFollowsCalls(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "tcp")

	res, lamp := subscribe(t, carol, "202", "dialog", 600)
	if res.StatusCode != 200 || lamp.toTag == "" {
		t.Fatalf("SUBSCRIBE: %s", res.StartLine())
	}
	if st := lamp.next(t); st != "terminated" {
		t.Fatalf("first NOTIFY: %s, want idle", st)
	}
	call := startDial(t, alice, "202", dialOpt{})
	in := bob.nextIncoming(t)
	if st := lamp.next(t); st != "early" {
		t.Fatalf("202 ringing: %s", st)
	}
	in.answer(t, "0 101")
	out := call.wait(t)
	if st := lamp.next(t); st != "confirmed" {
		t.Fatalf("202 in a call: %s", st)
	}
	hangupAndWait(t, out, in)
	if st := lamp.next(t); st != "terminated" {
		t.Fatalf("202 after the call: %s", st)
	}
	waitIdle(t, a)

	// A refresh is answered and re-notified; expires 0 ends it with a
	// final NOTIFY.
	if res := lamp.refresh(t, 600); res.StatusCode != 200 {
		t.Fatalf("refresh: %s", res.StartLine())
	}
	if st := lamp.next(t); st != "terminated" {
		t.Fatalf("NOTIFY after the refresh: %s", st)
	}
	if res := lamp.refresh(t, 0); res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %s", res.StartLine())
	}
	if st := lamp.next(t); st != "terminated" {
		t.Fatalf("final NOTIFY: %s", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.calls.presence.Count() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions left", a.calls.presence.Count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := lamp.refresh(t, 600); res.StatusCode != 481 {
		t.Fatalf("refresh of an ended subscription: %s", res.StartLine())
	}
}

func TestSubscribeRefusals(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	other := seedTenant(t, a, "Other", "301")
	p, q := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, other[0], "udp")
	for _, tc := range []struct {
		name    string
		p       *softphone
		ext     string
		event   string
		expires int
		want    int
	}{
		{"unknown event package", p, "202", "presence", 600, 489},
		{"unknown extension", p, "299", "dialog", 600, 404},
		{"another tenant's extension", q, "202", "dialog", 600, 404},
		{"too short", p, "202", "dialog", 5, 423},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res, _ := subscribe(t, tc.p, tc.ext, tc.event, tc.expires); res.StatusCode != tc.want {
				t.Fatalf("got %s, want %d", res.StartLine(), tc.want)
			}
		})
	}
	if n := a.calls.presence.Count(); n != 0 {
		t.Fatalf("%d subscriptions after refusals", n)
	}
}

func splitHostPort(t *testing.T, hostport string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, n
}

func itoa(n int) string { return strconv.Itoa(n) }

// A subscription that is not refreshed ends when its time is up, with a
// final NOTIFY.
func TestSubscriptionExpires(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	p := newSoftphone(t, a, accs[0], "udp")
	res, lamp := subscribe(t, p, "202", "dialog", 60)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %s", res.StartLine())
	}
	lamp.next(t)
	if n := a.calls.presence.Sweep(time.Now().Add(30 * time.Second)); n != 0 {
		t.Fatalf("%d subscriptions ended halfway through their time", n)
	}
	if n := a.calls.presence.Sweep(time.Now().Add(61 * time.Second)); n != 1 {
		t.Fatalf("Sweep ended %d subscriptions, want 1", n)
	}
	if st := lamp.next(t); st != "terminated" {
		t.Fatalf("final NOTIFY: %s", st)
	}
	if n := a.calls.presence.Count(); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
}
