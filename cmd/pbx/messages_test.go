package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// End-to-end tests of SIP MESSAGE: between the users of a tenant, live and
// kept for a later registration, and SMS to a carrier.

// inbox records the MESSAGEs a phone receives.
func inbox(p *phone) chan *sip.Request {
	ch := make(chan *sip.Request, 8)
	p.server.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		ch <- req
	})
	return ch
}

func nextMessage(t *testing.T, ch chan *sip.Request) *sip.Request {
	t.Helper()
	select {
	case req := <-ch:
		return req
	case <-time.After(20 * time.Second):
		t.Fatal("no MESSAGE")
		return nil
	}
}

// sendMessage sends a MESSAGE with text from p to ext of its tenant,
// answering the pbx's challenge, and returns the final status.
func sendMessage(t *testing.T, p *phone, ext, text string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dom := p.acc.tenant.Domain
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: ext, Host: dom})
	from := &sip.FromHeader{DisplayName: "Desk 201", Address: sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: dom}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: dom}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	req.SetBody([]byte(text))
	req.SetDestination(p.target)
	res, err := p.client.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.acc.device.SIPUsername, Password: p.acc.password})
	}
	if err != nil {
		t.Fatalf("MESSAGE to %s: %v", ext, err)
	}
	return res.StatusCode
}

func TestMessageBetweenUsers(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Msg", "201", "202", "203")
	sender := newSoftphone(t, a, accs[0], "udp")
	// Handlers are set before a phone registers: sipgo's are not to be
	// changed while requests (the pbx's NOTIFYs) come in.
	desk := newPhone(t, a, accs[1], "udp")
	deskIn := inbox(desk)
	softphoneOn(t, desk)
	second := newPhone(t, a, addDevice(t, a, accs[1].tenant, accs[1].user), "udp")
	secondIn := inbox(second)
	softphoneOn(t, second)

	// Live: every registered device of 202 gets it.
	if code := sendMessage(t, sender.phone, "202", "Koffie?"); code != 200 {
		t.Fatalf("MESSAGE to a registered user: %d", code)
	}
	for _, in := range []chan *sip.Request{deskIn, secondIn} {
		m := nextMessage(t, in)
		if string(m.Body()) != "Koffie?" || m.From().Address.User != "201" || m.From().Address.Host != accs[0].tenant.Domain {
			t.Errorf("delivered: From %v, body %q", m.From(), m.Body())
		}
	}

	// 203 has no device registered: the message is accepted and kept.
	if code := sendMessage(t, sender.phone, "203", "Vergadering om 3 uur"); code != 202 {
		t.Fatalf("MESSAGE to a user with no device: %d, want 202 Accepted", code)
	}
	if code := sendMessage(t, sender.phone, "299", "nobody"); code != 404 {
		t.Errorf("MESSAGE to an unknown extension: %d", code)
	}
	later := newPhone(t, a, accs[2], "udp")
	laterIn := inbox(later)
	softphoneOn(t, later)
	m := nextMessage(t, laterIn)
	if string(m.Body()) != "Vergadering om 3 uur" || m.From().Address.User != "201" {
		t.Errorf("delivered at registration: From %v, body %q", m.From(), m.Body())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms, err := a.store.PendingMessages(context.Background(), accs[2].user.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a delivered message is still kept: %+v", ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSMSThroughCarrier(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Smsco", "201")
	chal := &digest.Challenge{Realm: "carrier.test", Nonce: "n0nce-" + randomString(8), Algorithm: "MD5"}
	got := make(chan *sip.Request, 4)
	car := newSMSCarrier(t, func(req *sip.Request, tx sip.ServerTransaction) {
		if !messageAuth(req, chal, "smsco-trunk", "s3cret") {
			res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			res.AppendHeader(sipHeader("Proxy-Authenticate", chal.String()))
			_ = tx.Respond(res)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
		got <- req
	})
	apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": car.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}, "username": "smsco-trunk", "password": "s3cret"}, 201)
	addNumber(t, a, accs[0].tenant.ID, "+3221234567", map[string]any{"type": "user", "id": accs[0].user.ID})

	out := apiCall(t, a, "POST", "/api/v1/tenants/"+accs[0].tenant.ID+"/sms", map[string]any{"from": "021234567", "to": "0470123456", "text": "Uw pakje is onderweg €"}, 202)
	if out["encoding"] != "GSM-7" || out["segments"] != float64(1) {
		t.Errorf("receipt %v", out)
	}
	var m *sip.Request
	select {
	case m = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no MESSAGE at the carrier")
	}
	if m.From().Address.User != "+3221234567" || m.Recipient.User != "+32470123456" || string(m.Body()) != "Uw pakje is onderweg €" {
		t.Errorf("carrier got From %v, R-URI %v, body %q", m.From(), m.Recipient, m.Body())
	}
	if ct := m.ContentType(); ct == nil || ct.Value() != "text/plain;charset=UTF-8" {
		t.Errorf("Content-Type %v", ct)
	}
	apiCall(t, a, "POST", "/api/v1/tenants/"+accs[0].tenant.ID+"/sms", map[string]any{"from": "+3250000000", "to": "+3221234567", "text": ""}, 422)
}

// messageAuth checks a MESSAGE's Proxy-Authorization against user and
// password for the challenge chal.
func messageAuth(req *sip.Request, chal *digest.Challenge, user, password string) bool {
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != user || cred.Nonce != chal.Nonce {
		return false
	}
	want, err := digest.Digest(chal, digest.Options{Method: "MESSAGE", URI: cred.URI, Username: user, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	return err == nil && want.Response == cred.Response
}

// newSMSCarrier is a carrier's SIP endpoint on 127.0.0.2 (apart from the
// phones on 127.0.0.1, which must not look like the trunk) that takes
// MESSAGEs with onMessage.
func newSMSCarrier(t *testing.T, onMessage sipgo.RequestHandler) netip.AddrPort {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("the carrier needs the loopback address 127.0.0.2 (Linux has all of 127/8): %v", err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcarrier/1.0"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnMessage(onMessage)
	go srv.ServeUDP(conn)
	t.Cleanup(func() {
		ua.Close()
		conn.Close()
	})
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}
