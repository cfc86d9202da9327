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
	legEarly     // inbound: 183 with our SDP sent
	legAnswering // inbound: 2xx sent, its ACK not yet received
	legAnswered
	legEnded
)

// Leg is one side of a call: one SIP dialog and one media session.
type Leg struct {
	id        string
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
	remote    Party // who is at the far end; set before any goroutine sees the leg
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
	early      []byte        // the SDP of our 183, which the 200 repeats
	onDTMF     func(rune)

	// digits is the type-ahead buffer Prompt reads (see leg_dtmf.go);
	// events the leg's event stream (leg_events.go).
	digits     chan rune
	digitMu    sync.Mutex
	events     chan callctl.Event
	evMu       sync.Mutex
	evClosed   bool
	evDropped  bool
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
	l := &Leg{id: fmt.Sprintf("leg-%d", s.legSeq.Add(1)), svc: s, inbound: inbound, transport: strings.ToLower(transport), sess: sess,
		done: make(chan struct{}), ackWait: make(chan struct{}),
		digits: make(chan rune, digitBuffer), events: make(chan callctl.Event, eventBuffer)}
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
// sending anything yet). remote is the caller: it is set before the leg's
// dialog watch starts, which reads it when the caller cancels.
func (s *Service) newInboundLeg(dlg *sipgo.DialogServerSession, req *sip.Request, tx sip.ServerTransaction, offer *sdp.Description, remote Party) (*Leg, error) {
	l, err := s.newLeg(true, req.Transport())
	if err != nil {
		return nil, err
	}
	l.remote = remote
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

// Answer answers an inbound leg with our SDP and waits for the ACK. After
// Progress, the 200 repeats the 183's SDP (same o= version).
//
// ctx: if it has ended before the 200 is sent, Answer returns ctx.Err()
// and the leg stays unanswered (the program may still hang it up with a
// cause of its choosing). If it ends while the 200 awaits its ACK, the
// answer cannot be taken back: the leg counts as answered, is hung up (a
// BYE follows the ACK, or its absence) and Answer returns ctx.Err().
func (l *Leg) Answer(ctx context.Context) error {
	if !l.inbound {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
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
	body, err := l.localSDP()
	if err != nil {
		l.mu.Unlock()
		l.Hangup(CauseFailure)
		return fmt.Errorf("b2bua: answer: %w", err)
	}
	// The call is answered when our 2xx goes out (billing starts there);
	// the ACK only confirms the dialog.
	l.state, l.answerAt = legAnswering, time.Now()
	l.mu.Unlock()
	// Emitted before the 200 goes out, so that it precedes whatever the
	// caller does once answered (a re-INVITE may beat the ACK's handling).
	l.emit(callctl.Event{Kind: callctl.EventAnswer})
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
	case <-ctx.Done():
		l.Hangup(CauseFailure)
		return ctx.Err()
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

// localSDP is the body of our answer (or, for a delayed offer, of our
// offer) to the INVITE; once sent in a 183 the same bytes go in the 200.
// l.mu is held.
func (l *Leg) localSDP() ([]byte, error) {
	if l.early != nil {
		return l.early, nil
	}
	if l.offer != nil {
		return l.sdpb.Answer(l.offer, l.local)
	}
	return l.sdpb.Offer(l.local)
}

// Progress sends 183 Session Progress with our SDP on an unanswered
// inbound leg: the caller hears what is played to the leg, or what the leg
// is bridged with, before any answer. An INVITE without an offer cannot
// be given early media (our offer would have to go in a reliable
// response): Progress then fails and the leg is unchanged.
func (l *Leg) Progress(ctx context.Context) error {
	if !l.inbound {
		return errors.New("b2bua: progress on an outbound leg")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	switch {
	case l.state == legEnded:
		l.mu.Unlock()
		return ErrLegEnded
	case l.state == legEarly:
		l.mu.Unlock()
		return nil
	case l.state != legNew && l.state != legRinging:
		l.mu.Unlock()
		return errors.New("b2bua: progress on an answered leg")
	case l.offer == nil:
		l.mu.Unlock()
		return errors.New("b2bua: progress needs the INVITE's offer")
	}
	body, err := l.localSDP()
	if err != nil {
		l.mu.Unlock()
		return fmt.Errorf("b2bua: progress: %w", err)
	}
	l.early = body
	l.state = legEarly
	l.mu.Unlock()
	res := sip.NewResponseFromRequest(l.uas.InviteRequest, 183, "Session Progress", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := l.uas.WriteResponse(res); err != nil {
		return fmt.Errorf("b2bua: progress: %w", err)
	}
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
	if !l.inbound {
		l.emit(callctl.Event{Kind: callctl.EventAnswer}) // inbound: by Answer
	}
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
	l.emit(callctl.Event{Kind: callctl.EventHangup, Cause: cause})
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
