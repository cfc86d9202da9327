package b2bua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/internal/workpool"
	"pbx/media"
	"pbx/media/sdp"
	"pbx/sip/sipserver"
	"pbx/store"
)

// Router decides what happens to an inbound call. Route runs for the whole
// life of the call: when it returns, every leg the call still owns is hung
// up and the CDR is written. BlindTransfer is asked to reach the target of a
// REFER without Replaces; it must end with t.Complete or t.Fail.
type Router interface {
	callctl.Router
	callctl.TransferRouter
}

// CDRSink receives one record per call.
type CDRSink interface {
	InsertCDR(ctx context.Context, c store.CDR) (store.CDR, error)
}

// Config of a Service. SIP, Engine, Admit and Router are required.
type Config struct {
	SIP    *sipserver.Server
	Engine *media.Engine
	// Admit says who places each new call (see Admitter).
	Admit  Admitter
	Router Router
	CDRs   CDRSink
	// Journal, when set, notes the calls up so that a crash loses no
	// call record.
	Journal Journal
	// HoldMusic returns the music class a tenant's held parties hear; nil
	// or a nil result means the engine's generated melody.
	HoldMusic func(tenantID string) *media.MusicClass
	// MusicClass returns a tenant's named music class (Leg.StartMusic),
	// nil if it has none of that name; class "" is HoldMusic's.
	MusicClass func(tenantID, class string) *media.MusicClass
	// MediaHost is the address put in our SDP; default SIP.PublicHost().
	MediaHost string
	// RTPTimeout hangs up a leg that received no RTP for this long while
	// media was expected (default 60 s; negative disables).
	RTPTimeout time.Duration
	// UserState, when set, hears every change of a user's dialog state
	// (UserIdle, UserEarly, UserConfirmed), in order; it must return
	// quickly and not call back into the b2bua.
	UserState func(userID, state string)
	// DrainRetryAfter is the Retry-After of the 503s refusing new calls
	// while draining (default DefaultDrainRetryAfter).
	DrainRetryAfter time.Duration
	Logger          *slog.Logger
}

// Service is the back-to-back user agent.
type Service struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // calls and background signalling
	// workers run what spawn starts, on goroutines whose grown stacks
	// are reused (see workpool).
	workers *workpool.Pool

	mu     sync.Mutex
	legs   map[string]*Leg // by Call-ID "|" our tag
	calls  map[*Call]struct{}
	closed bool
	drain  drainState
	dua    map[string]*sipgo.DialogUA // by transport
	maddr  netip.Addr                 // media address of our SDP, once known
	legSeq atomic.Uint64              // numbers the legs' IDs

	// byes are the dialogs ended by a BYE in the last 64*T1, whose
	// retransmitted BYEs get a 200 (handleBye).
	byes *sipserver.RecentKeys

	presMu sync.Mutex          // guards users and every Leg.phase
	users  map[string]userLegs // legs per user, for UserState
}

// New returns a Service; call Mount to receive requests.
func New(cfg Config) (*Service, error) {
	if cfg.SIP == nil || cfg.Engine == nil || cfg.Admit == nil || cfg.Router == nil {
		return nil, errors.New("b2bua: Config needs SIP, Engine, Admit and Router")
	}
	if cfg.RTPTimeout == 0 {
		cfg.RTPTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, log: cfg.Logger, legs: map[string]*Leg{}, calls: map[*Call]struct{}{}, dua: map[string]*sipgo.DialogUA{},
		users: map[string]userLegs{}, byes: sipserver.NewRecentKeys(64 * sip.T1), workers: workpool.New(10 * time.Second)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Mount registers the handlers of the methods the b2bua answers.
func (s *Service) Mount(srv *sipserver.Server) {
	srv.Handle(sip.INVITE, s.handleInvite)
	srv.Handle(sip.ACK, s.handleAck)
	srv.Handle(sip.BYE, s.handleBye)
	srv.Handle(sip.CANCEL, s.handleCancel)
	srv.Handle(sip.REFER, s.handleRefer)
	srv.Handle(sip.UPDATE, s.handleUpdate)
	srv.Handle(sip.INFO, s.handleInfo)
	srv.Handle(sip.NOTIFY, s.handleNotify)
	srv.OnUnmatchedResponse(s.reack)
	s.mountDrain(srv)
}

// Close hangs up every call and waits for their goroutines.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	legs := make([]*Leg, 0, len(s.legs))
	for _, l := range s.legs {
		legs = append(legs, l)
	}
	s.mu.Unlock()
	// The legs are hung up before the calls' contexts end: a program
	// waiting on its context (an answer awaiting its ACK) would otherwise
	// hang up first, with a failure as the call's cause.
	for _, l := range legs {
		l.Hangup(CauseShutdown)
	}
	s.cancel()
	s.wg.Wait()
	s.workers.Close()
}

// Stats counts what the b2bua holds.
type Stats struct {
	Calls, Legs int
}

// Stats reports live calls and registered dialogs.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Calls: len(s.calls), Legs: len(s.legs)}
}

// dialogUA returns the dialog user agent for a transport, whose Contact
// points at our listener of that transport.
func (s *Service) dialogUA(transport string) *sipgo.DialogUA {
	transport = strings.ToLower(transport)
	if transport == "" {
		transport = "udp"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.dua[transport]; d != nil {
		return d
	}
	d := &sipgo.DialogUA{Client: s.cfg.SIP.Client, ContactHDR: sip.ContactHeader{Address: s.cfg.SIP.ContactURI(transport)}, RewriteContact: true}
	s.dua[transport] = d
	return d
}

func (s *Service) mediaHost() string {
	if s.cfg.MediaHost != "" {
		return s.cfg.MediaHost
	}
	return s.cfg.SIP.PublicHost()
}

// musicClass resolves a tenant's music class; "" is its hold music.
func (s *Service) musicClass(tenantID, class string) *media.MusicClass {
	if class == "" {
		return s.holdMusic(tenantID)
	}
	if s.cfg.MusicClass == nil {
		return nil
	}
	return s.cfg.MusicClass(tenantID, class)
}

func (s *Service) holdMusic(tenantID string) *media.MusicClass {
	if s.cfg.HoldMusic != nil {
		if c := s.cfg.HoldMusic(tenantID); c != nil {
			return c
		}
	}
	return s.cfg.Engine.Music("default", nil)
}

func legKey(callID, tag string) string { return callID + "|" + tag }

func (s *Service) register(l *Leg) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.legs[l.key] = l
	return true
}

func (s *Service) unregister(l *Leg) {
	s.mu.Lock()
	if s.legs[l.key] == l {
		delete(s.legs, l.key)
	}
	s.mu.Unlock()
}

// lookup finds the leg an in-dialog request belongs to.
func (s *Service) lookup(req *sip.Request) *Leg {
	cid, to := req.CallID(), req.To()
	if cid == nil || to == nil {
		return nil
	}
	tag, _ := to.Params.Get("tag")
	if tag == "" {
		return nil
	}
	return s.find(cid.Value(), tag)
}

func (s *Service) find(callID, tag string) *Leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[legKey(callID, tag)]
}

// spawn runs fn in a goroutine the Service waits for on Close.
func (s *Service) spawn(fn func()) {
	s.wg.Add(1)
	s.workers.Go(func() {
		defer s.wg.Done()
		fn()
	})
}

// respond is sipserver.Respond.
var respond = sipserver.Respond

func (s *Service) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			s.handleReinvite(req, tx)
			return
		}
	}
	if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil || req.Contact() == nil {
		respond(tx, req, 400, "Bad Request - missing mandatory header")
		return
	}
	if !s.admitting() {
		s.refuseNew(tx, req)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	origin, ok := s.cfg.Admit.Admit(ctx, req, tx)
	cancel()
	if !ok {
		return
	}
	log := s.log.With("call_id", req.CallID().Value(), "origin", string(origin.Kind), "tenant_id", origin.TenantID,
		"device_id", origin.DeviceID, "trunk_id", origin.TrunkID)
	if req.GetHeader("Replaces") != nil {
		s.inviteReplaces(req, tx, origin) // replaces.go
		return
	}
	leg := s.acceptInvite(req, tx, origin, log)
	if leg == nil {
		return
	}
	call := s.newCall(leg, origin, req)
	if call == nil {
		leg.Hangup(CauseShutdown)
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.runCall(call, s.cfg.Router.Route)
}

// newCall makes the call of an admitted inbound leg; nil when the node
// closed or started draining meanwhile.
// acceptInvite reads the INVITE's offer and makes the inbound leg of an
// admitted caller (a new call, or one replacing a dialog); nil when it has
// answered the request itself (488, 400, 500, 503). It sends no 100
// Trying: the INVITE's server transaction sends one if no other response
// has gone within 200 ms (RFC 3261 §17.2.1, sipgo's Timer_1xx), and on a
// call answered or ringing before that, a 100 would be one more message
// for nothing.
func (s *Service) acceptInvite(req *sip.Request, tx sip.ServerTransaction, origin callctl.Origin, log *slog.Logger) *Leg {
	// An INVITE without a body is a delayed offer (RFC 3261 §13.2.1): our
	// 200 carries the offer and the caller's ACK the answer.
	var offer *sdp.Description
	var err error
	if len(req.Body()) > 0 {
		// The leg keeps the request for programs to read the other
		// parts of a multipart body (RequestParts).
		var body []byte
		if body, err = offerBody(req); err == nil {
			offer, err = sdp.Parse(body)
		}
		if err == nil && offer.Secure() && !strings.EqualFold(req.Transport(), "TLS") {
			err = errSRTPPolicy
		}
	}
	if err != nil {
		log.Info("invite rejected", "error", err)
		respond(tx, req, 488, "Not Acceptable Here")
		return nil
	}
	dlg, err := s.dialogUA(req.Transport()).ReadInvite(req, tx)
	if err != nil {
		log.Info("invite: dialog", "error", err)
		respond(tx, req, 400, "Bad Request")
		return nil
	}
	leg, err := s.newInboundLeg(dlg, req, tx, offer, origin.Caller)
	if err != nil {
		log.Warn("invite: media", "error", err)
		code, reason := 500, "Server Internal Error"
		if notAcceptable(err) {
			code, reason = 488, "Not Acceptable Here"
		} else if errors.Is(err, media.ErrNoPorts) {
			code, reason = 503, "Service Unavailable"
		}
		_ = dlg.Respond(code, reason, nil)
		return nil
	}
	return leg
}

func (s *Service) newCall(in *Leg, origin callctl.Origin, req *sip.Request) *Call {
	c := &Call{svc: s, id: in.callID, inbound: in, dialled: req.Recipient.User, start: time.Now()}
	c.tenant.ID, c.tenant.Domain = origin.TenantID, origin.Domain
	if c.dialled == "" {
		c.dialled = req.To().Address.User
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	if origin.Source == "" {
		origin.Source = req.Source()
	}
	if origin.Caller.Number == "" && origin.Kind == callctl.OriginDevice {
		// A licence without an extension: the CDR names its device by
		// what it put in From, its SIP username.
		origin.Caller.Number = req.From().Address.User
	}
	c.origin = origin
	in.setPhase(phaseEarly)
	s.mu.Lock()
	if s.closed || s.draining() {
		s.mu.Unlock()
		return nil
	}
	s.calls[c] = struct{}{}
	s.mu.Unlock()
	c.adopt(in)
	c.journalBegin()
	return c
}

// runCall runs the call's program (Route for an inbound call) and ends the
// call when it returns. Its context ends once no party is left (checkDone).
func (s *Service) runCall(c *Call, program callctl.Program) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("call program panic", "call_id", c.id, "panic", fmt.Sprint(r))
		}
		c.finish()
		s.callEnded(c)
	}()
	program(c.ctx, c)
}

func (s *Service) handleReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.handleOffer(req, tx)
}

func (s *Service) handleUpdate(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		respond(tx, req, 200, "OK")
		return
	}
	l.handleOffer(req, tx)
}

func (s *Service) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		return
	}
	l.acked(req)
	l.ackedAnswer(req)
	answerErr := l.ackAnswer(req)
	if l.uas != nil {
		_ = l.uas.ReadAck(req, tx)
	}
	if answerErr != nil {
		s.log.Info("delayed offer: the ACK's answer is refused", "call_id", l.callID, "error", answerErr)
		l.Hangup(CauseNotAcceptable)
	}
}

func (s *Service) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		if s.byes.Has(dialogKey(req)) {
			// A retransmission: our 200 was lost (see statelessBye).
			_ = sipserver.RespondStateless(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
			return
		}
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	// Before the leg goes: a retransmission finds one or the other.
	s.byes.Add(l.key)
	l.remoteEnded(CauseNormal)
	// The dialog helpers answer 200 and end the dialog, which also
	// releases an answer still waiting for its ACK.
	var err error
	if l.uas != nil {
		err = l.uas.ReadBye(req, statelessBye{tx})
	} else {
		err = l.uac.ReadBye(req, statelessBye{tx})
	}
	if err != nil {
		_ = sipserver.RespondStateless(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
}

// statelessBye answers a BYE without keeping its transaction (and the
// request and response in it) for Timer J, 64*T1 on UDP: retransmissions
// of the BYE for that long are answered 200 again from Service.byes, a
// key per dialog.
type statelessBye struct{ sip.ServerTransaction }

func (t statelessBye) Respond(res *sip.Response) error {
	return sipserver.RespondStateless(t.ServerTransaction, res)
}

// dialogKey is the key of the leg an in-dialog request is for.
func dialogKey(req *sip.Request) string {
	cid, to := req.CallID(), req.To()
	if cid == nil || to == nil {
		return ""
	}
	tag, _ := to.Params.Get("tag")
	return legKey(cid.Value(), tag)
}

func (s *Service) handleCancel(req *sip.Request, tx sip.ServerTransaction) {
	// A CANCEL that matched a pending INVITE was answered by the
	// transaction layer; this one matched nothing.
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

func (s *Service) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	// Phones that do not send RFC 4733 send digits as INFO
	// (application/dtmf-relay or application/dtmf); other INFO bodies are
	// acknowledged and ignored. The digit is taken before the 200, so that
	// it precedes what the phone does next (a BYE) in the leg's events.
	if ct := req.ContentType(); ct != nil {
		if d, ok := infoDigit(ct.Value(), req.Body()); ok {
			l.dtmf(d)
		}
	}
	respond(tx, req, 200, "OK")
}

func (s *Service) handleNotify(req *sip.Request, tx sip.ServerTransaction) {
	if s.lookup(req) == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	respond(tx, req, 200, "OK")
}

// newMediaSession opens a media session with the inactivity watch wired
// later, at answer.
func (s *Service) newMediaSession() (*media.Session, error) {
	return s.cfg.Engine.NewSession()
}

// mediaAddr is the address our SDP gives for RTP: MediaHost (or the SIP
// public host) as an IP address, resolved once if it is a name, since
// c= lines carry addresses.
func (s *Service) mediaAddr() (netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maddr.IsValid() {
		return s.maddr, nil
	}
	h := s.mediaHost()
	a, err := netip.ParseAddr(h)
	if err != nil {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		cancel()
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, fmt.Errorf("b2bua: media host %q: not an address and not resolvable: %v", h, lerr)
		}
		a = ips[0]
	}
	s.maddr = a.Unmap()
	return s.maddr, nil
}
