package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/media"
	"pbx/media/sdp"
)

// ErrLegEnded is returned by operations on a leg that has ended.
var ErrLegEnded = callctl.ErrLegEnded

// Party is one end's identity as presented in signalling.
type Party = callctl.Party

// partyURI is the party's SIP URI; a licence without a number presents
// as anonymous user part with its name.
func partyURI(p Party) sip.Uri {
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
	legAnswering // inbound: 2xx sent, its ACK not yet received
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
	phase        legPhase    // for the user's state; guarded by Service.presMu

	mu    sync.Mutex
	state legState
	sdpb  *sdp.Builder     // our o= line and its versions
	local sdp.Media        // our audio stream as last offered or answered
	offer *sdp.Description // the INVITE's offer, answered by Answer; nil for a delayed offer
	// answerDue: an INVITE had no offer, ours went in the 200 and the
	// answer is due in the ACK (answerInitial, answerReinvite).
	answerDue  answerDue
	remoteKey  string
	heldRemote bool // the far end holds us (sendonly/inactive)
	bridge     *Bridge
	call       *Call
	answerAt   time.Time
	cause      Cause
	done       chan struct{}
	ackWait    chan struct{} // inbound: closed when the 2xx's ACK came (or never will)
	onDTMF     func(rune)
	digits     chan rune
	reqMu      sync.Mutex // one in-dialog request at a time
	pendingAck *pendingAck
}

func (s *Service) newLeg(inbound bool, transport string) (*Leg, error) {
	addr, err := s.mediaAddr()
	if err != nil {
		return nil, err
	}
	sess, err := s.newMediaSession()
	if err != nil {
		return nil, err
	}
	l := &Leg{svc: s, inbound: inbound, transport: strings.ToLower(transport), sess: sess, done: make(chan struct{}), ackWait: make(chan struct{}),
		digits: make(chan rune, 32)}
	if l.transport == "" {
		l.transport = "udp"
	}
	l.dua = s.dialogUA(l.transport)
	l.sdpb = sdp.NewBuilder(addr)
	l.sdpb.Username = "pbx"
	l.local = sdp.Media{Port: int(sess.LocalAddr().Port())}
	sess.OnDTMF(l.dtmf)
	return l, nil
}

// newInboundLeg answers the offer of an INVITE with our media (without
// sending anything yet).
func (s *Service) newInboundLeg(dlg *sipgo.DialogServerSession, req *sip.Request, tx sip.ServerTransaction, offer *sdp.Description) (*Leg, error) {
	l, err := s.newLeg(true, req.Transport())
	if err != nil {
		return nil, err
	}
	l.uas = dlg
	l.inviteTx = tx
	l.callID = req.CallID().Value()
	tag, _ := dlg.InviteRequest.To().Params.Get("tag")
	l.key = legKey(l.callID, tag)
	if offer == nil {
		// Delayed offer: we offer every codec in the 200; the answer comes
		// in the ACK (ackAnswer).
		l.local = offerMedia(l.local.Port, nil)
		l.answerDue = answerInitial
	} else if err := l.applyOffer(offer); err != nil {
		l.sess.Close()
		return nil, err
	}
	l.offer = offer
	if !s.register(l) {
		l.sess.Close()
		return nil, errors.New("b2bua: closed")
	}
	go l.watchDialog(dlg.Context())
	return l, nil
}

// applyOffer adopts the far end's offer (initial or re-offer): codec,
// DTMF, address, SRTP keys; and sets what our answer will say.
func (l *Leg) applyOffer(offer *sdp.Description) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := negotiateOffer(offer, currentCodec(l.local))
	if err != nil {
		return err
	}
	localKey := ""
	if n.Crypto != nil {
		if c := l.local.Crypto; c != nil && c.Suite == n.Crypto.Suite {
			localKey = c.Key // keep our key across re-offers
		} else if localKey, err = media.GenerateSDESKey(); err != nil {
			return err
		}
	}
	if err := l.sess.SetCodec(mediaCodec(n.Codec)); err != nil {
		return fmt.Errorf("%w: %v", sdp.ErrNoCommonCodec, err)
	}
	if err := l.setKeys(n.Crypto, localKey); err != nil {
		return err
	}
	_ = l.sess.SetDTMFPayloadType(n.DTMFPayloadType)
	if old := l.sess.Remote(); old != n.Remote {
		l.sess.SetRemote(n.Remote)
		if l.state != legNew {
			l.sess.Relatch()
		}
	}
	l.local = n.AnswerMedia(l.local.Port, localKey)
	return nil
}

// setKeys (re)keys the session's SRTP when the remote or local key changed;
// remote nil means plain RTP. l.mu is held.
func (l *Leg) setKeys(remote *sdp.Crypto, localKey string) error {
	if remote == nil {
		if l.local.Crypto != nil {
			_ = l.sess.SetSRTP("", "", "")
		}
		l.remoteKey = ""
		return nil
	}
	if cur := l.local.Crypto; cur != nil && cur.Key == localKey && cur.Suite == remote.Suite && remote.Key == l.remoteKey {
		return nil // unchanged: keep the contexts (and their rollover counters)
	}
	if err := l.sess.SetSRTP(remote.Suite, localKey, remote.Key); err != nil {
		return fmt.Errorf("%w: %v", errSRTPPolicy, err)
	}
	l.remoteKey = remote.Key
	return nil
}

type answerDue int

const (
	answerNone answerDue = iota
	answerInitial
	answerReinvite
)

// ackAnswer applies the answer an ACK carries when the INVITE it
// acknowledges had no offer (ours went in the 200). Without a usable answer
// to an initial INVITE, the call has no media: the error makes the caller
// hang the leg up. A re-INVITE's ACK without an answer keeps the media as it
// was.
func (l *Leg) ackAnswer(ack *sip.Request) error {
	l.mu.Lock()
	due := l.answerDue
	l.answerDue = answerNone
	l.mu.Unlock()
	switch {
	case due == answerNone:
		return nil
	case len(ack.Body()) == 0 && due == answerReinvite:
		return nil
	case len(ack.Body()) == 0:
		return errors.New("no SDP answer in the ACK")
	}
	ans, err := sdp.Parse(ack.Body())
	if err == nil {
		l.mu.Lock()
		offeredSRTP := l.local.Crypto != nil
		l.mu.Unlock()
		if ans.Secure() != offeredSRTP {
			err = errSRTPPolicy // the answer must keep the profile we offered
		}
	}
	if err == nil {
		err = l.applyAnswer(ans)
	}
	if err == nil {
		l.setHeld(ans.OnHold())
	}
	return err
}

// applyAnswer adopts the far end's answer to our offer.
func (l *Leg) applyAnswer(ans *sdp.Description) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := negotiateAnswer(ans, l.local)
	if err != nil {
		return err
	}
	if err := l.sess.SetCodec(mediaCodec(n.Codec)); err != nil {
		return fmt.Errorf("%w: %v", sdp.ErrNoCommonCodec, err)
	}
	if n.Crypto != nil {
		if err := l.sess.SetSRTP(n.Crypto.Suite, l.local.Crypto.Key, n.Crypto.Key); err != nil {
			return fmt.Errorf("%w: %v", errSRTPPolicy, err)
		}
		l.remoteKey = n.Crypto.Key
	}
	_ = l.sess.SetDTMFPayloadType(n.DTMFPayloadType)
	l.sess.SetRemote(n.Remote)
	// From now on we describe the stream as negotiated: the chosen codec
	// and the answerer's telephone-event payload type.
	m := sdp.Media{Port: l.local.Port, Codecs: []sdp.Codec{n.Codec}, Crypto: l.local.Crypto}
	if n.DTMFPayloadType != 0 {
		te := sdp.TelephoneEvent
		te.PayloadType = n.DTMFPayloadType
		m.Codecs = append(m.Codecs, te)
	}
	l.local = m
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
	return l.local.Crypto != nil
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
	case legAnswering, legAnswered:
		l.mu.Unlock()
		return nil
	}
	var body []byte
	var err error
	if l.offer != nil {
		body, err = l.sdpb.Answer(l.offer, l.local)
	} else {
		body, err = l.sdpb.Offer(l.local)
	}
	if err != nil {
		l.mu.Unlock()
		l.Hangup(CauseFailure)
		return fmt.Errorf("b2bua: answer: %w", err)
	}
	// The call is answered when our 2xx goes out (billing starts there);
	// the ACK only confirms the dialog.
	l.state, l.answerAt = legAnswering, time.Now()
	l.mu.Unlock()
	// RespondSDP returns when the ACK came, a BYE ended the dialog, or the
	// transaction died (64*T1 at most). A BYE racing the ACK still means
	// the 200 was received: the leg counts as answered.
	responded := make(chan error, 1)
	l.svc.spawn(func() {
		err := l.uas.RespondSDP(body)
		close(l.ackWait)
		responded <- err
	})
	select {
	case err = <-responded:
	case <-l.done:
		// Ended while the 2xx waits for its ACK (a CANCEL crossing our
		// answer, a shutdown): the caller learns at once, so that the
		// other legs are not kept up until the transaction ends; the
		// ACK is still awaited in the background (see Hangup).
		return ErrLegEnded
	}
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
	l.setPhase(phaseConfirmed)
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
	if l.inbound && prev == legAnswering {
		// Our 2xx is out: the dialog is ended with a BYE once the ACK
		// confirms it (RFC 3261 §15), or when the ACK never comes.
		l.svc.spawn(func() {
			select {
			case <-l.ackWait:
			case <-time.After(64 * sip.T1):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = l.uas.Bye(ctx)
		})
		return
	}
	if l.inbound && prev != legAnswered {
		// Synchronous: the INVITE handler must not return (and its
		// transaction end) before the final response is out. The
		// transaction absorbs the ACK.
		code, reason := SIPStatus(cause)
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
	l.setPhase(phaseNone)
	switch {
	case l.key == "":
	case prev == legAnswering:
		// The ACK of our 2xx is still to come: the leg stays findable
		// until it does (or never will), so that the ACK reaches the
		// dialog and the BYE can follow it.
		l.svc.spawn(func() {
			<-l.ackWait
			l.svc.unregister(l)
		})
	default:
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
	var (
		body    []byte
		err     error
		holding bool
		offer   *sdp.Description
	)
	if len(req.Body()) > 0 {
		offer, err = sdp.Parse(req.Body())
		if err == nil && offer.Secure() && l.transport != "tls" {
			err = errSRTPPolicy
		}
		if err == nil {
			err = l.applyOffer(offer)
		}
		if err != nil {
			l.svc.log.Info("re-offer refused", "call_id", l.callID, "error", err)
			respond(tx, req, 488, "Not Acceptable Here")
			return
		}
		holding = offer.OnHold()
	}
	l.mu.Lock()
	if offer != nil {
		// The builder bumps the o= version whenever the body changes
		// (RFC 3264 §8): hold, resume, new codec or keys.
		body, err = l.sdpb.Answer(offer, l.local)
	} else {
		// An offerless re-INVITE: our 200 carries an offer of the
		// stream as it is; the far end's answer comes in the ACK, and
		// with it any change of hold (ackAnswer), which may well be
		// applied before this handler returns.
		body, err = l.sdpb.Offer(l.local)
		if err == nil {
			l.answerDue = answerReinvite
		}
	}
	l.mu.Unlock()
	if err != nil {
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&l.dua.ContactHDR))
	if err := tx.Respond(res); err != nil {
		return
	}
	if req.IsInvite() && strings.EqualFold(req.Transport(), "UDP") {
		l.retransmit2xx(tx, res, req.CSeq().SeqNo)
	}
	if offer != nil {
		l.setHeld(holding)
	}
}

// pendingAck is a 2xx to a re-INVITE waiting for its ACK.
type pendingAck struct {
	cseq uint32
	ack  chan struct{}
}

// retransmit2xx resends the 2xx of a re-INVITE until its ACK arrives, as
// RFC 3261 §13.3.1.4 asks of the UAS core: sipgo's server transaction does
// not (RFC 6026: the Accepted state only passes on what the TU resends),
// and its dialog helpers do it only for the INVITE that created the
// dialog. Intervals start at T1 and double up to T2; after 64*T1 without
// ACK the session is ended with a BYE, as the RFC says it should be.
// Reliable transports need none of this: the caller only calls it on UDP.
func (l *Leg) retransmit2xx(tx sip.ServerTransaction, res *sip.Response, cseq uint32) {
	p := &pendingAck{cseq: cseq, ack: make(chan struct{})}
	l.mu.Lock()
	if old := l.pendingAck; old != nil {
		// A new re-INVITE means the far end sent the previous ACK.
		close(old.ack)
	}
	l.pendingAck = p
	l.mu.Unlock()
	if u, ok := tx.(interface{ Unwrap() sip.ServerTransaction }); ok {
		tx = u.Unwrap() // retransmissions are not new responses for the metrics
	}
	l.svc.spawn(func() {
		defer func() {
			l.mu.Lock()
			if l.pendingAck == p {
				l.pendingAck = nil
			}
			l.mu.Unlock()
		}()
		interval := sip.T1
		timer := time.NewTimer(interval)
		defer timer.Stop()
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		for {
			select {
			case <-p.ack:
				return
			case <-l.done:
				return
			case <-giveUp.C:
				l.svc.log.Info("re-INVITE 2xx never acknowledged; hanging up", "call_id", l.callID, "cseq", cseq)
				l.Hangup(CauseFailure)
				return
			case <-timer.C:
				if err := tx.Respond(res); err != nil {
					return // the transaction is gone (Timer L)
				}
				interval = min(2*interval, sip.T2)
				timer.Reset(interval)
			}
		}
	})
}

// acked stops the retransmission of the re-INVITE 2xx an ACK acknowledges.
func (l *Leg) acked(req *sip.Request) {
	cseq := req.CSeq()
	if cseq == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pendingAck; p != nil && p.cseq == cseq.SeqNo {
		close(p.ack)
		l.pendingAck = nil
	}
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
