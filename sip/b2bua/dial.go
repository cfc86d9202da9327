package b2bua

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/media"
	"pbx/media/sdp"
)

// Strategy is how Dial rings several targets.
type Strategy int

const (
	// Parallel rings every target at once (forking); the first to answer
	// wins and the others are cancelled.
	Parallel Strategy = iota
	// Linear rings the targets one after the other.
	Linear
)

// Target is one contact to ring: a registered binding of a device.
type Target struct {
	Contact   string // Request-URI: the Contact the device registered
	Source    string // host:port the device registered from; requests go there (NAT)
	Transport string // udp, tcp or tls: the flow the device registered on
	SRTP      bool   // offer RTP/SAVP with SDES keys (devices registered over TLS)
	Label     string // for logs (device id)
}

// DialOptions tune Dial.
type DialOptions struct {
	Strategy Strategy
	// Timeout is the ring time: for all targets together with Parallel,
	// for each target with Linear. Default 60 s.
	Timeout time.Duration
	// CallerID is presented in From and P-Asserted-Identity; default the
	// call's caller.
	CallerID *Party
	// Callee is put in To.
	Callee Party
	// Caller is the leg waiting for this dial: ringing is signalled to it
	// and dialling stops if it hangs up. Default the call's inbound leg.
	Caller *Leg
}

// DialError is why Dial reached nobody.
type DialError struct {
	Cause  Cause
	Status int // the deciding SIP final response, 0 if none
}

func (e *DialError) Error() string {
	return fmt.Sprintf("b2bua: dial failed: %s (SIP %d)", e.Cause, e.Status)
}

// CauseOf extracts the cause of a Dial error (CauseFailure for others).
func CauseOf(err error) Cause {
	var de *DialError
	if errors.As(err, &de) {
		return de.Cause
	}
	if errors.Is(err, ErrLegEnded) {
		return CauseCancelled
	}
	return CauseFailure
}

// Dial rings targets and returns the answered leg, which belongs to the
// call. On failure the error is a *DialError.
func (c *Call) Dial(ctx context.Context, targets []Target, opts DialOptions) (*Leg, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.CallerID == nil {
		p := c.Caller()
		opts.CallerID = &p
	}
	if opts.Caller == nil {
		opts.Caller = c.Inbound
	}
	if len(targets) == 0 {
		return nil, &DialError{Cause: CauseUnavailable, Status: 480}
	}
	if opts.Strategy == Linear {
		var errs []error
		for _, t := range targets {
			l, err := c.dialGroup(ctx, []Target{t}, opts)
			if err == nil {
				return l, nil
			}
			if CauseOf(err) == CauseCancelled {
				return nil, err
			}
			errs = append(errs, err)
		}
		return nil, worst(errs)
	}
	return c.dialGroup(ctx, targets, opts)
}

// worst picks the error that describes a failed set of attempts best: busy
// beats no answer beats everything else.
func worst(errs []error) error {
	rank := func(c Cause) int {
		switch c {
		case CauseCancelled:
			return 5
		case CauseBusy:
			return 4
		case CauseNoAnswer:
			return 3
		case CauseRejected:
			return 2
		case CauseNotAcceptable:
			return 1
		}
		return 0
	}
	var best error
	for _, e := range errs {
		if best == nil || rank(CauseOf(e)) > rank(CauseOf(best)) {
			best = e
		}
	}
	return best
}

type attemptResult struct {
	leg    *Leg
	status int
	// offerRefused: the target itself answered 488 Not Acceptable Here
	// (not our verdict on its answer).
	offerRefused bool
}

func (c *Call) dialGroup(parent context.Context, targets []Target, opts DialOptions) (*Leg, error) {
	ctx, cancel := context.WithTimeout(parent, opts.Timeout)
	defer cancel()
	callerGone := make(chan struct{})
	if w := opts.Caller; w != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-w.Done():
				close(callerGone)
				cancel()
			case <-stop:
			}
		}()
	}
	results := make(chan attemptResult, len(targets))
	var mu sync.Mutex
	won := false
	claim := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if won || ctx.Err() != nil {
			return false
		}
		won = true
		return true
	}
	var ringOnce sync.Once
	ring := func() {
		ringOnce.Do(func() {
			if opts.Caller != nil {
				opts.Caller.Ring()
			}
		})
	}
	for _, t := range targets {
		c.svc.spawn(func() { results <- c.attempt(ctx, t, opts, claim, ring) })
	}
	var statuses []int
	for range targets {
		r := <-results
		if r.leg != nil {
			cancel() // the others get CANCEL
			c.adopt(r.leg)
			return r.leg, nil
		}
		statuses = append(statuses, r.status)
	}
	select {
	case <-callerGone:
		return nil, &DialError{Cause: CauseCancelled, Status: 487}
	default:
	}
	if parent.Err() != nil {
		return nil, &DialError{Cause: CauseCancelled, Status: 487}
	}
	de := &DialError{Cause: CauseUnavailable, Status: 480}
	for _, st := range statuses {
		if st == 486 || st == 600 {
			return nil, &DialError{Cause: CauseBusy, Status: st}
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, &DialError{Cause: CauseNoAnswer, Status: 480}
	}
	// Every target failed on our side (no RTP port left, say): the callee
	// is not to blame, so the caller learns the server is out of capacity.
	if len(statuses) > 0 && !slices.ContainsFunc(statuses, func(st int) bool { return st != 503 }) {
		return nil, &DialError{Cause: CauseCongestion, Status: 503}
	}
	if len(statuses) > 0 {
		st := statuses[len(statuses)-1]
		if cause := causeOfStatus(st); cause != CauseFailure && cause != CauseCancelled {
			de = &DialError{Cause: cause, Status: st}
		}
	}
	return nil, de
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
func (c *Call) attempt(ctx context.Context, t Target, opts DialOptions, claim func() bool, ring func()) attemptResult {
	r := c.attemptOnce(ctx, t, opts, claim, ring)
	if r.offerRefused && t.SRTP && ctx.Err() == nil {
		c.svc.log.Info("dial: SRTP offer refused, retrying with RTP/AVP", "target", t.Label, "contact", t.Contact)
		t.SRTP = false
		r = c.attemptOnce(ctx, t, opts, claim, ring)
	}
	return r
}

func (c *Call) attemptOnce(ctx context.Context, t Target, opts DialOptions, claim func() bool, ring func()) attemptResult {
	s := c.svc
	l, err := s.newLeg(false, t.Transport)
	if err != nil {
		s.log.Warn("dial: media", "error", err)
		return attemptResult{status: 503}
	}
	l.remote = opts.Callee
	l.setPhase(phaseEarly)
	actx, abort := context.WithCancel(ctx)
	l.abort = abort
	var uri sip.Uri
	if err := sip.ParseUri(t.Contact, &uri); err != nil {
		abort()
		l.end(CauseFailure)
		return attemptResult{status: 400}
	}
	var crypto *sdp.Crypto
	if t.SRTP {
		key, err := media.GenerateSDESKey()
		if err != nil {
			abort()
			l.end(CauseFailure)
			return attemptResult{status: 500}
		}
		crypto = &sdp.Crypto{Tag: 1, Suite: sdp.Suites[0], Key: key}
	}
	l.mu.Lock()
	l.local = offerMedia(l.local.Port, crypto)
	body, err := l.sdpb.Offer(l.local)
	l.mu.Unlock()
	if err != nil {
		s.log.Warn("dial: offer", "error", err)
		abort()
		l.end(CauseFailure)
		return attemptResult{status: 500}
	}

	req := sip.NewRequest(sip.INVITE, uri)
	caller := *opts.CallerID
	from := &sip.FromHeader{DisplayName: caller.Name, Address: partyURI(caller), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	calleeURI := sip.Uri{Scheme: "sip", User: opts.Callee.Number, Host: opts.Callee.Domain}
	if calleeURI.User == "" {
		calleeURI.User = uri.User
	}
	if calleeURI.Host == "" {
		calleeURI.Host = caller.Domain
	}
	req.AppendHeader(&sip.ToHeader{DisplayName: opts.Callee.Name, Address: calleeURI, Params: sip.NewParams()})
	if caller.Number != "" {
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", (&sip.FromHeader{DisplayName: caller.Name, Address: partyURI(caller)}).Value()))
	}
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, INFO"))
	req.AppendHeader(sip.NewHeader("Supported", "replaces"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	req.SetTransport(strings.ToUpper(l.transport))
	if dest := s.destination(t, l.transport); dest != "" {
		req.SetDestination(dest)
	}
	if strings.EqualFold(l.transport, "udp") {
		req.Laddr = s.cfg.SIP.UDPLocal()
	}

	dcs, err := l.dua.WriteInvite(actx, req)
	if err != nil {
		s.log.Info("dial: invite not sent", "target", t.Label, "error", err)
		abort()
		l.end(CauseFailure)
		return attemptResult{status: 503}
	}
	l.callID = req.CallID().Value()
	answered := make(chan error, 1)
	go func() {
		answered <- dcs.WaitAnswer(actx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == 180 || r.StatusCode == 183 {
				ring()
			}
			return nil
		}})
	}()
	select {
	case err = <-answered:
	case <-actx.Done():
		// Report at once; CANCEL (or ACK+BYE of a late answer) continues
		// in the background.
		l.end(CauseCancelled)
		s.spawn(func() {
			<-answered
			if r := dcs.InviteResponse; r != nil && r.IsSuccess() {
				hangupLate(dcs)
			}
		})
		return attemptResult{status: 487}
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
	if perr != nil || !claim() {
		hangupLate(dcs)
		abort()
		if perr != nil {
			l.end(CauseNotAcceptable)
			return attemptResult{status: 488}
		}
		l.end(CauseCancelled)
		return attemptResult{status: 487}
	}
	if err := dcs.Ack(context.Background()); err != nil {
		s.log.Info("dial: ack", "error", err)
	}
	l.answered()
	return attemptResult{leg: l}
}

// hangupLate ends a dialog answered after we stopped wanting it.
func hangupLate(dcs *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = dcs.Ack(ctx)
	_ = dcs.Bye(ctx)
}

// destination is where a request to target t leaves for: the address the
// device registered from, so that it reaches a device behind NAT through the
// mapping (UDP) or the connection (TCP, TLS) its REGISTER opened. When a
// stream device's connection is gone (a restart of ours, or the device's
// connection dropped), its source port was the ephemeral port of that
// connection and nothing listens there: the request then goes where the
// Contact says the device listens (the empty destination leaves the choice to
// the Request-URI), as a proxy without that flow would send it.
func (s *Service) destination(t Target, transport string) string {
	if t.Source == "" || strings.EqualFold(transport, "udp") {
		return t.Source
	}
	if s.cfg.SIP.HasFlow(transport, t.Source) {
		return t.Source
	}
	s.log.Info("dial: the device's connection is closed, sending to its Contact", "target", t.Label, "source", t.Source, "contact", t.Contact)
	return ""
}
