package b2bua

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
)

// reack sends the ACK again for a retransmitted 2xx to one of our INVITEs
// that no client transaction matches any more (RFC 3261 §13.2.2.4: the
// far end retransmits its 2xx until our ACK reaches it). The INVITE's
// client transaction no longer waits for such retransmissions for 64*T1
// (sipserver's accepted.go): the dialog, looked up by Call-ID and our
// From tag, answers them instead, as long as the leg is up.
func (s *Service) reack(res *sip.Response) {
	cseq, cid, from, to := res.CSeq(), res.CallID(), res.From(), res.To()
	if !res.IsSuccess() || cseq == nil || cseq.MethodName != sip.INVITE || cid == nil || from == nil || to == nil {
		return
	}
	ours, _ := from.Params.Get("tag")
	l := s.find(cid.Value(), ours)
	if l == nil || l.uac == nil {
		return
	}
	// One in-dialog request at a time: the ACK takes the dialog's
	// current CSeq, which must still be the INVITE's.
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	dcs := l.uac
	if dcs.LoadState() != sip.DialogStateConfirmed || dcs.InviteResponse == nil || dcs.InviteRequest.CSeq() == nil {
		return // not acknowledged yet (Dialing.ack will), or ended
	}
	theirs, _ := to.Params.Get("tag")
	first, _ := dcs.InviteResponse.To().Params.Get("tag")
	if theirs != first || cseq.SeqNo != dcs.InviteRequest.CSeq().SeqNo || dcs.CSEQ() != cseq.SeqNo {
		// Another fork's 2xx, a re-INVITE's, or the dialog has moved on
		// (a later request of ours shows that the ACK came through).
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dcs.Ack(ctx); err != nil {
		s.log.Info("2xx retransmission: ack", "call_id", l.callID, "error", err)
	}
}
