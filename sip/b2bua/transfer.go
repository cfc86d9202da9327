package b2bua

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// Transfer is a blind transfer in progress: the far end of Transferor
// asked (REFER) that Transferee be connected to Target instead of itself.
type Transfer struct {
	call       *Call // owns the transferee's leg; the target is dialled through it
	transferor *Leg
	transferee *Leg
	target     string // the user part of the Refer-To URI (a number to route)

	bridge *Bridge
	mu     sync.Mutex
	over   bool
}

// Call owns the transferee's leg; dial the target through it. (Once *Call
// is a callctl.Call, this returns one and *Transfer is a callctl.Transfer.)
func (t *Transfer) Call() callctl.Call { return t.call }

// Transferor is the leg whose far end asked for the transfer.
func (t *Transfer) Transferor() callctl.Leg { return t.transferor }

// Transferee is the leg to connect to the target.
func (t *Transfer) Transferee() callctl.Leg { return t.transferee }

// Target is the user part of the Refer-To URI (a number to route).
func (t *Transfer) Target() string { return t.target }

// Complete bridges the transferee with leg (usually dialled by the router
// for Target), reports success to the transferor and hangs it up.
func (t *Transfer) Complete(n callctl.Leg) error {
	leg, ok := n.(*Leg)
	if !ok || leg == nil {
		return errors.New("b2bua: transfer needs a leg of this node")
	}
	if !t.finish() {
		return errors.New("b2bua: transfer already finished")
	}
	t.transferor.transferring.Store(false)
	if err := t.bridge.replace(t.transferor, leg); err != nil {
		leg.Hangup(CauseNormal)
		t.transferor.notifyRefer(500, "Server Internal Error", true)
		t.wakeBridge()
		return err
	}
	t.transferor.notifyRefer(200, "OK", true)
	t.transferor.Hangup(CauseTransferred)
	return nil
}

// Fail reports to the transferor that the target was not reached; the
// transferee stays with the transferor (or is hung up if it has left).
func (t *Transfer) Fail(cause Cause) {
	if !t.finish() {
		return
	}
	t.transferor.transferring.Store(false)
	code, reason := SIPStatus(cause)
	t.transferor.notifyRefer(code, reason, true)
	t.wakeBridge()
}

func (t *Transfer) finish() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over {
		return false
	}
	t.over = true
	return true
}

func (t *Transfer) wakeBridge() {
	select {
	case t.bridge.changed <- struct{}{}:
	default:
	}
}

// parked reports whether the leg has gone while its transfer is pending:
// its bridge waits for the transfer instead of hanging up the other leg.
func (l *Leg) parked() bool {
	if !l.transferring.Load() {
		return false
	}
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (s *Service) handleRefer(req *sip.Request, tx sip.ServerTransaction) {
	l := s.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(tx, req, 400, "Bad Request - missing Refer-To")
		return
	}
	var target sip.Uri
	if _, err := sip.ParseAddressValue(h.Value(), &target, nil); err != nil {
		respond(tx, req, 400, "Bad Request - malformed Refer-To")
		return
	}
	br := l.waitBridge(2 * time.Second)
	var peer *Leg
	if br != nil {
		peer = br.Other(l)
	}
	if peer == nil || !l.Answered() {
		respond(tx, req, 603, "Decline - nothing to transfer")
		return
	}
	var replaces string
	if target.Headers != nil {
		if v, ok := target.Headers.Get("Replaces"); ok {
			replaces, _ = url.QueryUnescape(v)
		}
	}
	if !l.transferring.CompareAndSwap(false, true) {
		respond(tx, req, 491, "Request Pending")
		return
	}
	respond(tx, req, 202, "Accepted")
	if replaces != "" {
		l.emit(callctl.Event{Kind: callctl.EventTransferRequest, Target: target.User})
		s.spawn(func() {
			l.transferring.Store(false)
			s.attendedTransfer(l, br, peer, replaces)
		})
		return
	}
	t := &Transfer{call: br.call, transferor: l, transferee: peer, target: target.User, bridge: br}
	l.emit(callctl.Event{Kind: callctl.EventTransferRequest, Target: target.User})
	s.spawn(func() {
		l.notifyRefer(100, "Trying", false)
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
		defer cancel()
		s.cfg.Router.BlindTransfer(ctx, t)
		t.Fail(CauseFailure) // no-op when the router finished it
	})
}

// attendedTransfer joins peer (the far end of the REFER's dialog) with the
// far end of the dialog named by Replaces, and hangs up both legs of the
// transferor.
func (s *Service) attendedTransfer(l *Leg, br *Bridge, peer *Leg, replaces string) {
	callID, params, _ := strings.Cut(replaces, ";")
	var tags []string
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k == "to-tag" || k == "from-tag" {
			tags = append(tags, v)
		}
	}
	var other *Leg
	for _, tag := range tags {
		if o := s.find(callID, tag); o != nil && o != l {
			other = o
			break
		}
	}
	if other == nil {
		l.notifyRefer(481, "Call/Transaction Does Not Exist", true)
		return
	}
	obr := other.waitBridge(2 * time.Second)
	var z *Leg
	if obr != nil {
		z = obr.Other(other)
	}
	if z == nil || z == peer {
		l.notifyRefer(481, "Call/Transaction Does Not Exist", true)
		return
	}
	if err := br.replace(l, z); err != nil {
		l.notifyRefer(500, "Server Internal Error", true)
		return
	}
	l.notifyRefer(200, "OK", true)
	l.Hangup(CauseTransferred)
	other.Hangup(CauseTransferred)
}

// notifyRefer reports transfer progress in the implicit refer
// subscription (RFC 3515).
func (l *Leg) notifyRefer(status int, reason string, final bool) {
	req := sip.NewRequest(sip.NOTIFY, l.remoteTarget())
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody(fmt.Appendf(nil, "SIP/2.0 %d %s\r\n", status, reason))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.request(ctx, req)
}

// waitBridge returns the leg's bridge, waiting a little for one: a REFER
// may arrive while the call it names is still being connected (the
// answer's ACK in flight).
func (l *Leg) waitBridge(d time.Duration) *Bridge {
	deadline := time.Now().Add(d)
	for {
		if br := l.Bridge(); br != nil || time.Now().After(deadline) {
			return br
		}
		select {
		case <-l.done:
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}
