// Package sipserver owns the SIP endpoint of the softswitch: one sipgo user
// agent (transport and transaction layers) shared by the server side and the
// client side, so requests to a device leave over the flow it registered on;
// its UDP, TCP and TLS listeners; per-method handler registration with
// message metrics; and the answers to requests nobody else handles.
package sipserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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
	"github.com/prometheus/client_golang/prometheus"

	"pbx/internal/workpool"
)

// Config of the endpoint.
type Config struct {
	// Addr is the host:port of the UDP and TCP listeners (the same port for
	// both); port 0 picks a free one. Empty disables them.
	Addr string
	// TLSAddr is the host:port of the TLS listener; empty disables it.
	TLSAddr   string
	TLSConfig *tls.Config
	// PublicHost is the host name or address put in Via/Contact of what we
	// send (behind NAT, the public address); defaults to the listen host.
	PublicHost string
	UserAgent  string
	Logger     *slog.Logger
	// Registerer receives the SIP metrics; nil means a private registry.
	Registerer prometheus.Registerer
	// Blocked reports whether input from an IP address must be dropped
	// unread (a banned source); nil blocks nothing. It is asked for every
	// datagram and stream read, before parsing.
	Blocked func(ip netip.Addr) bool
	// OutOfDialog is asked for each out-of-dialog request (no To tag; not
	// ACK or CANCEL) before its handler runs, with the address it came
	// from; false drops the request unanswered (a source over its request
	// rate). Nil admits all.
	OutOfDialog func(src netip.AddrPort) bool
}

// Metrics exported by the endpoint; other SIP packages add to them.
type Metrics struct {
	Requests        *prometheus.CounterVec // by method
	Responses       *prometheus.CounterVec // by method and class (2xx...)
	Registrations   prometheus.Counter
	Unregistrations prometheus.Counter
	AuthFailures    *prometheus.CounterVec // by reason
	Bans            *prometheus.CounterVec // by kind (source, account)
	ParseErrors     prometheus.Counter
	// UnmatchedResponses counts responses matching no transaction.
	UnmatchedResponses prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Requests:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_sip_requests_total", Help: "SIP requests received, by method."}, []string{"method"}),
		Responses:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_sip_responses_total", Help: "SIP responses sent, by request method and status class."}, []string{"method", "class"}),
		Registrations:   prometheus.NewCounter(prometheus.CounterOpts{Name: "pbx_sip_registrations_total", Help: "Successful REGISTER requests that added or refreshed a binding."}),
		Unregistrations: prometheus.NewCounter(prometheus.CounterOpts{Name: "pbx_sip_unregistrations_total", Help: "REGISTER requests that removed bindings."}),
		AuthFailures:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_sip_auth_failures_total", Help: "Failed SIP digest authentications, by reason."}, []string{"reason"}),
		Bans:            prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pbx_sip_bans_total", Help: "Temporary bans of sources and accounts, by kind (source, account: authentication failures; rate: request rate)."}, []string{"kind"}),
		ParseErrors:     prometheus.NewCounter(prometheus.CounterOpts{Name: "pbx_sip_parse_errors_total", Help: "Datagrams or stream data that did not parse as SIP."}),
		UnmatchedResponses: prometheus.NewCounter(prometheus.CounterOpts{Name: "pbx_sip_unmatched_responses_total",
			Help: "SIP responses that matched no transaction (late retransmissions)."}),
	}
	for _, c := range []prometheus.Collector{m.Requests, m.Responses, m.Registrations, m.Unregistrations, m.AuthFailures, m.Bans, m.ParseErrors, m.UnmatchedResponses} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Server is the SIP endpoint.
type Server struct {
	UA      *sipgo.UserAgent
	SIP     *sipgo.Server
	Client  *sipgo.Client
	Metrics *Metrics

	cfg        Config
	log        *slog.Logger
	mu         sync.Mutex
	closers    []func() error
	wg         sync.WaitGroup
	addrs      map[string]net.Addr
	bad        *badInput
	publicHost string
	draining   atomic.Pointer[drainFunc] // SetDraining

	// What an answered INVITE leaves behind (accepted.go).
	unmatched *atomic.Pointer[func(*sip.Response)] // OnUnmatchedResponse
	answered  *RecentKeys                          // INVITEs answered 2xx

	// handlers run the request handlers (see wrap).
	handlers *workpool.Pool
}

// handlerIdle is how long an idle handler goroutine is kept for the next
// request.
const handlerIdle = 10 * time.Second

// UDPMTUSize is the value New gives sipgo's sip.UDPMTUSize: we send SIP
// messages of up to UDPMTUSize-200 bytes over UDP.
//
// sipgo refuses (ErrUDPMTUCongestion) to write a UDP message longer than
// sip.UDPMTUSize-200, 1300 bytes by default: RFC 3261 §18.1.1 wants larger
// requests sent over a congestion-controlled transport, but sipgo does not
// switch to TCP, it fails the send. A dialled INVITE (Via, From/To with
// display names, P-Asserted-Identity, Allow, Supported, Contact, an SDP
// with telephone-event) can pass 1300 bytes, and a phone registered over
// UDP can usually not be reached over TCP (it does not listen, or sits
// behind NAT): an oversized UDP datagram, fragmented by IP, is the only way
// to reach it, as in other PBXs. sipgo v1.7.2 has no per-UA or per-transport option
// for this limit (TransportUDP has no exported fields and WriteMsg reads
// the package variable), so New sets the package-wide variable, once.
const UDPMTUSize = 4096

var setUDPMTU sync.Once

// New creates the endpoint; call Handle for each method, then Start.
func New(cfg Config) (*Server, error) {
	setUDPMTU.Do(func() {
		if sip.UDPMTUSize < UDPMTUSize {
			sip.UDPMTUSize = UDPMTUSize
		}
	})
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "pbx"
	}
	// sipgo reports unparsable input at error level with the raw bytes; we
	// count it instead, so garbage on the ports cannot flood the logs, and
	// answer 400 to a datagram whose headers are readable enough.
	bad := &badInput{count: m.ParseErrors.Inc, blocked: cfg.Blocked}
	shortenAcceptedTimers()
	unmatched := new(atomic.Pointer[func(*sip.Response)])
	sipLog := slog.New(&parseErrorFilter{next: log.Handler(), bad: bad})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgenTLSConfig(cfg.TLSConfig),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog), sip.WithTransportLayerReadFilter(bad.filter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			// A response no transaction waits for is a late retransmission:
			// count it instead of logging each one.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				if f := unmatched.Load(); f != nil {
					(*f)(r)
				}
				m.UnmatchedResponses.Inc()
				log.Debug("sip response matches no transaction", "response", r.Short())
			}),
			// A TCP or TLS device that goes away fails its transactions at
			// once instead of after Timer B (32 s).
			sip.WithTransactionLayerTerminateOnConnClose()))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, err
	}
	s := &Server{UA: ua, SIP: srv, Metrics: m, cfg: cfg, log: log, addrs: map[string]net.Addr{}, bad: bad,
		unmatched: unmatched, answered: NewRecentKeys(64 * sip.T1), handlers: workpool.New(handlerIdle)}
	s.SIP.OnNoRoute(s.wrap(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", AllowedMethods))
		_ = tx.Respond(res)
	}))
	s.SIP.OnOptions(s.wrap(s.options))
	return s, nil
}

// AllowedMethods is the Allow header we advertise.
const AllowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, NOTIFY, SUBSCRIBE, UPDATE, INFO"

func (s *Server) options(req *sip.Request, tx sip.ServerTransaction) {
	if s.refuseOptions(req, tx) {
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", AllowedMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "replaces"))
	res.AppendHeader(sip.NewHeader("Allow-Events", "dialog"))
	_ = tx.Respond(res)
}

// Handle registers the handler of a method, counting requests and responses.
func (s *Server) Handle(method sip.RequestMethod, h sipgo.RequestHandler) {
	s.SIP.OnRequest(method, s.wrap(h))
}

// wrap counts, filters and validates each request before h, and recovers
// a panic of h. h runs on a goroutine of the handlers pool, which keeps
// the stack a previous request grew, while sipgo's goroutine for the
// request (a new one each time) waits with the small stack it started
// with: growing one per request by copying cost more than the handoff.
func (s *Server) wrap(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.handlers.Run(func() { s.handle(h, req, tx) })
	}
}

func (s *Server) handle(h sipgo.RequestHandler, req *sip.Request, tx sip.ServerTransaction) {
	{
		method := string(req.Method)
		if !knownMethod(method) {
			method = "other"
		}
		s.Metrics.Requests.WithLabelValues(method).Inc()
		if s.cfg.OutOfDialog != nil && outOfDialog(req) {
			if src, err := netip.ParseAddrPort(req.Source()); err == nil && !s.cfg.OutOfDialog(src) {
				return
			}
		}
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("sip handler panic", "method", method, "call_id", callID(req), "panic", fmt.Sprint(r))
				if tx != nil {
					_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
				}
			}
		}()
		if req.IsInvite() && s.answered.Has(inviteKey(req)) {
			// A retransmission of an INVITE answered 2xx whose
			// transaction has ended (accepted.go): absorbed.
			return
		}
		var ctx sip.ServerTransaction
		if tx != nil {
			ctx = &countingTx{ServerTransaction: tx, m: s.Metrics, method: method, srv: s, req: req}
		}
		if code, reason := validate(req); code != 0 {
			reject(req, ctx, code, reason)
			return
		}
		h(req, ctx)
	}
}

// ContactURI is our Contact for a transport ("udp", "tcp", "tls"; empty
// means udp): the public host, the port of that listener and, off UDP, the
// transport parameter.
func (s *Server) ContactURI(transport string) sip.Uri {
	t := strings.ToLower(transport)
	if t == "" {
		t = "udp"
	}
	uri := sip.Uri{Scheme: "sip", User: "pbx", Host: s.PublicHost(), UriParams: sip.HeaderParams{}}
	if a := s.Addr(t); a != nil {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			uri.Port, _ = strconv.Atoi(port)
		}
	}
	if t != "udp" {
		uri.UriParams.Add("transport", t)
	}
	return uri
}

// Expires reads the Expires header of req: its value and whether it is
// present; a value that is not a non-negative integer is an error.
func Expires(req *sip.Request) (int, bool, error) {
	h := req.GetHeader("Expires")
	if h == nil {
		return 0, false, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || v < 0 {
		return 0, true, fmt.Errorf("invalid Expires %q", h.Value())
	}
	return v, true, nil
}

// Respond answers req on tx with code and reason and the extra headers.
func Respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// outOfDialog reports whether req starts something new: a request without
// a To tag other than ACK and CANCEL (which belong to an INVITE's
// transaction).
func outOfDialog(req *sip.Request) bool {
	if req.Method == sip.ACK || req.Method == sip.CANCEL {
		return false
	}
	to := req.To()
	if to == nil {
		return true
	}
	tag, _ := to.Params.Get("tag")
	return tag == ""
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func knownMethod(m string) bool {
	switch m {
	case "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "REFER", "NOTIFY", "SUBSCRIBE", "UPDATE", "INFO", "MESSAGE", "PRACK", "PUBLISH":
		return true
	}
	return false
}

type countingTx struct {
	sip.ServerTransaction
	m      *Metrics
	method string
	srv    *Server
	req    *sip.Request
	// answered is when a 2xx went out (an INVITE's, Unix ns); the next
	// ones are retransmissions (accepted.go).
	answered atomic.Int64
}

func (t *countingTx) Respond(res *sip.Response) error {
	t.count(res)
	if t.method != "INVITE" || !res.IsSuccess() {
		return t.ServerTransaction.Respond(res)
	}
	if at := t.answered.Load(); at != 0 {
		return retransmitAnswer(t.ServerTransaction, res, time.Unix(0, at))
	}
	if err := t.ServerTransaction.Respond(res); err != nil {
		return err
	}
	// Retransmissions of the INVITE are absorbed once its transaction
	// has ended (accepted.go).
	t.answered.Store(time.Now().UnixNano())
	t.srv.answered.Add(inviteKey(t.req))
	return nil
}

func (t *countingTx) count(res *sip.Response) {
	t.m.Responses.WithLabelValues(t.method, statusClass(res.StatusCode)).Inc()
}

// statusClass is "1xx" to "6xx" without an allocation per response.
func statusClass(code int) string {
	if c := code / 100; c >= 1 && c <= 6 {
		return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"}[c-1]
	}
	return strconv.Itoa(code/100) + "xx"
}

// Unwrap returns the sipgo transaction (dialog helpers need the concrete one).
func (t *countingTx) Unwrap() sip.ServerTransaction { return t.ServerTransaction }

// Start binds the listeners and serves them in the background.
func (s *Server) Start() error {
	if s.cfg.Addr != "" {
		udp, tcp, err := listenPair(s.cfg.Addr)
		if err != nil {
			return err
		}
		uc := udp.(*net.UDPConn)
		// Bursts of REGISTERs (a site's phones after a power cut) must not
		// overflow the default socket buffer.
		_ = uc.SetReadBuffer(4 << 20)
		_ = uc.SetWriteBuffer(4 << 20)
		// One reader per core: sipgo parses in the reading goroutine.
		for i, r := range s.bad.newUDPReaders(uc, runtime.GOMAXPROCS(0)) {
			closer := func() error { return nil }
			if i == 0 {
				closer = udp.Close
			}
			s.serve("udp", udp.LocalAddr(), closer, func() error { return s.SIP.ServeUDP(r) })
		}
		s.serve("tcp", tcp.Addr(), tcp.Close, func() error { return s.SIP.ServeTCP(tcp) })
	}
	if s.cfg.TLSAddr != "" {
		if s.cfg.TLSConfig == nil {
			return errors.New("sip: TLS address without a TLS configuration")
		}
		l, err := tls.Listen("tcp", s.cfg.TLSAddr, s.cfg.TLSConfig)
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSAddr, err)
		}
		s.serve("tls", l.Addr(), l.Close, func() error { return s.SIP.ServeTLS(l) })
	}
	host := s.cfg.PublicHost
	if host == "" {
		for _, a := range s.addrs {
			h, _, _ := net.SplitHostPort(a.String())
			if h != "::" && h != "0.0.0.0" {
				host = h
			}
			break
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	s.publicHost = host
	var err error
	s.Client, err = sipgo.NewClient(s.UA, sipgo.WithClientHostname(host))
	return err
}

// listenPair binds UDP and TCP on the same port. When the address asks for
// any free port (":0"), the port the OS picks for UDP may be held by a TCP
// socket; another port is then tried, a bounded number of times.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sip: address %q: %w", addr, err)
	}
	attempts := 1
	if port == "0" {
		attempts = 20
	}
	for i := 0; ; i++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp %s: %w", addr, err)
		}
		tcpAddr := udp.LocalAddr().String()
		tcp, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if i+1 >= attempts {
			return nil, nil, fmt.Errorf("sip: listen tcp %s: %w", tcpAddr, err)
		}
	}
}

func (s *Server) serve(network string, addr net.Addr, closer func() error, run func() error) {
	s.mu.Lock()
	_, listening := s.addrs[network]
	s.addrs[network] = addr
	s.closers = append(s.closers, closer)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := run(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Debug("sip listener stopped", "network", network, "error", err)
		}
	}()
	if !listening {
		s.log.Info("sip listening", "network", network, "addr", addr.String())
	}
}

// Addr returns the bound address of a listener ("udp", "tcp" or "tls").
func (s *Server) Addr(network string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[strings.ToLower(network)]
}

// UDPLocal is the address of the UDP listener as sipgo's connection pool
// knows it. Requests to a device registered over UDP must leave from it:
// that is the address and port the device's NAT opened a pinhole for, and a
// fresh ephemeral socket (what sipgo picks when it has not heard from the
// device since start-up) would be dropped by the NAT.
func (s *Server) UDPLocal() sip.Addr {
	a, ok := s.Addr("udp").(*net.UDPAddr)
	if !ok {
		return sip.Addr{}
	}
	return sip.Addr{IP: a.IP, Port: a.Port}
}

// HasFlow reports whether a connection of network ("tcp" or "tls") to addr
// (host:port) is open.
func (s *Server) HasFlow(network, addr string) bool {
	_, err := s.UA.TransportLayer().GetConnection(network, addr)
	return err == nil
}

// keepalive is the NAT keepalive datagram: an empty SIP "ping" (RFC 5626
// §4.4.1 uses CRLFCRLF on streams; on UDP every SIP stack ignores it, and
// what matters is that a datagram leaves through the device's NAT mapping).
var keepalive = []byte("\r\n\r\n")

// SendKeepalives sends one keepalive datagram from the UDP listener (the
// address the devices registered to) to each address, and returns how many
// were sent.
func (s *Server) SendKeepalives(addrs []netip.AddrPort) int {
	conn := s.bad.udpConn
	if conn == nil {
		return 0
	}
	n := 0
	for _, a := range addrs {
		if _, err := conn.WriteToUDPAddrPort(keepalive, a); err == nil {
			n++
		}
	}
	return n
}

// PublicHost is the host we advertise in Via, Contact and SDP.
func (s *Server) PublicHost() string { return s.publicHost }

// Close stops the listeners and the user agent.
func (s *Server) Close() error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	var errs []error
	for _, c := range closers {
		if err := c(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.Client != nil {
		s.Client.Close()
	}
	errs = append(errs, s.UA.Close())
	s.wg.Wait()
	s.handlers.Close()
	s.bad.stopStateless()
	return errors.Join(errs...)
}

// parseErrorFilter intercepts sipgo's "failed to parse" records (which
// carry the raw input) and hands them to badInput instead of the log.
type parseErrorFilter struct {
	next slog.Handler
	bad  *badInput
	udp  bool // records of the UDP transport's logger
}

func (f *parseErrorFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || f.next.Enabled(ctx, l)
}

func (f *parseErrorFilter) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "parse") {
		var data string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "data" {
				data = a.Value.String()
				return false
			}
			return true
		})
		f.bad.parseFailed(f.udp, data)
		return nil
	}
	if strings.Contains(r.Message, "failed to handle request") {
		// A malformed request already answered 400 by sipgo: the sender's
		// fault, not ours; keep it out of the error log.
		r = slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	}
	if !f.next.Enabled(ctx, r.Level) {
		return nil
	}
	return f.next.Handle(ctx, r)
}

func (f *parseErrorFilter) WithAttrs(as []slog.Attr) slog.Handler {
	udp := f.udp
	for _, a := range as {
		if a.Key == "caller" && strings.Contains(a.Value.String(), "UDP") {
			udp = true
		}
	}
	return &parseErrorFilter{next: f.next.WithAttrs(as), bad: f.bad, udp: udp}
}

func (f *parseErrorFilter) WithGroup(n string) slog.Handler {
	return &parseErrorFilter{next: f.next.WithGroup(n), bad: f.bad, udp: f.udp}
}
