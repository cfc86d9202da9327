package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// testApp starts a softswitch on loopback with OS-chosen ports in dir.
func testApp(t testing.TB, dir string, mutate ...func(*config)) *app {
	t.Helper()
	// RTP stays below the kernel's ephemeral range (32768 up) and apart from
	// the ranges of the media and interop tests, which may run at the same time.
	cfg, err := parseConfig([]string{"--data", dir, "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0",
		"--rtp-ports", "2000-9999"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.AdminToken = "test-admin-token"
	for _, m := range mutate {
		m(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("PBX_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	a, err := newApp(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.start(); err != nil {
		a.close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	return a
}

type account struct {
	tenant   store.Tenant
	user     store.User
	device   store.Device
	password string
}

// seedTenant creates a tenant with one full licence per extension, each with one device.
func seedTenant(t testing.TB, a *app, name string, exts ...string) []account {
	t.Helper()
	ctx := context.Background()
	ten, err := a.store.CreateTenant(ctx, store.Tenant{Name: name, Domain: strings.ToLower(name) + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	var out []account
	for _, ext := range exts {
		u, err := a.store.CreateUser(ctx, store.User{TenantID: ten.ID, FirstName: "User", LastName: ext, Licence: store.LicenceFull, Extension: ext})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, addDevice(t, a, ten, u))
	}
	return out
}

func addDevice(t testing.TB, a *app, ten store.Tenant, u store.User) account {
	t.Helper()
	pw := randomString(16)
	d, err := a.store.CreateDevice(context.Background(), store.Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: "d" + randomString(9)}, pw)
	if err != nil {
		t.Fatal(err)
	}
	return account{tenant: ten, user: u, device: d, password: pw}
}

// phone is a sipgo user agent standing for a SIP device.
type phone struct {
	t         *testing.T
	ua        *sipgo.UserAgent
	client    *sipgo.Client
	server    *sipgo.Server
	acc       account
	transport string // udp, tcp, tls
	target    string // host:port of the pbx for that transport
	contact   sip.Uri
	callID    string
	cseq      uint32
	conn      net.PacketConn
	listener  net.Listener // the TCP port the Contact names, when listening
	// keepalives counts the NAT keepalive datagrams the phone received (UDP).
	keepalives *atomic.Int64
}

// keepaliveCounter counts the CRLFCRLF keepalives read from a phone's socket.
type keepaliveCounter struct {
	net.PacketConn
	n atomic.Int64
}

func (k *keepaliveCounter) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := k.PacketConn.ReadFrom(b)
	if err == nil && string(b[:n]) == "\r\n\r\n" {
		k.n.Add(1)
	}
	return n, a, err
}

func newPhone(t *testing.T, a *app, acc account, transport string) *phone {
	t.Helper()
	return newPhoneAt(t, a, acc, transport, false)
}

// newPhoneAt is newPhone; with listen, a phone on TCP also listens on a TCP
// port of its own and registers that port as its Contact, as desk phones do.
func newPhoneAt(t *testing.T, a *app, acc account, transport string, listen bool) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testphone/1.0"), sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, acc: acc, transport: transport, callID: fmt.Sprintf("reg-%s@test", randomString(12))}
	p.target = a.sip.Addr(transport).String()
	p.server, _ = sipgo.NewServer(ua)
	// A local listener so the pbx can send requests back to us.
	host := "127.0.0.1"
	var port int
	switch transport {
	case "udp":
		raw, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c := &keepaliveCounter{PacketConn: raw}
		p.conn, p.keepalives = c, &c.n
		port = c.LocalAddr().(*net.UDPAddr).Port
		go p.server.ServeUDP(c)
	case "tcp":
		if listen {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			p.listener = l
			port = l.Addr().(*net.TCPAddr).Port
			go p.server.ServeTCP(l)
		}
	}
	opts := []sipgo.ClientOption{sipgo.WithClientHostname(host)}
	if port != 0 && transport == "udp" {
		opts = append(opts, sipgo.WithClientPort(port))
	}
	p.client, err = sipgo.NewClient(ua, opts...)
	if err != nil {
		t.Fatal(err)
	}
	p.contact = sip.Uri{Scheme: "sip", User: acc.device.SIPUsername, Host: host, Port: port, UriParams: sip.HeaderParams{}}
	if transport != "udp" {
		p.contact.UriParams.Add("transport", transport)
	}
	t.Cleanup(p.close)
	return p
}

func (p *phone) close() {
	p.client.Close()
	p.ua.Close()
	if p.conn != nil {
		p.conn.Close()
	}
	if p.listener != nil {
		p.listener.Close()
	}
}

// register sends REGISTER with expires seconds (Contact: * when contact is
// "*"), answering the digest challenge, and returns the final response.
func (p *phone) register(expires int, password string, contacts ...string) *sip.Response {
	p.t.Helper()
	res, err := p.tryRegister(expires, password, contacts...)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

func (p *phone) newRegister(expires int, contacts ...string) *sip.Request {
	host, portStr, _ := net.SplitHostPort(p.target)
	var port int
	fmt.Sscan(portStr, &port)
	recipient := sip.Uri{Scheme: "sip", Host: host, Port: port, UriParams: sip.HeaderParams{}}
	if p.transport != "udp" {
		recipient.UriParams.Add("transport", p.transport)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: p.acc.tenant.Domain}
	from := &sip.FromHeader{Address: aor, Params: sip.HeaderParams{}}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.HeaderParams{}})
	cid := sip.CallIDHeader(p.callID)
	req.AppendHeader(&cid)
	p.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: p.cseq, MethodName: sip.REGISTER})
	if len(contacts) == 0 {
		req.AppendHeader(&sip.ContactHeader{Address: p.contact})
	}
	for _, c := range contacts {
		if c == "*" {
			req.AppendHeader(sip.NewHeader("Contact", "*"))
		} else {
			req.AppendHeader(sip.NewHeader("Contact", c))
		}
	}
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	req.AppendHeader(sip.NewHeader("User-Agent", "testphone/1.0"))
	return req
}

func (p *phone) tryRegister(expires int, password string, contacts ...string) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := p.newRegister(expires, contacts...)
	res, err := p.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 401 {
		return res, nil
	}
	p.cseq++
	return p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.acc.device.SIPUsername, Password: password})
}
