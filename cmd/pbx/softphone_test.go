package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"pbx/media"
)

// softphone is a registered phone that places and answers calls with real
// RTP on its own UDP sockets.
type softphone struct {
	*phone
	dua      *sipgo.DialogUA
	mu       sync.Mutex
	calls    map[string]*pcall
	incoming chan *pcall
	// noSRTP makes the phone refuse RTP/SAVP offers with 488, as a phone
	// on TLS with SRTP disabled does; refusedSRTP counts them.
	noSRTP      bool
	refusedSRTP atomic.Int32
}

// pcall is one call as a phone sees it.
type pcall struct {
	p        *softphone
	callID   string
	uas      *sipgo.DialogServerSession
	uac      *sipgo.DialogClientSession
	invite   *sip.Request // the INVITE received (incoming calls)
	rtp      *rtpEnd
	remote   netip.AddrPort // the pbx's media address for this call
	peerSDP  string
	release  chan struct{}
	relOnce  sync.Once
	ended    chan struct{}
	endOnce  sync.Once
	notifies chan string
	srtpKey  string // our SDES key when we use SRTP
}

func (pc *pcall) markEnded() { pc.endOnce.Do(func() { close(pc.ended) }) }
func (pc *pcall) free()      { pc.relOnce.Do(func() { close(pc.release) }) }

func newSoftphone(t *testing.T, a *app, acc account, transport string) *softphone {
	t.Helper()
	return softphoneOn(t, newPhone(t, a, acc, transport))
}

// softphoneOn makes ph a softphone and registers it.
func softphoneOn(t *testing.T, ph *phone) *softphone {
	t.Helper()
	acc := ph.acc
	p := &softphone{phone: ph, calls: map[string]*pcall{}, incoming: make(chan *pcall, 8)}
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: p.contact}}
	p.server.OnInvite(p.onInvite)
	p.server.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if pc := p.call(req); pc != nil && pc.uas != nil {
			_ = pc.uas.ReadAck(req, tx)
		}
	})
	p.server.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		pc := p.call(req)
		if pc == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No such call", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		pc.markEnded()
	})
	p.server.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		if pc := p.call(req); pc != nil {
			select {
			case pc.notifies <- string(req.Body()):
			default:
			}
		}
	})
	if res := p.register(600, acc.password); res.StatusCode != 200 {
		t.Fatalf("register %s: %s", acc.user.Extension, res.StartLine())
	}
	return p
}

func (p *softphone) call(req *sip.Request) *pcall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[req.CallID().Value()]
}

func (p *softphone) track(pc *pcall) {
	p.mu.Lock()
	p.calls[pc.callID] = pc
	p.mu.Unlock()
}

func (p *softphone) newCall() *pcall {
	return &pcall{p: p, release: make(chan struct{}), ended: make(chan struct{}), notifies: make(chan string, 8)}
}

func (p *softphone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if pc := p.call(req); pc != nil {
		// A re-INVITE from the pbx: answer with our current SDP.
		res := sip.NewSDPResponseFromRequest(req, pc.localSDP("0 8 101", "sendrecv"))
		_ = tx.Respond(res)
		return
	}
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	if p.noSRTP && strings.Contains(string(req.Body()), "RTP/SAVP") {
		p.refusedSRTP.Add(1)
		_ = dlg.Respond(488, "Not Acceptable Here", nil)
		return
	}
	pc := p.newCall()
	pc.callID, pc.uas, pc.invite, pc.peerSDP = req.CallID().Value(), dlg, req, string(req.Body())
	p.track(pc)
	_ = dlg.Respond(180, "Ringing", nil)
	p.incoming <- pc
	select {
	case <-pc.release:
	case <-dlg.Context().Done():
		pc.markEnded()
	case <-time.After(2 * time.Minute):
	}
}

// nextIncoming waits for a call to ring the phone.
func (p *softphone) nextIncoming(t *testing.T) *pcall {
	t.Helper()
	select {
	case pc := <-p.incoming:
		return pc
	case <-time.After(20 * time.Second):
		t.Fatalf("phone %s: no incoming call", p.acc.user.Extension)
		return nil
	}
}

// noIncoming checks that nothing rings the phone for a while.
func (p *softphone) noIncoming(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.incoming:
		t.Fatalf("phone %s rang unexpectedly", p.acc.user.Extension)
	case <-time.After(d):
	}
}

// cancelled reports whether the pbx cancelled this incoming call.
func (pc *pcall) waitCancelled(t *testing.T) {
	t.Helper()
	select {
	case <-pc.uas.Context().Done():
		if !errors.Is(context.Cause(pc.uas.Context()), sip.ErrTransactionCanceled) {
			t.Fatalf("incoming call ended without CANCEL: %v", context.Cause(pc.uas.Context()))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("incoming call was not cancelled")
	}
}

// answer answers an incoming call offering the payload types pts (e.g.
// "0 101") and SRTP when srtp is set.
func (pc *pcall) answer(t *testing.T, pts string) {
	t.Helper()
	pc.rtp = newRTPEnd(t)
	remote, err := parseTestSDP(pc.peerSDP)
	if err != nil {
		t.Fatal(err)
	}
	pc.remote = remote.addr
	if remote.crypto != "" {
		pc.setupSRTP(t, remote.crypto)
	}
	if err := pc.uas.RespondSDP(pc.localSDP(pts, "sendrecv")); err != nil {
		t.Fatalf("answer: %v", err)
	}
	pc.free()
}

// reject refuses an incoming call.
func (pc *pcall) reject(code int, reason string) {
	_ = pc.uas.Respond(code, reason, nil)
	pc.free()
}

func (pc *pcall) localSDP(pts, dir string) []byte {
	port := 0
	if pc.rtp != nil {
		port = pc.rtp.port()
	}
	proto := "RTP/AVP"
	if pc.srtpKey != "" {
		proto = "RTP/SAVP"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=phone 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d %s %s\r\n", time.Now().UnixNano()%100000, port, proto, pts)
	for _, pt := range strings.Fields(pts) {
		switch pt {
		case "0":
			b.WriteString("a=rtpmap:0 PCMU/8000\r\n")
		case "8":
			b.WriteString("a=rtpmap:8 PCMA/8000\r\n")
		case "18":
			b.WriteString("a=rtpmap:18 G729/8000\r\n")
		default:
			fmt.Fprintf(&b, "a=rtpmap:%s telephone-event/8000\r\na=fmtp:%s 0-16\r\n", pt, pt)
		}
	}
	if pc.srtpKey != "" {
		fmt.Fprintf(&b, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", pc.srtpKey)
	}
	b.WriteString("a=" + dir + "\r\n")
	return []byte(b.String())
}

func (pc *pcall) setupSRTP(t *testing.T, remoteKey string) {
	t.Helper()
	if pc.srtpKey == "" {
		k, err := media.GenerateSDESKey()
		if err != nil {
			t.Fatal(err)
		}
		pc.srtpKey = k
	}
	pc.rtp.out = srtpContext(t, pc.srtpKey)
	pc.rtp.in = srtpContext(t, remoteKey)
}

func srtpContext(t *testing.T, key string) *srtp.Context {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 30 {
		t.Fatalf("SDES key %q: %v", key, err)
	}
	c, err := srtp.CreateContext(raw[:16], raw[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type dialOpt struct {
	pts  string
	srtp bool
	body []byte              // raw SDP instead of a generated one
	edit func([]byte) []byte // changes the generated SDP
	// beforeAck runs when the 2xx has come, before the ACK is sent.
	beforeAck func(pc *pcall)
	ctx       context.Context
	noSDP     bool   // delayed offer: no SDP in the INVITE, the answer in the ACK
	ackBody   []byte // with noSDP: this ACK body instead of a proper answer
}

// dial calls ext and waits for the final answer. The error is a
// *sipgo.ErrDialogResponse for a refusal.
func (p *softphone) dial(t *testing.T, ext string, o dialOpt) (*pcall, error) {
	t.Helper()
	pc := p.newCall()
	pc.rtp = newRTPEnd(t)
	if o.pts == "" {
		o.pts = "0 8 101"
	}
	if o.srtp {
		k, _ := media.GenerateSDESKey()
		pc.srtpKey = k
	}
	body := o.body
	if body == nil {
		body = pc.localSDP(o.pts, "sendrecv")
		if o.edit != nil {
			body = o.edit(body)
		}
	}
	host, portStr, _ := net.SplitHostPort(p.target)
	port, _ := strconv.Atoi(portStr)
	ruri := sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port, UriParams: sip.HeaderParams{}}
	if p.transport != "udp" {
		ruri.UriParams.Add("transport", p.transport)
	}
	req := sip.NewRequest(sip.INVITE, ruri)
	from := &sip.FromHeader{DisplayName: "Phone " + p.acc.user.Extension, Address: sip.Uri{Scheme: "sip", User: p.acc.device.SIPUsername, Host: p.acc.tenant.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: p.acc.tenant.Domain}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("X-Secret-Leak", "caller-only"))
	if !o.noSDP {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	req.SetTransport(strings.ToUpper(p.transport))
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dcs, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	pc.uac = dcs
	pc.callID = req.CallID().Value()
	p.track(pc)
	if err := dcs.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.acc.device.SIPUsername, Password: p.acc.password}); err != nil {
		if r := dcs.InviteResponse; r != nil && r.IsSuccess() {
			// A 2xx crossed our CANCEL: acknowledge it, then hang up, as
			// a UA must (RFC 3261 §9.1).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = dcs.Ack(ctx)
			_ = dcs.Bye(ctx)
		}
		return pc, err
	}
	if o.beforeAck != nil {
		o.beforeAck(pc)
	}
	if o.noSDP {
		// Delayed offer: the 200 carries the pbx's offer, our answer goes
		// in the ACK (To, From, Call-ID and CSeq are the dialog's).
		ack := sip.NewRequest(sip.ACK, dcs.InviteResponse.Contact().Address)
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(pc.localSDP(o.pts, "sendrecv"))
		if o.ackBody != nil {
			ack.SetBody(o.ackBody)
		}
		if err := dcs.WriteAck(context.Background(), ack); err != nil {
			return pc, err
		}
	} else if err := dcs.Ack(context.Background()); err != nil {
		return pc, err
	}
	ans, err := parseTestSDP(string(dcs.InviteResponse.Body()))
	if err != nil {
		return pc, err
	}
	pc.remote = ans.addr
	pc.peerSDP = string(dcs.InviteResponse.Body())
	if o.srtp {
		if ans.crypto == "" {
			return pc, errors.New("answer without crypto")
		}
		pc.setupSRTP(t, ans.crypto)
	}
	return pc, nil
}

// statusOf returns the SIP status of a refused dial.
func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

// hangup sends BYE.
func (pc *pcall) hangup(t *testing.T) {
	t.Helper()
	if err := pc.bye(); err != nil {
		t.Fatalf("bye: %v", err)
	}
}

// bye sends BYE and marks the call ended, whatever the answer.
func (pc *pcall) bye() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer pc.markEnded()
	if pc.uac != nil {
		return pc.uac.Bye(ctx)
	}
	return pc.uas.Bye(ctx)
}

// waitEnded waits for a BYE from the pbx.
func (pc *pcall) waitEnded(t *testing.T) {
	t.Helper()
	select {
	case <-pc.ended:
	case <-time.After(20 * time.Second):
		t.Fatalf("call %s was not hung up", pc.callID)
	}
}

// reinvite sends an in-dialog INVITE with direction dir and returns the
// answer's SDP.
func (pc *pcall) reinvite(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.INVITE, pc.remoteContact())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(pc.localSDP("0 8 101", dir))
	res, err := pc.do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE %s: %v %v", dir, res, err)
	}
	pc.ack(t, nil)
	return string(res.Body())
}

// ack acknowledges the 2xx of a re-INVITE, with body as the SDP answer when
// it is not nil.
func (pc *pcall) ack(t *testing.T, body []byte) {
	t.Helper()
	ack := sip.NewRequest(sip.ACK, pc.remoteContact())
	if body != nil {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(body)
	}
	var err error
	if pc.uac != nil {
		err = pc.uac.WriteRequest(ack)
	} else {
		err = pc.uas.WriteRequest(ack)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// reinviteDelayed sends a re-INVITE without SDP and answers the pbx's offer
// in the ACK with direction dir. It returns the pbx's offer.
func (pc *pcall) reinviteDelayed(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := pc.do(ctx, sip.NewRequest(sip.INVITE, pc.remoteContact()))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("offerless re-INVITE: %v %v", res, err)
	}
	offer, err := parseTestSDP(string(res.Body()))
	if err != nil || len(offer.pts) == 0 {
		t.Fatalf("no offer in the 200 to an offerless re-INVITE: %q", res.Body())
	}
	pc.ack(t, pc.localSDP(strings.Join(offer.pts, " "), dir))
	return string(res.Body())
}

func (pc *pcall) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if pc.uac != nil {
		return pc.uac.Do(ctx, req)
	}
	return pc.uas.Do(ctx, req)
}

func (pc *pcall) remoteContact() sip.Uri {
	if pc.uac != nil {
		return pc.uac.InviteResponse.Contact().Address
	}
	return pc.uas.InviteRequest.Contact().Address
}

// refer asks the pbx to transfer this call to referTo (a full Refer-To value).
func (pc *pcall) refer(t *testing.T, referTo string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.REFER, pc.remoteContact())
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:"+pc.p.acc.user.Extension+"@"+pc.p.acc.tenant.Domain+">"))
	res, err := pc.do(ctx, req)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
}

// waitNotify waits for a NOTIFY whose sipfrag contains want.
func (pc *pcall) waitNotify(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case body := <-pc.notifies:
			if strings.Contains(body, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no NOTIFY with %q", want)
		}
	}
}

// dialogTags returns our tag and the remote tag of the call's dialog.
func (pc *pcall) dialogTags() (local, remote string) {
	if pc.uac != nil {
		local, _ = pc.uac.InviteRequest.From().Params.Get("tag")
		remote, _ = pc.uac.InviteResponse.To().Params.Get("tag")
		return
	}
	local, _ = pc.uas.InviteResponse.To().Params.Get("tag")
	remote, _ = pc.uas.InviteRequest.From().Params.Get("tag")
	return
}

type testSDP struct {
	addr   netip.AddrPort
	pts    []string
	crypto string
	dir    string
}

func parseTestSDP(s string) (testSDP, error) {
	var r testSDP
	var ip netip.Addr
	var port int
	r.dir = "sendrecv"
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "):
			ip, _ = netip.ParseAddr(strings.TrimPrefix(line, "c=IN IP4 "))
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			port, _ = strconv.Atoi(f[1])
			r.pts = f[3:]
		case strings.HasPrefix(line, "a=crypto:"):
			f := strings.Fields(line)
			r.crypto = strings.TrimPrefix(f[2], "inline:")
		case line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive" || line == "a=sendrecv":
			r.dir = strings.TrimPrefix(line, "a=")
		}
	}
	if !ip.IsValid() || port == 0 {
		return r, fmt.Errorf("no media address in SDP %q", s)
	}
	r.addr = netip.AddrPortFrom(ip, uint16(port))
	return r, nil
}

// rtpEnd is a phone's RTP socket.
type rtpEnd struct {
	conn    *net.UDPConn
	ssrc    uint32
	seq     uint16
	ts      uint32
	out, in *srtp.Context
}

// listenLoopbackUDP opens a UDP socket on 127.0.0.1, closed when the
// test ends.
func listenLoopbackUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newRTPEnd(t *testing.T) *rtpEnd {
	t.Helper()
	return &rtpEnd{conn: listenLoopbackUDP(t), ssrc: uint32(time.Now().UnixNano()), seq: 100, ts: 1000}
}

func (r *rtpEnd) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

func (r *rtpEnd) close() { r.conn.Close() }

// send writes one RTP packet to the pbx.
func (r *rtpEnd) send(to netip.AddrPort, pt uint8, marker bool, payload []byte, advance uint32) error {
	r.seq++
	h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: r.seq, Timestamp: r.ts, SSRC: r.ssrc, Marker: marker}
	r.ts += advance
	pkt := &rtp.Packet{Header: h, Payload: payload}
	raw, err := pkt.Marshal()
	if err != nil {
		return err
	}
	if r.out != nil {
		raw, err = r.out.EncryptRTP(nil, raw, nil)
		if err != nil {
			return err
		}
	}
	_, err = r.conn.WriteToUDPAddrPort(raw, to)
	return err
}

// recv reads one RTP packet (decrypted), or fails after d.
func (r *rtpEnd) recv(d time.Duration) (*rtp.Packet, error) {
	buf := make([]byte, 1500)
	_ = r.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, err
	}
	raw := buf[:n]
	if r.in != nil {
		raw, err = r.in.DecryptRTP(nil, raw, nil)
		if err != nil {
			return nil, err
		}
	}
	var p rtp.Packet
	if err := p.Unmarshal(raw); err != nil {
		return nil, err
	}
	return &p, nil
}

// drain discards what is queued on the socket.
func (r *rtpEnd) drain() {
	for {
		if _, err := r.recv(10 * time.Millisecond); err != nil {
			return
		}
	}
}
