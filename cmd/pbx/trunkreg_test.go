package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"pbx/sip/trunkreg"
)

// carrierRegistrar is a carrier's registrar on 127.0.0.2: it challenges
// every REGISTER without credentials with a 401, refuses wrong ones with
// 403 and grants the right ones for grant seconds. Every REGISTER it
// accepts is kept.
type carrierRegistrar struct {
	addr     netip.AddrPort
	user, pw string
	grant    int
	chal     digest.Challenge
	accepted chan acceptedRegister
}

// acceptedRegister is a REGISTER the carrier accepted.
type acceptedRegister struct {
	expires int
	contact sip.Uri
	callID  string
	cseq    uint32
}

func newCarrierRegistrar(t *testing.T, user, pw string, grant int) *carrierRegistrar {
	t.Helper()
	raw, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcarrier/1.0"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		raw.Close()
		t.Fatal(err)
	}
	cr := &carrierRegistrar{addr: raw.LocalAddr().(*net.UDPAddr).AddrPort(), user: user, pw: pw, grant: grant,
		chal: digest.Challenge{Realm: "carrier.test", Nonce: "n0nce-" + sip.GenerateTagN(8), Algorithm: "MD5", QOP: []string{"auth"}}, accepted: make(chan acceptedRegister, 64)}
	srv, _ := sipgo.NewServer(ua)
	srv.OnRegister(cr.handle)
	go srv.ServeUDP(raw)
	t.Cleanup(func() {
		ua.Close()
		raw.Close()
	})
	return cr
}

func (cr *carrierRegistrar) handle(req *sip.Request, tx sip.ServerTransaction) {
	h := req.GetHeader("Authorization")
	if h == nil {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", cr.chal.String()))
		_ = tx.Respond(res)
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	ok := err == nil && cred.Username == cr.user && cred.Nonce == cr.chal.Nonce
	if ok {
		want, err := digest.Digest(&cr.chal, digest.Options{Method: "REGISTER", URI: cred.URI, Username: cr.user, Password: cr.pw, Cnonce: cred.Cnonce, Count: cred.Nc})
		ok = err == nil && want.Response == cred.Response
	}
	if !ok {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	exp, _ := strconv.Atoi(req.GetHeader("Expires").Value())
	ar := acceptedRegister{expires: exp, callID: req.CallID().Value(), cseq: req.CSeq().SeqNo}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil {
		ar.contact = c.Address
		if exp > 0 {
			res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<%s>;expires=%d", c.Address.String(), cr.grant)))
		}
	}
	_ = tx.Respond(res)
	cr.accepted <- ar
}

// next waits for the next accepted REGISTER.
func (cr *carrierRegistrar) next(t *testing.T, what string) acceptedRegister {
	t.Helper()
	select {
	case ar := <-cr.accepted:
		return ar
	case <-time.After(15 * time.Second):
		t.Fatalf("carrier: no %s", what)
		return acceptedRegister{}
	}
}

// fastTrunkReg shortens registration timing for tests; trunks are read
// again only when the API says they changed.
func fastTrunkReg(c *config) {
	c.TrunkRegTiming = trunkreg.Config{MinRefresh: time.Second, RetryMin: 500 * time.Millisecond, RetryMax: 2 * time.Second, Reload: time.Hour}
}

// waitRegistration polls a trunk's GET until its registration state is
// want, and returns the registration.
func waitRegistration(t *testing.T, a *app, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last any
	for time.Now().Before(deadline) {
		out := apiCall(t, a, "GET", "/api/v1/trunks/"+id, nil, 200)
		last = out["registration"]
		if reg, ok := last.(map[string]any); ok && reg["state"] == want {
			return reg
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("trunk %s: registration %v, want state %q", id, last, want)
	return nil
}

// TestTrunkRegistersToCarrier: a trunk created over REST with register
// set registers to the carrier at once (answering its 401), refreshes
// before the short binding the carrier grants runs out, shows it in GET,
// and un-registers when the pbx closes.
func TestTrunkRegistersToCarrier(t *testing.T) {
	cr := newCarrierRegistrar(t, "acme-trunk", "s3cret-trunk", 2)
	a := testApp(t, t.TempDir(), fastTrunkReg)
	out := apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": cr.addr.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}, "username": "acme-trunk", "password": "s3cret-trunk", "register": true}, 201)
	id := out["id"].(string)

	first := cr.next(t, "REGISTER after the trunk's creation")
	pbxUDP := a.sip.Addr("udp").(*net.UDPAddr)
	if first.expires <= 0 || first.contact.Host != "127.0.0.1" || first.contact.Port != pbxUDP.Port {
		t.Fatalf("first REGISTER: %+v, want a binding of the pbx's contact (port %d)", first, pbxUDP.Port)
	}
	reg := waitRegistration(t, a, id, "registered")
	if reg["status"] != float64(200) || reg["expires_at"] == nil {
		t.Fatalf("registration %v", reg)
	}
	refresh := cr.next(t, "refresh")
	if refresh.expires <= 0 || refresh.callID != first.callID || refresh.cseq <= first.cseq {
		t.Fatalf("refresh %+v after %+v: same Call-ID, higher CSeq expected", refresh, first)
	}

	a.close()
	for {
		ar := cr.next(t, "un-REGISTER on close")
		if ar.expires == 0 {
			if ar.callID != first.callID {
				t.Fatalf("un-REGISTER with Call-ID %s, want %s", ar.callID, first.callID)
			}
			break
		}
	}
}

// TestTrunkRegistrationRefused: a wrong password shows the registration
// failed with the carrier's status; fixing it over REST registers.
func TestTrunkRegistrationRefused(t *testing.T) {
	cr := newCarrierRegistrar(t, "acme-trunk", "s3cret-trunk", 2)
	a := testApp(t, t.TempDir(), fastTrunkReg)
	out := apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": cr.addr.Port(), "transport": "udp",
		"inbound_sources": []string{}, "username": "acme-trunk", "password": "wrong", "register": true}, 201)
	id := out["id"].(string)
	reg := waitRegistration(t, a, id, "failed")
	if reg["status"] != float64(403) {
		t.Fatalf("registration %v, want status 403", reg)
	}
	select {
	case ar := <-cr.accepted:
		t.Fatalf("carrier accepted %+v with a wrong password", ar)
	default:
	}

	apiCall(t, a, "PATCH", "/api/v1/trunks/"+id, map[string]any{"password": "s3cret-trunk"}, 200)
	cr.next(t, "REGISTER with the new password")
	waitRegistration(t, a, id, "registered")

	// A trunk that stops registering shows no registration.
	apiCall(t, a, "PATCH", "/api/v1/trunks/"+id, map[string]any{"register": false}, 200)
	for ar := cr.next(t, "un-REGISTER"); ar.expires != 0; ar = cr.next(t, "un-REGISTER") {
	}
	deadline := time.Now().Add(15 * time.Second)
	for apiCall(t, a, "GET", "/api/v1/trunks/"+id, nil, 200)["registration"] != nil {
		if time.Now().After(deadline) {
			t.Fatal("registration still shown after register was turned off")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
