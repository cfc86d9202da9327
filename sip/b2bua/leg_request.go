package b2bua

import (
	"pbx/callctl"
	"pbx/sip/sipbody"
)

var _ callctl.Request = (*Leg)(nil)

// RequestHeader returns the values of the inbound INVITE's headers called
// name; nil for a dialled leg.
func (l *Leg) RequestHeader(name string) []string {
	if l.uas == nil {
		return nil
	}
	var out []string
	for _, h := range l.uas.InviteRequest.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

// RequestParts returns the parts of the inbound INVITE's body; nil for a
// dialled leg. It parses the body on each call: programs ask rarely (an
// emergency call's location), and most legs are never asked.
func (l *Leg) RequestParts() []callctl.BodyPart {
	if l.uas == nil {
		return nil
	}
	req := l.uas.InviteRequest
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	cid := ""
	if h := req.GetHeader("Content-ID"); h != nil {
		cid = h.Value()
	}
	parts, err := sipbody.MessageParts(ct, cid, req.Body())
	if err != nil {
		return nil
	}
	out := make([]callctl.BodyPart, 0, len(parts))
	for _, p := range parts {
		bp := callctl.BodyPart{ContentType: p.ContentType, Body: p.Body}
		for name, vs := range p.Header {
			if name == "Content-Type" {
				continue
			}
			for _, v := range vs {
				bp.Headers = append(bp.Headers, callctl.Header{Name: name, Value: v})
			}
		}
		out = append(out, bp)
	}
	return out
}
