package dialplan

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/store"
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

// Prompts of the credit refusals.
const (
	PromptCreditLimit  = "credit-limit"
	PromptCallsBlocked = "calls-blocked"
)

// admitCredit asks Credit whether the reacher's call may leave for
// number (E.164, or a short number's routing key) on behalf of payer
// (the zero User for a carrier's call the tenant's number sends back
// out). A refused call hears why and gets CauseForbidden. A nil session
// with no cause means nothing meters the call.
func (r reacher) admitCredit(ctx context.Context, payer store.User, number string, log *slog.Logger) (CreditSession, callctl.Cause) {
	p := r.plan
	if p.Credit == nil {
		return nil, ""
	}
	sess, refused, err := p.Credit.Admit(ctx, CreditCall{CallID: r.call.ID(), TenantID: r.tenantID, UserID: payer.ID, Number: number})
	if err != nil {
		log.Error("outbound: credit check", "error", err)
		return nil, callctl.CauseFailure
	}
	if refused == "" {
		return sess, ""
	}
	log.Info("outbound: call refused", "reason", string(refused), "user_id", payer.ID)
	prompt := map[CreditRefusal]string{RefusedCredit: PromptCreditLimit, RefusedFraud: PromptCallsBlocked, RefusedNoRate: PromptBarred}[refused]
	r.refuse(ctx, r.language(ctx, payer), prompt)
	return nil, callctl.CauseForbidden
}

// warningTone is what a caller hears a minute before the credit runs
// out: three short beeps.
func warningTone() []media.Source {
	gap := 150 * time.Millisecond
	return []media.Source{media.NewTone(media.ToneBeep), media.Silence(gap), media.NewTone(media.ToneBeep), media.Silence(gap), media.NewTone(media.ToneBeep)}
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
