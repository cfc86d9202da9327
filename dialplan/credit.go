package dialplan

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// Credit admits calls to the public network and keeps them within their
// tenant's and licence's monthly credit (package rating; cmd/pbx wires
// it). Internal and emergency calls never ask it.
type Credit interface {
	// Admit says whether a call may leave for number (E.164): a
	// CreditSession to watch it by, or the reason it is refused.
	Admit(ctx context.Context, c CreditCall) (CreditSession, CreditRefusal, error)
	// Metered is the session of the call admitted last under callID,
	// nil when none is: where a call is bridged, this says whether it
	// must be watched.
	Metered(callID string) CreditSession
}

// CreditCall is a call about to leave for the public network.
type CreditCall struct {
	CallID, TenantID string
	UserID           string // the calling licence; "" when the tenant's number forwards a call
	Number           string // E.164
}

// CreditRefusal says why a call may not leave ("" it may).
type CreditRefusal string

// Refusals, and the announcement each plays.
const (
	RefusedCredit CreditRefusal = "credit_limit" // the month's credit is used up
	RefusedFraud  CreditRefusal = "fraud_block"  // the toll-fraud guard blocks the number
	RefusedNoRate CreditRefusal = "no_rate"      // nothing prices the destination
)

// CreditSession watches an admitted call.
type CreditSession interface {
	// Watch runs while the call is connected: warn is called shortly
	// before the credit runs out; true means the call must be cut now,
	// false that ctx ended first.
	Watch(ctx context.Context, warn func()) bool
	// Forget ends the metering of a call that was not connected.
	Forget()
}

// admitExternal asks Credit whether the call may leave for number on
// behalf of tenantID (and of the calling licence, for a device's call); a
// refused call hears why (early media) and is rejected. A nil session
// with ok true means nothing meters the call.
func (p *Plan) admitExternal(ctx context.Context, call callctl.Call, tenantID, number string, log *slog.Logger) (CreditSession, bool) {
	if p.Credit == nil {
		return nil, true
	}
	o := call.Origin()
	userID := ""
	if o.Kind == callctl.OriginDevice {
		userID = o.UserID
	}
	sess, refused, err := p.Credit.Admit(ctx, CreditCall{CallID: call.ID(), TenantID: tenantID, UserID: userID, Number: number})
	if err != nil {
		log.Error("dialplan: credit check", "error", err)
		call.Inbound().Hangup(callctl.CauseFailure)
		return nil, false
	}
	if refused == "" {
		return sess, true
	}
	log.Info("dialplan: call to the public network refused", "reason", string(refused), "number", number, "tenant_id", tenantID, "user_id", userID)
	prompt := map[CreditRefusal]string{RefusedCredit: "credit-limit", RefusedFraud: "calls-blocked", RefusedNoRate: "not-in-service"}[refused]
	p.announce(ctx, call, tenantID, userID, prompt)
	call.Inbound().Hangup(callctl.CauseForbidden)
	return nil, false
}

// announce plays a system prompt to the caller as early media, in the
// caller's language (else the tenant's).
func (p *Plan) announce(ctx context.Context, call callctl.Call, tenantID, userID, id string) {
	if p.Prompts == nil {
		return
	}
	lang := ""
	if userID != "" {
		if u, err := p.Store.User(ctx, tenantID, userID); err == nil {
			lang = u.Language
		}
	}
	if lang == "" {
		if t, err := p.Store.Tenant(ctx, tenantID); err == nil {
			lang = t.Language
		}
	}
	src := p.Prompts.Prompt(lang, id)
	if src == nil {
		return
	}
	in := call.Inbound()
	if err := in.Progress(ctx); err != nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = in.Play(pctx, src)
}

// warningTone is what a caller hears a minute before the credit runs
// out: three short beeps.
func warningTone() []media.Source {
	gap := 150 * time.Millisecond
	return []media.Source{media.NewTone(media.ToneBeep), media.Silence(gap), media.NewTone(media.ToneBeep), media.Silence(gap), media.NewTone(media.ToneBeep)}
}

// connectMetered answers the caller, bridges it to leg and waits for the
// bridge to end (waitBridge). A nil sess is connect.
func (p *Plan) connectMetered(ctx context.Context, call callctl.Call, leg callctl.Leg, sess CreditSession, log *slog.Logger) {
	if sess == nil {
		p.connect(ctx, call, leg)
		return
	}
	in := call.Inbound()
	if err := in.Answer(ctx); err != nil {
		leg.Hangup(callctl.CauseNormal)
		return
	}
	br, err := call.Bridge(in, leg, callctl.BridgeOptions{})
	if err != nil {
		in.Hangup(callctl.CauseNormal)
		leg.Hangup(callctl.CauseNormal)
		return
	}
	p.waitBridge(ctx, call, in, leg, br, log)
}

// waitBridge waits for the bridge of in and leg to end. When the call
// is metered (a call to the public network), the caller hears a warning
// tone shortly before its credit runs out and both legs are hung up when
// it has.
func (p *Plan) waitBridge(ctx context.Context, call callctl.Call, in, leg callctl.Leg, br callctl.Bridge, log *slog.Logger) {
	var sess CreditSession
	if p.Credit != nil {
		sess = p.Credit.Metered(call.ID())
	}
	if sess == nil {
		_, _ = br.Wait(ctx)
		return
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	cut := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		warn := func() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = in.Play(wctx, warningTone()...)
			}()
		}
		if sess.Watch(wctx, warn) {
			close(cut)
		}
	}()
	waited := make(chan struct{})
	go func() {
		_, _ = br.Wait(ctx)
		close(waited)
	}()
	select {
	case <-waited:
	case <-cut:
		log.Info("dialplan: call cut: the credit limit is reached")
		in.Hangup(callctl.CauseForbidden)
		leg.Hangup(callctl.CauseNormal)
		<-waited
	}
	stop()
	wg.Wait()
}
