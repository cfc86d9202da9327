package sipserver

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// validate applies the checks of RFC 3261 §8.2 that sipgo leaves to the
// UAS before any handler runs. It returns 0 for a request to process, or
// the status and reason to reject it with.
func validate(req *sip.Request) (int, string) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported"
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme"
	}
	if req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return 400, "Bad Request - missing mandatory header"
	}
	if req.CallID().Value() == "" {
		return 400, "Bad Request - empty Call-ID"
	}
	if m := req.CSeq().MethodName; m != req.Method && !(req.Method == sip.ACK && m == sip.INVITE) {
		return 400, "Bad Request - CSeq method does not match the request"
	}
	return 0, ""
}

// reject answers a request that failed validate. The response keeps the
// version SIP/2.0 whatever the request claimed.
func reject(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	if tx == nil || req.Method == sip.ACK {
		return // ACK is never answered
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.SipVersion = "SIP/2.0"
	_ = tx.Respond(res)
}
