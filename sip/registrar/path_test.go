package registrar

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipauth"
)

// A REGISTER relayed by edge proxies stores their Path with the binding
// and echoes it in the 200 (RFC 3327); a refresh sent directly clears it.
func TestRegisterStoresPath(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	contact := "Contact: <sip:alice@192.0.2.10:5060>\r\n"
	paths := "Path: <sip:edge1.example;lr;received=sip:192.0.2.10:40312>\r\nPath: <sip:edge2.example;lr>\r\n"
	want := "<sip:edge1.example;lr;received=sip:192.0.2.10:40312>, <sip:edge2.example;lr>"
	tx := handle(t, r, strings.Replace(authorized(2, "600"), contact, contact+paths+"Supported: replaces, path\r\n", 1))
	if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
		t.Fatalf("want one 200, got %+v", tx)
	}
	if h := tx.responses[0].GetHeader("Path"); h == nil || h.Value() != want {
		t.Errorf("200 OK Path %v, want %q", h, want)
	}
	b := st.bindings["sip:alice@192.0.2.10:5060"]
	if b.Path != want {
		t.Errorf("stored Path %q, want %q", b.Path, want)
	}
	// A user agent that does not say it supports Path gets none back;
	// the binding keeps it all the same.
	tx = handle(t, r, strings.Replace(authorized(3, "600"), contact, contact+paths, 1))
	if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 || tx.responses[0].GetHeader("Path") != nil {
		t.Fatalf("Path without Supported: path: %+v", tx)
	}
	if b := st.bindings["sip:alice@192.0.2.10:5060"]; b.Path != want {
		t.Errorf("stored Path %q, want %q", b.Path, want)
	}
	tx = handle(t, r, authorized(4, "600"))
	if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 || tx.responses[0].GetHeader("Path") != nil {
		t.Fatalf("direct refresh: %+v", tx)
	}
	if b := st.bindings["sip:alice@192.0.2.10:5060"]; b.Path != "" {
		t.Errorf("a direct refresh left Path %q", b.Path)
	}
}

// Failed authentications relayed by a trusted proxy count against the
// device's address (the proxy's received parameter), not the proxy's:
// the proxy itself is never banned; an untrusted relay is counted as is.
func TestTrustedProxyClientIP(t *testing.T) {
	proxy := netip.MustParseAddr("198.51.100.1")
	r := New(newMemStore(), sipauth.NewAuthenticator(fixedKey), nil, Config{TrustedProxies: []netip.Addr{proxy}}, nil, Metrics{})
	defer r.Close()
	req := func(src, vias string) *sip.Request {
		raw := "REGISTER sip:acme.test SIP/2.0\r\n" + vias +
			"From: <sip:alice@acme.test>;tag=a1\r\nTo: <sip:alice@acme.test>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		q := m.(*sip.Request)
		q.SetSource(src)
		return q
	}
	twoVias := "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-e\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-d;received=203.0.113.9;rport=40312\r\n"
	for _, tc := range []struct {
		name, src, vias, want string
	}{
		{"through the proxy", "198.51.100.1:5060", twoVias, "203.0.113.9"},
		{"through the proxy, no received", "198.51.100.1:5060", strings.Replace(twoVias, ";received=203.0.113.9", "", 1), "10.0.0.5"},
		{"the proxy's own request", "198.51.100.1:5060", "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-e\r\n", "198.51.100.1"},
		{"an untrusted relay", "192.0.2.50:5060", twoVias, "192.0.2.50"},
	} {
		if got := r.clientIP(req(tc.src, tc.vias)); got != tc.want {
			t.Errorf("%s: client %s, want %s", tc.name, got, tc.want)
		}
	}
}
