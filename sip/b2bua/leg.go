package b2bua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/media"
	"pbx/store"
)

// ErrLegEnded is returned by operations on a leg that has ended.
var ErrLegEnded = errors.New("b2bua: leg ended")

// Party is one end's identity as presented in signalling.
type Party struct {
	Name   string // display name
	Number string // extension or number; empty for a licence without one
	Domain string // SIP domain (the tenant's)
	UserID string // the licence, when known
}

func callerParty(da store.DeviceAuth) Party {
	name := strings.TrimSpace(da.User.FirstName + " " + da.User.LastName)
	return Party{Name: name, Number: da.User.Extension, Domain: da.Tenant.Domain, UserID: da.User.ID}
}

// uri is the party's SIP URI; a licence without a number presents as
// anonymous user part with its name.
func (p Party) uri() sip.Uri {
	user := p.Number
	if user == "" {
		user = "anonymous"
	}
	return sip.Uri{Scheme: "sip", User: user, Host: p.Domain}
}

type legState int

const (
	legNew legState = iota
	legRinging
	legAnswered
	legEnded
)

// Leg is one side of a call: one SIP dialog and one media session.
type Leg struct {
	svc       *Service
	inbound   bool
	callID    string
	key       string
	transport string
	dua       *sipgo.DialogUA
	uas       *sipgo.DialogServerSession
	inviteTx  sip.ServerTransaction
	uac       *sipgo.DialogClientSession
	sess      *media.Session
	remote    Party // who is at the far end
	abort     context.CancelFunc

	transferring atomic.Bool // a blind transfer of this leg's far end is pending

	mu         sync.Mutex
	state      legState
	local      localSDP
	remoteKey  string
	heldRemote bool // the far end holds us (sendonly/inactive)
	bridge     *Bridge
	call       *Call
	answerAt   time.Time
	cause      Cause
	done       chan struct{}
	onDTMF     func(rune)
	digits     chan rune
	reqMu      sync.Mutex // one in-dialog request at a time
}

func (s *Service) newLeg(inbound bool, transport string) (*Leg, error) {
	sess, err := s.newMediaSession()
	if err != nil {
		return nil, err
	}
	l := &Leg{svc: s, inbound: inbound, transport: strings.ToLower(transport), sess: sess, done: make(chan struct{}),
		digits: make(chan rune, 32)}
	if l.transport == "" {
		l.transport = "udp"
	}
	l.dua = s.dialogUA(l.transport)
	l.local = localSDP{sessID: rand.Uint64() >> 2, version: 1, host: s.localHost(), port: int(sess.LocalAddr().Port()), dir: dirSendRecv}
	sess.OnDTMF(l.dtmf)
	return l, nil
}

// newInboundLeg answers the offer of an INVITE with our media (without
// sending anything yet).
func (s *Service) newInboundLeg(dlg *sipgo.DialogServerSession, req *sip.Request, tx sip.ServerTransaction, offer *remoteSDP) (*Leg, error) {
	l, err := s.newLeg(true, req.Transport())
	if err != nil {
		return nil, err
	}
	l.uas = dlg
	l.inviteTx = tx
	l.callID = req.CallID().Value()
	tag, _ := dlg.InviteRequest.To().Params.Get("tag")
	l.key = legKey(l.callID, tag)
	if err := l.applyOffer(offer); err != nil {
		l.sess.Close()
		return nil, err
	}
	if !s.register(l) {
		l.sess.Close()
		return nil, errors.New("b2bua: closed")
	}
	go l.watchDialog(dlg.Context())
	return l, nil
}

// applyOffer adopts the far end's offer: codec, DTMF, address, SRTP, hold.
func (l *Leg) applyOffer(offer *remoteSDP) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	codec := offer.codecs[0]
	if cur := l.local.codecs; len(cur) == 1 {
		for _, c := range offer.codecs {
			if c == cur[0] {
				codec = c
			}
		}
	}
	if offer.secure {
		c, ok := offer.pickCrypto()
		if !ok {
			return errSRTPPolicy
		}
		if l.local.crypto == nil || l.local.crypto.suite != c.suite {
			key, err := media.GenerateSDESKey()
			if err != nil {
				return err
			}
			l.local.crypto = &cryptoLine{suite: c.suite, key: key}
		}
		l.local.crypto.tag = c.tag
		if c.key != l.remoteKey {
			if err := l.sess.SetSRTP(c.suite, l.local.crypto.key, c.key); err != nil {
				return fmt.Errorf("%w: %v", errSRTPPolicy, err)
			}
			l.remoteKey = c.key
		}
	} else if l.local.crypto != nil {
		_ = l.sess.SetSRTP("", "", "")
		l.local.crypto, l.remoteKey = nil, ""
	}
	if err := l.sess.SetCodec(codec); err != nil {
		return fmt.Errorf("%w: %v", errNoCommonCodec, err)
	}
	_ = l.sess.SetDTMFPayloadType(offer.dtmfPT)
	if old := l.sess.Remote(); old != offer.addr {
		l.sess.SetRemote(offer.addr)
		if l.state != legNew {
			l.sess.Relatch()
		}
	}
	l.local.codecs = []media.Codec{codec}
	l.local.dtmfPT = offer.dtmfPT
	l.local.dir = answerDir(offer.dir)
	return nil
}

// applyAnswer adopts the far end's answer to our offer.
func (l *Leg) applyAnswer(ans *remoteSDP) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var codec media.Codec
	found := false
	for _, c := range ans.codecs {
		for _, o := range l.local.codecs {
			if c == o && !found {
				codec, found = c, true
			}
		}
	}
	if !found {
		return errNoCommonCodec
	}
	if l.local.crypto != nil {
		c, ok := ans.pickCrypto()
		if !ans.secure || !ok || c.suite != l.local.crypto.suite {
			return errSRTPPolicy
		}
		if err := l.sess.SetSRTP(c.suite, l.local.crypto.key, c.key); err != nil {
			return fmt.Errorf("%w: %v", errSRTPPolicy, err)
		}
		l.remoteKey = c.key
	} else if ans.secure {
		return errSRTPPolicy
	}
	if err := l.sess.SetCodec(codec); err != nil {
		return err
	}
	_ = l.sess.SetDTMFPayloadType(ans.dtmfPT)
	l.sess.SetRemote(ans.addr)
	l.local.codecs = []media.Codec{codec}
	if ans.dtmfPT != 0 {
		l.local.dtmfPT = ans.dtmfPT
	}
	return nil
}

func (l *Leg) watchDialog(ctx context.Context) {
	select {
	case <-l.done:
	case <-ctx.Done():
		// A CANCEL or the death of the INVITE transaction before answer.
		l.mu.Lock()
		answered := l.state == legAnswered
		l.mu.Unlock()
		if !answered {
			l.remoteEnded(CauseCancelled)
		}
	}
}

// Inbound reports whether the far end called us.
func (l *Leg) Inbound() bool { return l.inbound }

// Remote is the identity of the far end.
func (l *Leg) Remote() Party { return l.remote }

// CallID is the Call-ID of the leg's dialog.
func (l *Leg) CallID() string { return l.callID }

// Transport is the SIP transport of the leg (udp, tcp, tls).
func (l *Leg) Transport() string { return l.transport }

// Media is the leg's media session.
func (l *Leg) Media() *media.Session { return l.sess }

// Done is closed when the leg has ended.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Cause says why the leg ended (empty while it lives).
func (l *Leg) Cause() Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cause
}

// Answered reports whether the leg was answered (it may have ended since).
func (l *Leg) Answered() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.answerAt.IsZero()
}

// AnsweredAt is when the leg was answered, zero if it was not.
func (l *Leg) AnsweredAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answerAt
}

// Held reports whether the far end currently holds the call.
func (l *Leg) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.heldRemote
}

// Secure reports whether the leg's media is SRTP.
func (l *Leg) Secure() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local.crypto != nil
}

// Bridge is the bridge the leg is in, or nil.
func (l *Leg) Bridge() *Bridge {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bridge
}

// Ring sends 180 Ringing on an unanswered inbound leg.
func (l *Leg) Ring() {
	l.mu.Lock()
	if !l.inbound || l.state != legNew {
		l.mu.Unlock()
		return
	}
	l.state = legRinging
	l.mu.Unlock()
	_ = l.uas.Respond(180, "Ringing", nil)
}

// Answer answers an inbound leg with our SDP and waits for the ACK.
func (l *Leg) Answer(ctx context.Context) error {
	if !l.inbound {
		return nil
	}
	l.mu.Lock()
	switch l.state {
	case legEnded:
		l.mu.Unlock()
		return ErrLegEnded
	case legAnswered:
		l.mu.Unlock()
		return nil
	}
	body := l.local.marshal()
	l.mu.Unlock()
	// RespondSDP returns when the ACK came, a BYE ended the dialog, or the
	// transaction died (64*T1 at most). A BYE racing the ACK still means
	// the 200 was received: the leg counts as answered.
	err := l.uas.RespondSDP(body)
	if err != nil && l.Cause() == CauseNormal {
		l.answered()
		return ErrLegEnded
	}
	if err != nil {
		l.Hangup(CauseFailure)
		return fmt.Errorf("b2bua: answer: %w", err)
	}
	l.answered()
	return nil
}

// answered marks the leg up and starts the inactivity watch.
func (l *Leg) answered() {
	l.mu.Lock()
	if l.answerAt.IsZero() {
		l.answerAt = time.Now()
	}
	if l.state == legEnded {
		l.mu.Unlock()
		return
	}
	l.state = legAnswered
	held := l.heldRemote
	l.mu.Unlock()
	if d := l.svc.cfg.RTPTimeout; d > 0 {
		l.sess.OnInactive(d, func() { l.Hangup(CauseMediaTimeout) })
	}
	l.sess.SetExpectMedia(!held)
}

// Hangup ends the leg: BYE when answered, CANCEL while a dialled leg rings,
// a final response (from cause) on an unanswered inbound leg. Its media is
// released at once; signalling finishes in the background.
func (l *Leg) Hangup(cause Cause) {
	prev, ok := l.end(cause)
	if !ok {
		return
	}
	if l.inbound && prev != legAnswered {
		// Synchronous: the INVITE handler must not return (and its
		// transaction end) before the final response is out. The
		// transaction absorbs the ACK.
		code, reason := cause.SIPStatus()
		_ = l.inviteTx.Respond(sip.NewResponseFromRequest(l.uas.InviteRequest, code, reason, nil))
		return
	}
	l.svc.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		switch {
		case prev == legAnswered && l.uas != nil:
			_ = l.uas.Bye(ctx)
		case prev == legAnswered && l.uac != nil:
			_ = l.uac.Bye(ctx)
		case l.abort != nil:
			l.abort()
		}
	})
}

// remoteEnded ends the leg because the far end did (BYE, CANCEL).
func (l *Leg) remoteEnded(cause Cause) {
	if _, ok := l.end(cause); ok && l.abort != nil {
		l.abort()
	}
}

func (l *Leg) end(cause Cause) (legState, bool) {
	l.mu.Lock()
	if l.state == legEnded {
		l.mu.Unlock()
		return legEnded, false
	}
	prev := l.state
	l.state = legEnded
	l.cause = cause
	close(l.done)
	l.mu.Unlock()
	l.sess.OnInactive(0, nil)
	l.sess.Close()
	if l.key != "" {
		l.svc.unregister(l)
	}
	return prev, true
}

// Play sends src to the far end until it ends or StopPlay; it replaces
// what a bridge or music would send meanwhile.
func (l *Leg) Play(src media.Source) (*media.Playback, error) {
	return l.sess.Play(src)
}

// StopPlay stops what Play started.
func (l *Leg) StopPlay() { l.sess.StopPlayback() }

// OnDTMF registers fn to be told of every RFC 4733 digit received from the
// far end (fn must not block); nil removes it.
func (l *Leg) OnDTMF(fn func(digit rune)) {
	l.mu.Lock()
	l.onDTMF = fn
	l.mu.Unlock()
}

func (l *Leg) dtmf(d rune) {
	l.mu.Lock()
	fn := l.onDTMF
	l.mu.Unlock()
	if fn != nil {
		fn(d)
	}
	select {
	case l.digits <- d:
	default:
	}
}

// CollectDigits gathers up to max digits, stopping early at one of the
// terminator runes (not included), when no digit came for interDigit, or
// when ctx ends. Digits received before the call are discarded.
func (l *Leg) CollectDigits(ctx context.Context, max int, terminators string, interDigit time.Duration) (string, error) {
	for drained := false; !drained; {
		select {
		case <-l.digits:
		default:
			drained = true
		}
	}
	var b strings.Builder
	t := time.NewTimer(interDigit)
	defer t.Stop()
	for b.Len() < max {
		select {
		case d := <-l.digits:
			if strings.ContainsRune(terminators, d) {
				return b.String(), nil
			}
			b.WriteRune(d)
			t.Reset(interDigit)
		case <-t.C:
			return b.String(), nil
		case <-l.done:
			return b.String(), ErrLegEnded
		case <-ctx.Done():
			return b.String(), ctx.Err()
		}
	}
	return b.String(), nil
}

// handleOffer answers a re-INVITE or UPDATE carrying SDP: new address,
// codec or keys, and hold or resume.
func (l *Leg) handleOffer(req *sip.Request, tx sip.ServerTransaction) {
	select {
	case <-l.done:
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	default:
	}
	var body []byte
	holding := false
	if len(req.Body()) > 0 {
		offer, err := parseSDP(req.Body())
		if err == nil && offer.secure && l.transport != "tls" {
			err = errSRTPPolicy
		}
		if err == nil {
			err = l.applyOffer(offer)
		}
		if err != nil {
			respond(tx, req, 488, "Not Acceptable Here")
			return
		}
		holding = offer.holding()
	} else {
		l.mu.Lock()
		holding = l.heldRemote
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.local.version++
	body = l.local.marshal()
	l.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&l.dua.ContactHDR))
	if err := tx.Respond(res); err != nil {
		return
	}
	l.setHeld(holding)
}

func (l *Leg) setHeld(held bool) {
	l.mu.Lock()
	changed := l.heldRemote != held
	l.heldRemote = held
	br := l.bridge
	up := l.state == legAnswered
	l.mu.Unlock()
	if !changed {
		return
	}
	if up {
		l.sess.SetExpectMedia(!held)
	}
	if br != nil {
		br.refreshMusic()
	}
}

// request sends an in-dialog request and returns the final response.
func (l *Leg) request(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	select {
	case <-l.done:
		return nil, ErrLegEnded
	default:
	}
	if l.uas != nil {
		return l.uas.Do(ctx, req)
	}
	return l.uac.Do(ctx, req)
}

// remoteTarget is the far end's Contact, the Request-URI of our requests.
func (l *Leg) remoteTarget() sip.Uri {
	if l.uas != nil {
		return l.uas.InviteRequest.Contact().Address
	}
	if c := l.uac.InviteResponse.Contact(); c != nil {
		return c.Address
	}
	return l.uac.InviteRequest.Recipient
}
