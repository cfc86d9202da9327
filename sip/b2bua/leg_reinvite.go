package b2bua

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/media/sdp"
	"pbx/sip/sipserver"
)

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
		if body, err = offerBody(req); err == nil {
			offer, err = sdp.Parse(body)
		}
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
	// Hold or resume takes effect before our answer goes out, so that it
	// precedes in the leg's events what the far end does next.
	if offer != nil {
		l.setHeld(holding)
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&l.dua.ContactHDR))
	if err := tx.Respond(res); err != nil {
		return
	}
	if req.IsInvite() && strings.EqualFold(req.Transport(), "UDP") {
		l.retransmit2xx(tx, res, req.CSeq().SeqNo)
	}
}

// pendingAck is a 2xx to a re-INVITE waiting for its ACK: a timer, no
// goroutine.
type pendingAck struct {
	cseq     uint32
	timer    *time.Timer
	interval time.Duration
	giveUp   time.Time
}

// retransmit2xx resends the 2xx of a re-INVITE until its ACK arrives, as
// RFC 3261 §13.3.1.4 asks of the UAS core: sipgo's server transaction does
// not (RFC 6026: the Accepted state only passes on what the TU resends),
// and its dialog helpers do it only for the INVITE that created the
// dialog. Intervals start at T1 and double up to T2; after 64*T1 without
// ACK the session is ended with a BYE, as the RFC says it should be.
// Reliable transports need none of this: the caller only calls it on UDP.
func (l *Leg) retransmit2xx(tx sip.ServerTransaction, res *sip.Response, cseq uint32) {
	p := &pendingAck{cseq: cseq, interval: sip.T1, giveUp: time.Now().Add(64 * sip.T1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.pendingAck; old != nil {
		// A new re-INVITE means the far end sent the previous ACK.
		old.timer.Stop()
	}
	l.pendingAck = p
	p.timer = time.AfterFunc(p.interval, func() { l.resend2xx(p, tx, res) })
}

// resend2xx is a tick of retransmit2xx.
func (l *Leg) resend2xx(p *pendingAck, tx sip.ServerTransaction, res *sip.Response) {
	l.mu.Lock()
	switch {
	case l.pendingAck != p:
		l.mu.Unlock()
		return // acknowledged, or another re-INVITE came
	case l.state == legEnded:
		l.pendingAck = nil
		l.mu.Unlock()
		return
	case !time.Now().Before(p.giveUp):
		l.pendingAck = nil
		l.mu.Unlock()
		l.svc.log.Info("re-INVITE 2xx never acknowledged; hanging up", "call_id", l.callID, "cseq", p.cseq)
		l.Hangup(CauseFailure)
		return
	}
	p.interval = min(2*p.interval, sip.T2)
	p.timer.Reset(min(p.interval, max(time.Until(p.giveUp), 0)))
	l.mu.Unlock()
	// Not counted as a new response; the transaction may have ended.
	if err := sipserver.Retransmit(tx, res); err != nil {
		l.mu.Lock()
		if l.pendingAck == p {
			p.timer.Stop()
			l.pendingAck = nil
		}
		l.mu.Unlock()
	}
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
		p.timer.Stop()
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
	if held {
		l.emit(callctl.Event{Kind: callctl.EventHold})
	} else {
		l.emit(callctl.Event{Kind: callctl.EventUnhold})
	}
	if up {
		l.sess.SetExpectMedia(!held)
	}
	if br != nil {
		br.refreshMusic()
	}
}
