package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"pbx/callctl"
)

// carrier is a SIP peer on a loopback address of its own (127.0.0.2), as
// a carrier's proxy is to the pbx: it answers INVITEs as onInvite says and
// keeps every CANCEL it receives, raw, to check its headers.
type carrier struct {
	addr     netip.AddrPort
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	dua      *sipgo.DialogUA
	invites  chan *sip.Request
	cancels  chan string
	onInvite func(cc *carrierCall)

	mu      sync.Mutex
	dialogs map[string]*sipgo.DialogServerSession
}

// carrierCall is one INVITE the carrier received.
type carrierCall struct {
	c   *carrier
	req *sip.Request
	dlg *sipgo.DialogServerSession
	rtp *rtpEnd
}

// sniffConn hands the CANCEL requests it reads to cancels.
type sniffConn struct {
	net.PacketConn
	cancels chan string
}

func (s *sniffConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := s.PacketConn.ReadFrom(b)
	if err == nil && bytes.HasPrefix(b[:n], []byte("CANCEL ")) {
		select {
		case s.cancels <- string(b[:n]):
		default:
		}
	}
	return n, a, err
}

func newCarrier(t *testing.T, onInvite func(cc *carrierCall)) *carrier {
	t.Helper()
	raw, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcarrier/1.0"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	c := &carrier{addr: raw.LocalAddr().(*net.UDPAddr).AddrPort(), ua: ua, invites: make(chan *sip.Request, 16), cancels: make(chan string, 16),
		onInvite: onInvite, dialogs: map[string]*sipgo.DialogServerSession{}}
	c.srv, _ = sipgo.NewServer(ua)
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.2"), sipgo.WithClientPort(int(c.addr.Port())))
	if err != nil {
		t.Fatal(err)
	}
	c.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carrier", Host: "127.0.0.2", Port: int(c.addr.Port())}}}
	c.srv.OnInvite(c.handleInvite)
	c.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if dlg := c.dialog(req); dlg != nil {
			_ = dlg.ReadAck(req, tx)
		}
	})
	c.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if dlg := c.dialog(req); dlg != nil {
			_ = dlg.ReadBye(req, tx)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No such call", nil))
	})
	go c.srv.ServeUDP(&sniffConn{PacketConn: raw, cancels: c.cancels})
	t.Cleanup(func() {
		client.Close()
		ua.Close()
		raw.Close()
	})
	return c
}

func (c *carrier) dialog(req *sip.Request) *sipgo.DialogServerSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dialogs[req.CallID().Value()]
}

func (c *carrier) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	select {
	case c.invites <- req:
	default:
	}
	dlg, err := c.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.dialogs[req.CallID().Value()] = dlg
	c.mu.Unlock()
	c.onInvite(&carrierCall{c: c, req: req, dlg: dlg})
	select {
	case <-dlg.Context().Done():
	case <-time.After(30 * time.Second):
	}
}

// target is a callctl target that reaches the carrier with number.
func (c *carrier) target(number string) callctl.Target {
	return callctl.Target{URI: fmt.Sprintf("sip:%s@%s", number, c.addr), Transport: "udp"}
}

// nextInvite waits for an INVITE.
func (c *carrier) nextInvite(t *testing.T) *sip.Request {
	t.Helper()
	select {
	case r := <-c.invites:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("carrier %s: no INVITE", c.addr)
		return nil
	}
}

// noInvite checks that no INVITE came for a while.
func (c *carrier) noInvite(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case r := <-c.invites:
		t.Fatalf("carrier %s: unexpected INVITE to %s", c.addr, r.Recipient.String())
	case <-time.After(d):
	}
}

// nextCancel waits for a CANCEL and returns it raw.
func (c *carrier) nextCancel(t *testing.T) string {
	t.Helper()
	select {
	case r := <-c.cancels:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("carrier %s: no CANCEL", c.addr)
		return ""
	}
}

// sdp is the carrier's SDP for its RTP socket (PCMU and events), opening
// that socket on first use.
func (cc *carrierCall) sdp(t *testing.T) []byte {
	if cc.rtp == nil {
		cc.rtp = newRTPEnd(t)
	}
	return []byte(fmt.Sprintf("v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n", cc.rtp.port()))
}

// offerAddr is where the pbx wants the carrier's RTP.
func (cc *carrierCall) offerAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	o, err := parseTestSDP(string(cc.req.Body()))
	if err != nil {
		t.Errorf("carrier: offer: %v", err)
	}
	return o.addr
}

func (cc *carrierCall) respond(code int, reason string, body []byte, hs ...sip.Header) {
	if body != nil {
		hs = append(hs, sip.NewHeader("Content-Type", "application/sdp"))
	}
	_ = cc.dlg.Respond(code, reason, body, hs...)
}

// proxyAuth checks an INVITE's Proxy-Authorization against user and
// password for the challenge chal; it reports whether it is right.
func proxyAuth(req *sip.Request, chal *digest.Challenge, user, password string) bool {
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != user || cred.Nonce != chal.Nonce {
		return false
	}
	want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cred.URI, Username: user, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	return err == nil && want.Response == cred.Response
}

// headerOf finds a header's value in a raw SIP message.
func headerOf(raw, name string) string {
	for _, line := range strings.Split(raw, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ctxWait is a bounded wait for tests.
func ctxWait() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func sipHeader(name, value string) sip.Header { return sip.NewHeader(name, value) }
