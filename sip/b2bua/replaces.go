package b2bua

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// replacesSpec is a parsed Replaces header (RFC 3891 §6.1).
type replacesSpec struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

func parseReplaces(v string) (replacesSpec, bool) {
	parts := strings.Split(v, ";")
	r := replacesSpec{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		case "early-only":
			r.earlyOnly = true
		}
	}
	return r, r.callID != "" && r.toTag != "" && r.fromTag != ""
}

// inviteReplaces handles an authenticated INVITE that carries Replaces
// (RFC 3891): the new caller takes the place of the leg whose dialog it
// names in that leg's bridge — an attended transfer completed by the
// phones, or a call picked up by another device of the tenant — and the
// replaced leg is hung up with cause transferred. The dialog must be
// confirmed, one of the caller's tenant, and bridged; otherwise: no such
// dialog 481, early-only on a confirmed dialog 486, not bridged 603.
func (s *Service) inviteReplaces(req *sip.Request, tx sip.ServerTransaction, origin callctl.Origin) {
	h := req.GetHeader("Replaces")
	rs, ok := parseReplaces(h.Value())
	if !ok {
		respond(tx, req, 400, "Bad Request - malformed Replaces")
		return
	}
	// Either tag may be ours, depending on who placed the named dialog.
	old := s.find(rs.callID, rs.toTag)
	if old == nil {
		old = s.find(rs.callID, rs.fromTag)
	}
	var call *Call
	if old != nil {
		call = old.owner()
	}
	if old == nil || old.ended() || call == nil || call.tenantID() != origin.TenantID {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if !old.Answered() {
		// Replacing an early dialog (RFC 3891 §3) is not offered.
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if rs.earlyOnly {
		respond(tx, req, 486, "Busy Here")
		return
	}
	br := old.Bridge()
	if br == nil {
		respond(tx, req, 603, "Decline - dialog not replaceable")
		return
	}
	log := s.log.With("call_id", req.CallID().Value(), "replaces", rs.callID, "tenant_id", origin.TenantID)
	n := s.acceptInvite(req, tx, origin, log)
	if n == nil {
		return
	}
	n.setPhase(phaseEarly)
	call.adopt(n)
	ctx, cancel := context.WithTimeout(s.ctx, 64*sip.T1+time.Second)
	defer cancel()
	if err := n.Answer(ctx); err != nil {
		log.Info("replaces: answer", "error", err)
		n.Hangup(CauseFailure)
		return
	}
	if err := br.replace(old, n); err != nil {
		log.Info("replaces: the dialog left its bridge", "error", err)
		n.Hangup(CauseNormal)
		return
	}
	old.Hangup(CauseTransferred)
}
