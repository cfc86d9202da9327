package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/location"
	"pbx/sip/sipbody"
	"pbx/store"
)

// emergencyEnv is a tenant with a desk phone (extension 201, at the
// site "HQ" in Brussels) and a softphone (202, no site), each with a
// public number, and a carrier, the default route, that answers every
// INVITE it gets.
type emergencyEnv struct {
	a        *app
	ten      store.Tenant
	desk     account
	soft     account
	carrier  *carrier
	answered chan *carrierCall
}

func newEmergencyEnv(t *testing.T, mutate ...func(*config)) *emergencyEnv {
	t.Helper()
	a := testApp(t, t.TempDir(), mutate...)
	ctx := context.Background()
	ten, err := a.store.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	site, err := a.store.CreateSite(ctx, store.Site{TenantID: ten.ID, Name: "HQ", Street: "Wetstraat", Number: "16", PostalCode: "1000", City: "Brussel", Country: "BE"})
	if err != nil {
		t.Fatal(err)
	}
	e := &emergencyEnv{a: a, ten: ten, answered: make(chan *carrierCall, 8)}
	for _, u := range []store.User{
		{TenantID: ten.ID, FirstName: "Desk", LastName: "Phone", Licence: store.LicenceFull, Extension: "201", SiteID: site.ID},
		{TenantID: ten.ID, FirstName: "Road", LastName: "Warrior", Licence: store.LicenceFull, Extension: "202"},
	} {
		u, err := a.store.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		acc := addDevice(t, a, ten, u)
		addNumber(t, a, ten.ID, "+3221234"+u.Extension, map[string]any{"type": "user", "id": u.ID})
		if u.Extension == "201" {
			e.desk = acc
		} else {
			e.soft = acc
		}
	}
	e.carrier = newCarrier(t, func(cc *carrierCall) {
		cc.respond(200, "OK", cc.sdp(t))
		e.answered <- cc
	})
	tr := apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": "127.0.0.2", "port": e.carrier.addr.Port(), "transport": "udp",
		"inbound_sources": []string{"127.0.0.2"}}, 201)
	apiCall(t, a, "POST", "/api/v1/routes", map[string]any{"prefix": "", "trunks": []string{tr["id"].(string)}}, 201)
	return e
}

// nextAnswered waits for the carrier to answer a call.
func (e *emergencyEnv) nextAnswered(t *testing.T) *carrierCall {
	t.Helper()
	select {
	case cc := <-e.answered:
		return cc
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier was not called")
		return nil
	}
}

// hangUp ends a call the carrier answered, from the phone's side, and
// waits until the pbx is idle.
func (e *emergencyEnv) hangUp(t *testing.T, pc *pcall, cc *carrierCall) {
	t.Helper()
	pc.hangup(t)
	select {
	case <-cc.dlg.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier's leg was not hung up")
	}
	waitIdle(t, e.a)
}

// emergencyInvite checks what the carrier got for an emergency call: the
// number, the caller's public number in P-Asserted-Identity without
// Privacy, Geolocation pointing at the PIDF-LO part of a multipart/mixed
// body beside the SDP. It returns the location and the SDP.
func emergencyInvite(t *testing.T, req *sip.Request, number, caller string) (location.Location, string) {
	t.Helper()
	if req.Recipient.User != number {
		t.Fatalf("the carrier was sent %s", req.Recipient.String())
	}
	if pai := req.GetHeader("P-Asserted-Identity"); pai == nil || !strings.Contains(pai.Value(), caller) {
		t.Fatalf("P-Asserted-Identity %v, want %s", pai, caller)
	}
	if h := req.GetHeader("Privacy"); h != nil {
		t.Fatalf("emergency call with Privacy: %s", h.Value())
	}
	if h := req.GetHeader("Geolocation-Routing"); h == nil {
		t.Fatal("no Geolocation-Routing")
	}
	ct := req.ContentType()
	if ct == nil || !strings.HasPrefix(ct.Value(), "multipart/mixed") {
		t.Fatalf("Content-Type %v", ct)
	}
	parts, err := sipbody.Parts(ct.Value(), req.Body())
	if err != nil {
		t.Fatal(err)
	}
	var lparts []location.Part
	sdp := ""
	for _, p := range parts {
		lparts = append(lparts, location.Part{ContentType: p.ContentType, ContentID: p.ContentID(), Body: p.Body})
		if p.ContentType == "application/sdp" {
			sdp = string(p.Body)
		}
	}
	var geo []string
	for _, h := range req.GetHeaders("Geolocation") {
		geo = append(geo, h.Value())
	}
	part, loc, err := location.ConveyedPart(geo, lparts)
	if err != nil || part.ContentType != location.ContentType {
		t.Fatalf("location: %v (Geolocation %v, part %q)\n%s", err, geo, part.ContentType, req.Body())
	}
	if sdp == "" {
		t.Fatal("no SDP part")
	}
	return loc, sdp
}

// carrierLeg is the carrier's end of an answered call, for RTP checks.
func carrierLeg(t *testing.T, cc *carrierCall, offer string) *pcall {
	t.Helper()
	o, err := parseTestSDP(offer)
	if err != nil {
		t.Fatal(err)
	}
	return &pcall{rtp: cc.rtp, remote: o.addr}
}

// pidfLO is a softphone's location in the RFC 4119 form.
func pidfLO(city, postalCode string) string {
	return `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"` +
		` xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="pres:road@acme.test"><tuple id="t1"><status><gp:geopriv>` +
		`<gp:location-info><ca:civicAddress><ca:country>BE</ca:country><ca:A3>` + city + `</ca:A3><ca:RD>Markt</ca:RD><ca:HNO>1</ca:HNO>` +
		`<ca:PC>` + postalCode + `</ca:PC></ca:civicAddress></gp:location-info><gp:usage-rules/><gp:method>Manual</gp:method>` +
		`</gp:geopriv></status></tuple></presence>`
}

// registerWithLocation registers p with its location as a lone PIDF-LO
// body that Geolocation names by the message's Content-ID.
func registerWithLocation(t *testing.T, p *softphone, doc string) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := p.newRegister(600)
	req.AppendHeader(sip.NewHeader("Geolocation", "<cid:reg-loc@phone.test>"))
	req.AppendHeader(sip.NewHeader("Content-Type", location.ContentType))
	req.AppendHeader(sip.NewHeader("Content-ID", "<reg-loc@phone.test>"))
	req.SetBody([]byte(doc))
	res, err := p.client.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		p.cseq++
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.acc.device.SIPUsername, Password: p.acc.password})
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dialWithLocation calls ext from p with its location by value: the
// INVITE's body is multipart/mixed, the SDP and the PIDF-LO.
func dialWithLocation(t *testing.T, p *softphone, ext, doc string) (*pcall, error) {
	t.Helper()
	pc := p.newCall()
	pc.rtp = newRTPEnd(t)
	host, portStr, _ := net.SplitHostPort(p.target)
	port, _ := strconv.Atoi(portStr)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: p.acc.tenant.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: p.acc.tenant.Domain}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Geolocation", "<cid:inv-loc@phone.test>"))
	req.AppendHeader(sip.NewHeader("Geolocation-Routing", "no"))
	req.AppendHeader(sip.NewHeader("Content-Type", "multipart/mixed;boundary=loc-boundary"))
	req.SetBody([]byte(fmt.Sprintf("--loc-boundary\r\nContent-Type: application/sdp\r\n\r\n%s\r\n--loc-boundary\r\nContent-Type: application/pidf+xml\r\n"+
		"Content-ID: <inv-loc@phone.test>\r\n\r\n%s\r\n--loc-boundary--\r\n", pc.localSDP("0 8 101", "sendrecv"), doc)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dcs, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	pc.uac, pc.callID = dcs, req.CallID().Value()
	p.track(pc)
	if err := dcs.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.acc.device.SIPUsername, Password: p.acc.password}); err != nil {
		return pc, err
	}
	if err := dcs.Ack(context.Background()); err != nil {
		return pc, err
	}
	ans, err := parseTestSDP(string(dcs.InviteResponse.Body()))
	if err != nil {
		return pc, err
	}
	pc.remote = ans.addr
	return pc, nil
}
