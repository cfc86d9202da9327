package b2bua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/media"
	"pbx/media/sdp"
	"pbx/sip/sipserver"
)

// reasonCompletedElsewhere is the Reason (RFC 3326) of the CANCEL a loser
// of a dial gets, so that a phone does not list the call as missed.
const reasonCompletedElsewhere = `SIP;cause=200;text="Call completed elsewhere"`

type attemptResult struct {
	won    bool
	status int
	// offerRefused: the target itself answered 488 Not Acceptable Here
	// (not our verdict on its answer).
	offerRefused bool
	// declined: the destination's Confirm refused the answered leg.
	declined bool
}

// attempt rings one target. It reports as soon as the target answered,
// refused, or ctx ended; CANCEL and late answers are handled afterwards in
// the background.
//
// A target offered SRTP (a device registered over TLS) that refuses the
// offer with 488 is tried once more with plain RTP/AVP: TLS protects its
// signalling, but plenty of phones and softphones on TLS have SRTP
// switched off or unsupported, and would otherwise never ring. The device
// refuses before alerting, so the user sees one call. Media to such a
// device is then unencrypted, as it would be with any PBX that makes SRTP
// optional; the log says so.
func (d *Dialing) attempt(ctx context.Context, idx int, dest callctl.Destination, t callctl.Target) attemptResult {
	r := d.attemptOnce(ctx, idx, dest, t)
	if r.offerRefused && t.SRTP && ctx.Err() == nil {
		d.c.svc.log.Info("dial: SRTP offer refused, retrying with RTP/AVP", "target", t.DeviceID, "uri", sipserver.LogURI(t.URI))
		t.SRTP = false
		r = d.attemptOnce(ctx, idx, dest, t)
	}
	return r
}

func (d *Dialing) attemptOnce(ctx context.Context, idx int, dest callctl.Destination, t callctl.Target) (res attemptResult) {
	s := d.c.svc
	l, err := s.newLeg(false, t.Transport)
	if err != nil {
		s.log.Warn("dial: media", "error", err)
		return attemptResult{status: 503}
	}
	l.remote = dest.Callee
	l.setPhase(phaseEarly)
	actx, abort := context.WithCancel(ctx)
	l.abort = abort
	defer func() {
		if !res.won {
			d.early.stop(l)
		}
	}()
	req, status, err := d.invite(l, dest, t)
	if err != nil {
		s.log.Info("dial: invite not built", "target", t.DeviceID, "uri", sipserver.LogURI(t.URI), "error", err)
		abort()
		l.end(CauseFailure)
		return attemptResult{status: status}
	}
	dcs, err := l.dua.WriteInvite(actx, req)
	if err != nil {
		s.log.Info("dial: invite not sent", "target", t.DeviceID, "error", err)
		abort()
		l.end(CauseFailure)
		return attemptResult{status: 503}
	}
	l.callID = req.CallID().Value()

	// The INVITE's wait is not bound to actx: when actx ends we send the
	// CANCEL ourselves (with a Reason when the dial was won elsewhere;
	// sipgo's own CANCEL has no room for one) and the wait ends with the
	// 487 it brings, a 200 that crossed it, or cancelWhenDone's force.
	provisional := make(chan struct{}, 1)
	waited := make(chan struct{})
	answered := make(chan error, 1)
	responded := make(chan struct{})
	var respondedOnce sync.Once
	opts := sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		respondedOnce.Do(func() { close(responded) })
		if r.IsProvisional() {
			select {
			case provisional <- struct{}{}:
			default:
			}
			d.onProvisional(l, r)
		}
		return nil
	}}
	if t.Auth != nil {
		opts.Username, opts.Password = t.Auth.Username, t.Auth.Password
	}
	wctx, force := context.WithCancelCause(context.Background())
	s.spawn(func() {
		err := dcs.WaitAnswer(wctx, opts)
		close(waited)
		answered <- err
	})
	s.spawn(func() { d.cancelWhenDone(actx, dcs, provisional, waited, force) })

	var silent <-chan time.Time
	if t.ResponseTimeout > 0 {
		tm := time.NewTimer(t.ResponseTimeout)
		defer tm.Stop()
		silent = tm.C
	}
wait:
	for {
		select {
		case err = <-answered:
			break wait
		case <-responded:
			responded, silent = nil, nil // it lives: ring time rules now
		case <-silent:
			// Not a word from the target: taken as 408, so that a carrier
			// route moves on to its next trunk now. No CANCEL can be sent
			// before a provisional response; a late answer is hung up.
			s.log.Info("dial: no response from the target", "target", t.DeviceID, "uri", sipserver.LogURI(t.URI), "timeout", t.ResponseTimeout)
			abort()
			l.end(CauseFailure)
			s.spawn(func() {
				<-answered
				if r := dcs.InviteResponse; r != nil && r.IsSuccess() {
					hangupLate(dcs)
				}
			})
			return attemptResult{status: 408}
		case <-actx.Done():
			// Report at once; CANCEL (or ACK+BYE of a late answer)
			// continues in the background.
			l.end(lostCause(actx))
			s.spawn(func() {
				<-answered
				if r := dcs.InviteResponse; r != nil && r.IsSuccess() {
					hangupLate(dcs)
				}
			})
			return attemptResult{status: 487}
		}
	}
	if err != nil {
		abort()
		status := 500
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			status = de.Res.StatusCode
		}
		if r := dcs.InviteResponse; r != nil && r.IsSuccess() {
			hangupLate(dcs)
		}
		l.end(causeOfStatus(status))
		return attemptResult{status: status, offerRefused: status == 488}
	}
	l.uac = dcs
	tag, _ := req.From().Params.Get("tag")
	l.key = legKey(l.callID, tag)
	if !s.register(l) {
		hangupLate(dcs)
		abort()
		l.end(CauseShutdown)
		return attemptResult{status: 503}
	}
	ans, perr := sdp.Parse(dcs.InviteResponse.Body())
	if perr == nil {
		perr = l.applyAnswer(ans)
	}
	if perr != nil {
		hangupLate(dcs)
		abort()
		l.end(CauseNotAcceptable)
		return attemptResult{status: 488}
	}
	if dest.Confirm != nil {
		// The leg is answered for the confirmation (a prompt to the
		// callee); it wins only if the callee accepts.
		d.ack(l, dcs)
		if !dest.Confirm(actx, l) {
			l.Hangup(CauseRejected)
			return attemptResult{status: 603, declined: true}
		}
		if actx.Err() != nil || !d.claim(idx, dest, l) {
			l.Hangup(lostCause(actx))
			return attemptResult{status: 487}
		}
		return attemptResult{won: true}
	}
	// The dialog is confirmed before the leg can be handed over: once the
	// call owns it, it may be hung up at once (its caller cancelled as
	// the callee answered), and only an answered leg is hung up with BYE
	// (a CANCEL after the 200 would leave the callee's dialog up).
	d.ack(l, dcs)
	if !d.claim(idx, dest, l) {
		l.Hangup(lostCause(actx))
		return attemptResult{status: 487}
	}
	return attemptResult{won: true}
}

// ack confirms the dialog of an answered outbound leg.
func (d *Dialing) ack(l *Leg, dcs *sipgo.DialogClientSession) {
	if err := dcs.Ack(context.Background()); err != nil {
		d.c.svc.log.Info("dial: ack", "error", err)
	}
	l.answered()
}

// onProvisional handles a 1xx of an outbound leg: ringing, or early media.
func (d *Dialing) onProvisional(l *Leg, r *sip.Response) {
	switch {
	case r.StatusCode == 183 && len(r.Body()) > 0 && d.spec.EarlyMedia:
		l.emit(callctl.Event{Kind: callctl.EventProgress})
		if d.relayEarly(l, r.Body()) {
			return
		}
		d.ring()
	case r.StatusCode == 180 || r.StatusCode == 183:
		l.emit(callctl.Event{Kind: callctl.EventRinging})
		d.ring()
	}
}

// lostCause is why an attempt whose context ended lost.
func lostCause(ctx context.Context) Cause {
	if errors.Is(context.Cause(ctx), errAnsweredElsewhere) {
		return CauseAnsweredElsewhere
	}
	return CauseCancelled
}

// cancelWhenDone sends CANCEL once ctx ends while the INVITE is pending,
// after a provisional response as RFC 3261 §9.1 asks. The INVITE's wait
// (WaitAnswer) is then given 64*T1 for its final response (the 487, or a
// 2xx that crossed the CANCEL), as sipgo's own CANCEL would; past that,
// force ends it without a CANCEL of sipgo's.
func (d *Dialing) cancelWhenDone(ctx context.Context, dcs *sipgo.DialogClientSession, provisional, waited <-chan struct{}, force context.CancelCauseFunc) {
	defer force(sipgo.WaitAnswerForceCancelErr)
	select {
	case <-waited:
		return
	case <-ctx.Done():
	}
	select {
	case <-waited: // answered or refused before ctx ended
		return
	default:
	}
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	select {
	case <-provisional:
	case <-waited:
		return
	case <-giveUp.C:
		return
	case <-d.c.svc.ctx.Done():
		return // shutting down: a silent target is not waited for
	}
	reason := ""
	if errors.Is(context.Cause(ctx), errAnsweredElsewhere) {
		reason = reasonCompletedElsewhere
	}
	if err := d.c.svc.sendCancel(dcs.InviteRequest, reason); err != nil {
		d.c.svc.log.Info("dial: cancel", "call_id", dcs.InviteRequest.CallID().Value(), "error", err)
	}
	select {
	case <-waited:
	case <-giveUp.C:
	}
}

// sendCancel cancels a pending INVITE (RFC 3261 §9.1), with a Reason
// header when reason is set.
func (s *Service) sendCancel(inv *sip.Request, reason string) error {
	req := cancelRequest(inv, reason)
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	// The option keeps the request as built: its Via is the INVITE's.
	res, err := sipserver.Do(ctx, s.cfg.SIP.Client, req, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("CANCEL answered %d", res.StatusCode)
	}
	return nil
}

// cancelRequest is the CANCEL of inv: the same Request-URI, top Via,
// From, To, Call-ID, CSeq number and Route (RFC 3261 §9.1).
func cancelRequest(inv *sip.Request, reason string) *sip.Request {
	req := sip.NewRequest(sip.CANCEL, inv.Recipient)
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	sip.CopyHeaders("Route", inv, req)
	if reason != "" {
		req.AppendHeader(sip.NewHeader("Reason", reason))
	}
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.SetSource(inv.Source())
	req.Laddr = inv.Laddr
	return req
}

// invite builds the INVITE to target t of destination dest, with our offer
// on leg l; on error, status is the SIP status that describes it.
func (d *Dialing) invite(l *Leg, dest callctl.Destination, t callctl.Target) (*sip.Request, int, error) {
	s := d.c.svc
	var uri sip.Uri
	if err := sip.ParseUri(t.URI, &uri); err != nil {
		return nil, 400, fmt.Errorf("target URI %q: %w", t.URI, err)
	}
	var crypto *sdp.Crypto
	if t.SRTP {
		key, err := media.GenerateSDESKey()
		if err != nil {
			return nil, 500, err
		}
		crypto = &sdp.Crypto{Tag: 1, Suite: sdp.Suites[0], Key: key}
	}
	l.mu.Lock()
	l.local = offerMedia(l.local.Port, crypto)
	offer, err := l.sdpb.Offer(l.local)
	l.mu.Unlock()
	if err != nil {
		return nil, 500, fmt.Errorf("offer: %w", err)
	}
	caller := d.c.caller()
	if dest.CallerID != nil {
		caller = *dest.CallerID
	}

	req := sip.NewRequest(sip.INVITE, uri)
	from := &sip.FromHeader{DisplayName: caller.Name, Address: partyURI(caller), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	calleeURI := sip.Uri{Scheme: "sip", User: dest.Callee.Number, Host: dest.Callee.Domain}
	if calleeURI.User == "" {
		calleeURI.User = uri.User
	}
	if calleeURI.Host == "" {
		calleeURI.Host = caller.Domain
	}
	if calleeURI.Host == "" {
		calleeURI.Host = uri.Host
	}
	req.AppendHeader(&sip.ToHeader{DisplayName: dest.Callee.Name, Address: calleeURI, Params: sip.NewParams()})
	if caller.Number != "" {
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", (&sip.FromHeader{DisplayName: caller.Name, Address: partyURI(caller)}).Value()))
	}
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, INFO"))
	req.AppendHeader(sip.NewHeader("Supported", "replaces"))
	for _, r := range t.RouteSet {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	ctype, body := "application/sdp", offer
	if len(t.Parts) > 0 {
		ctype, body = multipartBody(offer, t.Parts)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	for _, h := range t.Headers {
		req.RemoveHeader(h.Name)
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	req.SetTransport(strings.ToUpper(l.transport))
	if dst := s.destination(t, l.transport); dst != "" {
		req.SetDestination(dst)
	}
	if strings.EqualFold(l.transport, "udp") {
		req.Laddr = s.cfg.SIP.UDPLocal()
	}
	return req, 0, nil
}

// multipartBody puts our SDP first and parts after it in a
// multipart/mixed body (RFC 5621), as a location conveyed by value
// (RFC 6442) is sent.
func multipartBody(offer []byte, parts []callctl.BodyPart) (string, []byte) {
	boundary := "pbx-" + sip.GenerateTagN(16)
	var b bytes.Buffer
	write := func(ctype string, hs []callctl.Header, body []byte) {
		b.WriteString("--" + boundary + "\r\n")
		b.WriteString("Content-Type: " + ctype + "\r\n")
		for _, h := range hs {
			b.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
		b.WriteString("\r\n")
		b.Write(body)
		b.WriteString("\r\n")
	}
	write("application/sdp", nil, offer)
	for _, p := range parts {
		write(p.ContentType, p.Headers, p.Body)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return "multipart/mixed;boundary=" + boundary, b.Bytes()
}

// hangupLate ends a dialog answered after we stopped wanting it.
func hangupLate(dcs *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = dcs.Ack(ctx)
	_ = dcs.Bye(ctx)
}

// destination is where a request to target t leaves for: its Via, the
// address a device registered from, so that it reaches a device behind NAT
// through the mapping (UDP) or the connection (TCP, TLS) its REGISTER
// opened. When a stream device's connection is gone (a restart of ours, or
// the device's connection dropped), its source port was the ephemeral port
// of that connection and nothing listens there: the request then goes where
// the Contact says the device listens (the empty destination leaves the
// choice to the Request-URI), as a proxy without that flow would send it.
func (s *Service) destination(t callctl.Target, transport string) string {
	if t.Via == "" || t.DeviceID == "" || strings.EqualFold(transport, "udp") {
		return t.Via
	}
	if s.cfg.SIP.HasFlow(transport, t.Via) {
		return t.Via
	}
	s.log.Info("dial: the device's connection is closed, sending to its Contact", "target", t.DeviceID, "source", t.Via, "uri", sipserver.LogURI(t.URI))
	return ""
}
