package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// trunkCallerAddr is where the test carrier sends from: an address of its own
// on loopback, apart from the devices on 127.0.0.1.
const trunkCallerAddr = "127.0.0.2"

// newTrunkCaller is a carrier's SIP proxy calling from 127.0.0.2 with caller
// id from: a softphone that never registers (a trunk is admitted by its
// address, without a challenge).
func newTrunkCaller(t *testing.T, a *app, from string) *softphone {
	t.Helper()
	return newTrunkCallerAt(t, a, trunkCallerAddr, from)
}

// newTrunkCallerAt is newTrunkCaller sending from addr.
func newTrunkCallerAt(t *testing.T, a *app, addr, from string) *softphone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcarrier/1.0"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", addr+":0")
	if err != nil {
		ua.Close()
		t.Skipf("no second loopback address for the carrier: %v", err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ph := &phone{t: t, ua: ua, transport: "udp", target: a.sip.Addr("udp").String(), conn: conn,
		acc: account{tenant: store.Tenant{Domain: "carrier.test"}, user: store.User{Extension: from}, device: store.Device{SIPUsername: from}}}
	ph.server, _ = sipgo.NewServer(ua)
	go ph.server.ServeUDP(conn)
	ph.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(addr), sipgo.WithClientPort(port), sipgo.WithClientConnectionAddr(addr+":0"))
	if err != nil {
		t.Fatal(err)
	}
	ph.contact = sip.Uri{Scheme: "sip", User: from, Host: addr, Port: port, UriParams: sip.HeaderParams{}}
	t.Cleanup(ph.close)
	p := &softphone{phone: ph, calls: map[string]*pcall{}, incoming: make(chan *pcall, 8)}
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: p.contact}}
	p.server.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	p.server.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		pc := p.call(req)
		if pc == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No such call", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		pc.markEnded()
	})
	return p
}

// addTrunk creates the carrier's trunk over REST: its calls come from
// 127.0.0.2.
func addTrunk(t *testing.T, a *app) string {
	t.Helper()
	out := apiCall(t, a, "POST", "/api/v1/trunks", map[string]any{"name": "Carrier", "host": trunkCallerAddr, "port": 5060, "transport": "udp",
		"inbound_sources": []string{trunkCallerAddr}}, 201)
	return out["id"].(string)
}

// addNumber gives the tenant a number leading to dest.
func addNumber(t *testing.T, a *app, tenantID, number string, dest map[string]any) string {
	t.Helper()
	out := apiCall(t, a, "POST", "/api/v1/tenants/"+tenantID+"/numbers", map[string]any{"number": number, "destination": dest}, 201)
	return out["id"].(string)
}

// addGroup creates a hunt group over REST.
func addGroup(t *testing.T, a *app, tenantID string, spec map[string]any) string {
	t.Helper()
	out := apiCall(t, a, "POST", "/api/v1/tenants/"+tenantID+"/hunt_groups", spec, 201)
	return out["id"].(string)
}

// addFlow creates a call flow over REST from its JSON graph.
func addFlow(t *testing.T, a *app, tenantID, graph string) string {
	t.Helper()
	var g any
	if err := json.Unmarshal([]byte(graph), &g); err != nil {
		t.Fatal(err)
	}
	out := apiCall(t, a, "POST", "/api/v1/tenants/"+tenantID+"/call_flows", g, 201)
	return out["id"].(string)
}

// addAudio uploads a tone of d as a WAV file and returns its id.
func addAudio(t *testing.T, a *app, tenantID string, d time.Duration) string {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+a.httpLn.Addr().String()+"/api/v1/tenants/"+tenantID+"/audio?name=tone.wav", bytes.NewReader(toneWAV(d)))
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	req.Header.Set("Content-Type", "audio/wav")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		t.Fatalf("audio upload: %d %s", res.StatusCode, raw)
	}
	var out struct{ ID string }
	json.Unmarshal(raw, &out)
	return out.ID
}

// toneWAV is a 440 Hz tone of d, 8 kHz mono 16-bit PCM.
func toneWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := range n {
		binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	return b.Bytes()
}

// setClock makes the dialplan read now (schedules) until the test ends.
func setClock(t *testing.T, a *app, now time.Time) {
	a.calls.clock.set(func() time.Time { return now })
	t.Cleanup(func() { a.calls.clock.set(nil) })
}

// rtpArrives fails t unless pc receives audio (any RTP packet) within d.
func rtpArrives(t *testing.T, pc *pcall, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	n := 0
	for time.Now().Before(deadline) && n < 10 {
		if _, err := pc.rtp.recv(time.Until(deadline)); err != nil {
			break
		}
		n++
	}
	if n < 10 {
		t.Fatalf("%s: %d RTP packets received", what, n)
	}
}
