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
	afterAck   []func()      // run once ackWait is closed (whenAcked)
	ackedLive  bool          // inbound: the 2xx's ACK came while the leg was up
	early      []byte        // the SDP of our 183, which the 200 repeats
	onDTMF     func(rune)

	// digits is the type-ahead buffer Prompt reads (see leg_dtmf.go);
	// events the leg's event stream (leg_events.go).
	digits     chan rune
	digitMu    sync.Mutex
	events     chan callctl.Event // made by the first Events call
	evPending  []callctl.Event    // emitted before that
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
		digits: make(chan rune, digitBuffer)}
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
