package b2bua

import (
	"errors"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/sip/sipbody"
)

// offerBody is the SDP of a request whose body is not empty: the body, or
// its application/sdp part when other parts (a location, RFC 6442) come
// beside it in a multipart body.
func offerBody(req *sip.Request) ([]byte, error) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	body, err := sipbody.SDP(ct, req.Body())
	if err == nil && body == nil {
		err = errors.New("no application/sdp part in the body")
	}
	return body, err
}

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
