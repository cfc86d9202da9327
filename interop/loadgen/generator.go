package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config of a Generator. Server is required.
type Config struct {
	// Server is the host:port of the pbx's SIP UDP listener.
	Server string
	// LocalIP is where the phones' SIP and RTP sockets bind (default
	// 127.0.0.1).
	LocalIP netip.Addr
	// Shards is the number of goroutines that send audio (default
	// GOMAXPROCS).
	Shards int
	// UserAgent is the User-Agent of the phones (default "pbx-loadgen").
	UserAgent string
	// RegisterExpires is the registration lifetime asked for (default 3600 s).
	RegisterExpires int
}

// Account is one device's SIP credentials and its licence's extension.
type Account struct {
	Username, Password, Domain string
	// Extension is what a caller dials to reach this account's licence.
	Extension string
}

// Generator places calls between accounts through the pbx and measures
// their audio. Every method may be called from any goroutine.
type Generator struct {
	cfg     Config
	epoch   time.Time
	sched   *scheduler
	callers *endpoint
	callees *endpoint
	muxes   []*mux
	nextMux atomic.Uint64

	mu      sync.Mutex
	waiting map[string]*waiter // callee username -> the Dial waiting for it
	calls   map[*Call]struct{}
	closed  bool

	unexpected atomic.Int64 // INVITEs nobody waited for
}

// New opens the phones' SIP sockets and starts the audio scheduler.
func New(cfg Config) (*Generator, error) {
	if cfg.Server == "" {
		return nil, errors.New("loadgen: Config.Server is empty")
	}
	if !cfg.LocalIP.IsValid() {
		cfg.LocalIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if cfg.Shards <= 0 {
		cfg.Shards = runtime.GOMAXPROCS(0)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "pbx-loadgen"
	}
	if cfg.RegisterExpires <= 0 {
		cfg.RegisterExpires = 3600
	}
	g := &Generator{cfg: cfg, epoch: time.Now(), waiting: map[string]*waiter{}, calls: map[*Call]struct{}{}}
	var err error
	if g.callers, err = newEndpoint(g, "callers"); err != nil {
		return nil, err
	}
	if g.callees, err = newEndpoint(g, "callees"); err != nil {
		g.callers.close()
		return nil, err
	}
	g.callees.srv.OnInvite(g.onInvite)
	for range 2 * cfg.Shards {
		m, err := newMux(cfg.LocalIP, g.epoch)
		if err != nil {
			for _, m := range g.muxes {
				m.close()
			}
			g.callers.close()
			g.callees.close()
			return nil, fmt.Errorf("loadgen: RTP socket: %w", err)
		}
		g.muxes = append(g.muxes, m)
	}
	g.sched = newScheduler(cfg.Shards)
	return g, nil
}

// Close hangs up nothing: it stops the audio, closes every RTP and SIP
// socket and waits for the goroutines of the generator. Hang up calls
// first (HangupAll) to end them cleanly on the server.
func (g *Generator) Close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	calls := make([]*Call, 0, len(g.calls))
	for c := range g.calls {
		calls = append(calls, c)
	}
	g.mu.Unlock()
	for _, c := range calls {
		c.stopMedia()
	}
	g.sched.close()
	for _, c := range calls {
		c.a.close()
		c.callee.rtp.close()
	}
	for _, m := range g.muxes {
		m.close()
	}
	g.callers.close()
	g.callees.close()
}

// newEnd returns an RTP end on the next shared socket.
func (g *Generator) newEnd() *end {
	return g.muxes[g.nextMux.Add(1)%uint64(len(g.muxes))].newEnd()
}

// Stray counts RTP datagrams that came from an address no call expects.
func (g *Generator) Stray() int64 {
	var n int64
	for _, m := range g.muxes {
		n += m.stray.Load()
	}
	return n
}

// waiter is a Dial waiting for its callee's phone to answer.
type waiter struct {
	ch        chan *calleeLeg // receives the answered leg, or is closed
	abandoned bool            // the Dial gave up; guarded by Generator.mu
}

// Lag reports the audio scheduler's lateness since New.
func (g *Generator) Lag() Lag { return g.sched.lag() }

// Unexpected counts INVITEs that reached a callee nobody was dialling.
func (g *Generator) Unexpected() int64 { return g.unexpected.Load() }

// Calls returns the calls placed and not yet hung up.
func (g *Generator) Calls() []*Call {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Call, 0, len(g.calls))
	for c := range g.calls {
		out = append(out, c)
	}
	return out
}

// endpoint is one SIP user agent on one UDP socket, standing for many
// phones: their Contacts differ by user part only.
type endpoint struct {
	g    *Generator
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	conn net.PacketConn
	host string
	port int
	done chan struct{}

	mu   sync.Mutex
	legs map[string]leg // by Call-ID
}

// leg is what an endpoint needs of a dialog to answer in-dialog requests.
type leg interface {
	readAck(req *sip.Request, tx sip.ServerTransaction)
	readBye(req *sip.Request, tx sip.ServerTransaction)
}

func newEndpoint(g *Generator, name string) (*endpoint, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(g.cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		return nil, fmt.Errorf("loadgen %s: %w", name, err)
	}
	conn, err := net.ListenPacket("udp4", netip.AddrPortFrom(g.cfg.LocalIP, 0).String())
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("loadgen %s: %w", name, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(4 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
	}
	e := &endpoint{g: g, ua: ua, conn: conn, host: g.cfg.LocalIP.String(), port: conn.LocalAddr().(*net.UDPAddr).Port,
		done: make(chan struct{}), legs: map[string]leg{}}
	e.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err == nil {
		e.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname(e.host), sipgo.WithClientPort(e.port),
			sipgo.WithClientLogger(quiet))
	}
	if err != nil {
		conn.Close()
		ua.Close()
		return nil, fmt.Errorf("loadgen %s: %w", name, err)
	}
	e.dua = &sipgo.DialogUA{Client: e.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: e.host, Port: e.port}}}
	e.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if l := e.leg(req); l != nil {
			l.readAck(req, tx)
		}
	})
	e.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		l := e.leg(req)
		if l == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		l.readBye(req, tx)
	})
	e.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() {
		defer close(e.done)
		_ = e.srv.ServeUDP(conn)
	}()
	return e, nil
}

func (e *endpoint) close() {
	e.cli.Close()
	e.srv.Close()
	e.ua.Close()
	e.conn.Close()
	<-e.done
}

func (e *endpoint) contact(user string) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: e.host, Port: e.port}
}

func (e *endpoint) track(callID string, l leg) {
	e.mu.Lock()
	e.legs[callID] = l
	e.mu.Unlock()
}

func (e *endpoint) forget(callID string) {
	e.mu.Lock()
	delete(e.legs, callID)
	e.mu.Unlock()
}

func (e *endpoint) leg(req *sip.Request) leg {
	cid := req.CallID()
	if cid == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.legs[cid.Value()]
}

func (g *Generator) serverURI() (sip.Uri, error) {
	host, portStr, err := net.SplitHostPort(g.cfg.Server)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("loadgen: server %q: %w", g.cfg.Server, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("loadgen: server %q: %w", g.cfg.Server, err)
	}
	return sip.Uri{Scheme: "sip", Host: host, Port: port}, nil
}

// Register binds acc at the callee endpoint, answering the digest
// challenge, so that calls to its extension reach the generator.
func (g *Generator) Register(ctx context.Context, acc Account) error {
	e := g.callees
	uri, err := g.serverURI()
	if err != nil {
		return err
	}
	req := sip.NewRequest(sip.REGISTER, uri)
	aor := sip.Uri{Scheme: "sip", User: acc.Username, Host: acc.Domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: e.contact(acc.Username)})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(g.cfg.RegisterExpires)))
	res, err := e.cli.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("register %s: %w", acc.Username, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = e.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: acc.Username, Password: acc.Password})
		if err != nil {
			return fmt.Errorf("register %s: %w", acc.Username, err)
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("register %s: %s", acc.Username, res.StartLine())
	}
	return nil
}

// RegisterAll registers accounts with at most workers REGISTERs in flight.
func (g *Generator) RegisterAll(ctx context.Context, accounts []Account, workers int) error {
	return parallel(ctx, len(accounts), workers, func(ctx context.Context, i int) error {
		return g.Register(ctx, accounts[i])
	})
}

// parallel runs fn(0..n-1) on at most workers goroutines and returns the
// first error (the others still run to their end).
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	workers = max(1, min(workers, n))
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// Call is one established call: the caller's dialog with the pbx, the
// callee's dialog with the pbx, and an RTP end at each phone.
type Call struct {
	g      *Generator
	Caller Account
	Callee Account
	// Setup is the time from the first INVITE to the callee's dialog
	// being up and the caller's ACK sent.
	Setup time.Duration

	uac    *sipgo.DialogClientSession
	callee *calleeLeg
	a      *end // the caller's RTP end
	stopA  func()
	stopB  func()
	media  sync.Once

	callerBye chan struct{} // the pbx hung up the caller
	byeOnce   sync.Once
}

// calleeLeg is the callee phone's side of a call.
type calleeLeg struct {
	ep     *endpoint
	callID string
	uas    *sipgo.DialogServerSession
	rtp    *end
	ended  chan struct{}
	once   sync.Once
}

func (l *calleeLeg) readAck(req *sip.Request, tx sip.ServerTransaction) { _ = l.uas.ReadAck(req, tx) }

func (l *calleeLeg) readBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := l.uas.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	l.once.Do(func() { close(l.ended) })
	l.ep.forget(l.callID)
}

type callerLeg struct{ c *Call }

func (l callerLeg) readAck(*sip.Request, sip.ServerTransaction) {}

func (l callerLeg) readBye(req *sip.Request, tx sip.ServerTransaction) {
	_ = l.c.uac.ReadBye(req, tx)
	l.c.byeOnce.Do(func() { close(l.c.callerBye) })
	l.c.g.callers.forget(l.c.uac.InviteRequest.CallID().Value())
}

// onInvite auto-answers an INVITE for a callee somebody is dialling, with
// PCMU and telephone events.
func (g *Generator) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	e := g.callees
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			// A re-INVITE: not part of what the generator does.
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
	}
	user := req.Recipient.User
	g.mu.Lock()
	w := g.waiting[user]
	delete(g.waiting, user)
	g.mu.Unlock()
	if w == nil {
		g.unexpected.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil))
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		close(w.ch)
		return
	}
	dlg, err := e.dua.ReadInvite(req, tx)
	if err != nil {
		close(w.ch)
		return
	}
	r := g.newEnd()
	if err := r.m.bind(r, offer); err != nil {
		_ = dlg.Respond(500, "Server Internal Error", nil)
		close(w.ch)
		return
	}
	l := &calleeLeg{ep: e, callID: req.CallID().Value(), uas: dlg, rtp: r, ended: make(chan struct{})}
	e.track(l.callID, l)
	res := sip.NewSDPResponseFromRequest(dlg.InviteRequest, localSDP(r.local))
	res.AppendHeader(&sip.ContactHeader{Address: e.contact(user)})
	if err := dlg.WriteResponse(res); err != nil {
		e.forget(l.callID)
		r.close()
		close(w.ch)
		return
	}
	g.mu.Lock()
	if w.abandoned {
		g.mu.Unlock()
		hangupCallee(l)
		return
	}
	w.ch <- l // buffered: never blocks
	g.mu.Unlock()
}

// ErrClosed is returned by Dial after Close.
var ErrClosed = errors.New("loadgen: generator closed")

// Dial calls callee's extension from caller (the INVITE is challenged and
// answered with the caller's credentials), waits for the callee to be
// answered and both dialogs up, then starts the audio both ways. The callee
// must have been registered with Register and be in no other call.
func (g *Generator) Dial(ctx context.Context, caller, callee Account) (*Call, error) {
	start := time.Now()
	uri, err := g.serverURI()
	if err != nil {
		return nil, err
	}
	w := &waiter{ch: make(chan *calleeLeg, 1)}
	ch := w.ch
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, ErrClosed
	}
	if g.waiting[callee.Username] != nil {
		g.mu.Unlock()
		return nil, fmt.Errorf("loadgen: callee %s is already being dialled", callee.Username)
	}
	g.waiting[callee.Username] = w
	g.mu.Unlock()
	// unwait withdraws the Dial: a callee leg answered after it is hung
	// up by onInvite, one answered before it is drained by fail.
	unwait := func() {
		g.mu.Lock()
		if g.waiting[callee.Username] == w {
			delete(g.waiting, callee.Username)
		}
		w.abandoned = true
		g.mu.Unlock()
	}

	a := g.newEnd()
	e := g.callers
	c := &Call{g: g, Caller: caller, Callee: callee, a: a, callerBye: make(chan struct{})}
	fail := func(err error) (*Call, error) {
		unwait()
		a.close()
		select {
		case l, ok := <-ch:
			if ok && l != nil {
				hangupCallee(l)
			}
		default:
		}
		return nil, fmt.Errorf("call %s -> %s: %w", caller.Username, callee.Extension, err)
	}

	ruri := uri
	ruri.User = callee.Extension
	req := sip.NewRequest(sip.INVITE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: caller.Username, Host: caller.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: callee.Extension, Host: caller.Domain}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: e.contact(caller.Username)})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(localSDP(a.local))
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dcs, err := e.dua.WriteInvite(dctx, req)
	if err != nil {
		return fail(err)
	}
	c.uac = dcs
	if err := dcs.WaitAnswer(dctx, sipgo.AnswerOptions{Username: caller.Username, Password: caller.Password}); err != nil {
		dcs.Close()
		return fail(err)
	}
	e.track(req.CallID().Value(), callerLeg{c})
	if err := dcs.Ack(dctx); err != nil {
		e.forget(req.CallID().Value())
		return fail(fmt.Errorf("ACK: %w", err))
	}
	remote, err := parseSDP(dcs.InviteResponse.Body())
	if err != nil {
		c.hangupCaller(ctx)
		return fail(fmt.Errorf("answer SDP: %w", err))
	}
	if err := a.m.bind(a, remote); err != nil {
		c.hangupCaller(ctx)
		return fail(err)
	}
	var l *calleeLeg
	select {
	case l = <-ch:
	case <-dctx.Done():
	}
	if l == nil {
		c.hangupCaller(ctx)
		return fail(errors.New("the callee's phone never got the call up"))
	}
	c.callee = l
	c.Setup = time.Since(start)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		c.hangupCaller(ctx)
		hangupCallee(l)
		a.close()
		l.rtp.close()
		return nil, ErrClosed
	}
	g.calls[c] = struct{}{}
	c.stopA = g.sched.add(a)
	c.stopB = g.sched.add(l.rtp)
	g.mu.Unlock()
	return c, nil
}

func hangupCallee(l *calleeLeg) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.uas.Bye(ctx)
	l.ep.forget(l.callID)
	l.rtp.close()
}

func (c *Call) hangupCaller(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := c.uac.Bye(ctx)
	c.g.callers.forget(c.uac.InviteRequest.CallID().Value())
	return err
}

// SendDTMF queues digits (0-9, *, #, A-D) to be sent by the caller as RFC
// 4733 telephone events of 100 ms, 60 ms apart.
func (c *Call) SendDTMF(digits string) { c.a.queueDigits(digits) }

// CallStats is what both phones of a call measured.
type CallStats struct {
	// Up is the caller-to-callee stream as the callee received it, Down
	// the callee-to-caller stream as the caller received it.
	Up, Down StreamStats
	// SendErrors counts RTP writes that failed at either phone.
	SendErrors int64
}

// Stats reads the counters of both receiving ends.
func (c *Call) Stats() CallStats {
	b := c.callee.rtp
	return CallStats{Up: b.stats(c.a.sent.Load()), Down: c.a.stats(b.sent.Load()),
		SendErrors: c.a.sendErr.Load() + b.sendErr.Load()}
}

// Ended is closed when the pbx hung up the caller's side.
func (c *Call) Ended() <-chan struct{} { return c.callerBye }

func (c *Call) stopMedia() {
	c.media.Do(func() {
		if c.stopA != nil {
			c.stopA()
			c.stopB()
		}
	})
}

// Hangup stops the audio, sends the caller's BYE and waits (within ctx)
// for the pbx to pass it on to the callee. The stream statistics stay
// readable afterwards.
func (c *Call) Hangup(ctx context.Context) error {
	c.stopMedia()
	defer func() {
		c.a.close()
		c.callee.rtp.close()
		c.g.mu.Lock()
		delete(c.g.calls, c)
		c.g.mu.Unlock()
	}()
	select {
	case <-c.callerBye:
		return errors.New("the pbx had hung up the caller")
	default:
	}
	if err := c.hangupCaller(ctx); err != nil {
		return fmt.Errorf("BYE: %w", err)
	}
	select {
	case <-c.callee.ended:
		return nil
	case <-ctx.Done():
		c.callee.ep.forget(c.callee.callID)
		return fmt.Errorf("the callee got no BYE: %w", ctx.Err())
	}
}

// DialAll places one call per pair with at most concurrency call setups in
// flight. It returns the calls established, in no particular order, and
// the first setup error.
func (g *Generator) DialAll(ctx context.Context, pairs [][2]Account, concurrency int) ([]*Call, error) {
	var mu sync.Mutex
	calls := make([]*Call, 0, len(pairs))
	err := parallel(ctx, len(pairs), concurrency, func(ctx context.Context, i int) error {
		c, err := g.Dial(ctx, pairs[i][0], pairs[i][1])
		if err != nil {
			return err
		}
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		return nil
	})
	return calls, err
}

// HangupAll hangs up calls with at most concurrency BYEs in flight and
// returns how many failed and the first error.
func HangupAll(ctx context.Context, calls []*Call, concurrency int) (int, error) {
	var failed atomic.Int64
	err := parallel(ctx, len(calls), concurrency, func(ctx context.Context, i int) error {
		if err := calls[i].Hangup(ctx); err != nil {
			failed.Add(1)
			return err
		}
		return nil
	})
	return int(failed.Load()), err
}

// localSDP offers or answers PCMU with telephone events on addr.
func localSDP(addr netip.AddrPort) []byte {
	ip := addr.Addr().String()
	return []byte("v=0\r\no=loadgen " + strconv.FormatInt(time.Now().UnixNano()%1e9, 10) + " 1 IN IP4 " + ip +
		"\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " + strconv.Itoa(int(addr.Port())) +
		" RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
}

// parseSDP returns the media address of the first audio stream, which must
// offer PCMU and telephone events on payload type EventPT.
func parseSDP(body []byte) (netip.AddrPort, error) {
	var ip netip.Addr
	var port int
	var pts []string
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "):
			if a, err := netip.ParseAddr(strings.TrimPrefix(line, "c=IN IP4 ")); err == nil {
				ip = a
			}
		case strings.HasPrefix(line, "m=audio ") && port == 0:
			f := strings.Fields(line)
			if len(f) >= 4 {
				port, _ = strconv.Atoi(f[1])
				pts = f[3:]
			}
		}
	}
	if !ip.IsValid() || port <= 0 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("no audio address in %q", body)
	}
	var pcmu, ev bool
	for _, pt := range pts {
		pcmu = pcmu || pt == strconv.Itoa(PCMU)
		ev = ev || pt == strconv.Itoa(EventPT)
	}
	if !pcmu || !ev {
		return netip.AddrPort{}, fmt.Errorf("audio stream without PCMU or telephone-event/%d: %q", EventPT, pts)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}
