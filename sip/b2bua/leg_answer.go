package b2bua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

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
		l.mu.Lock()
		close(l.ackWait)
		after := l.afterAck
		l.afterAck = nil
		l.mu.Unlock()
		responded <- err
		for _, f := range after {
			f()
		}
	})
	select {
	case err = <-responded:
	case <-l.done:
		return l.endedAnswering()
	case <-ctx.Done():
		select {
		case <-l.done: // the call's context ends with its inbound leg
			return l.endedAnswering()
		default:
		}
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

// endedAnswering is what Answer returns when the leg ended while it
// waited: nil if the ACK came first (the far end took the call and hung up
// before this goroutine ran: the leg was answered, its events tell the
// rest), else ErrLegEnded (a CANCEL crossing our answer, a shutdown). The
// caller learns at once, so that the other legs are not kept up until the
// transaction ends; an ACK still due is awaited in the background (see
// Hangup).
func (l *Leg) endedAnswering() error {
	l.mu.Lock()
	acked := l.ackedLive
	l.mu.Unlock()
	if acked {
		return nil
	}
	return ErrLegEnded
}

// ackedAnswer notes the ACK of our 2xx to the INVITE while the leg is up.
func (l *Leg) ackedAnswer(req *sip.Request) {
	cseq := req.CSeq()
	if !l.inbound || cseq == nil || l.uas == nil || cseq.SeqNo != l.uas.InviteRequest.CSeq().SeqNo {
		return
	}
	l.mu.Lock()
	if l.state == legAnswering || l.state == legAnswered {
		l.ackedLive = true
	}
	l.mu.Unlock()
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
		// confirms it (RFC 3261 §15), or when the ACK never comes (the
		// answer's wait ends 64*T1 after the 2xx).
		l.whenAcked(func() {
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
		l.whenAcked(func() { l.svc.unregister(l) })
	default:
		l.svc.unregister(l)
	}
	return prev, true
}

// whenAcked runs f once the ACK of our 2xx has come, or never will: on the
// goroutine that waits for it, so that a 2xx awaiting its ACK holds that
// one goroutine and nothing more; at once (on a goroutine of its own) when
// that wait is over.
func (l *Leg) whenAcked(f func()) {
	l.mu.Lock()
	select {
	case <-l.ackWait:
		l.mu.Unlock()
		l.svc.spawn(f)
		return
	default:
	}
	l.afterAck = append(l.afterAck, f)
	l.mu.Unlock()
}
