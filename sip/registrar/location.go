package registrar

import (
	"github.com/emiago/sipgo/sip"

	"pbx/location"
	"pbx/sip/sipbody"
)

// conveyedLocation is the PIDF-LO document a REGISTER conveys by value
// (RFC 6442: a Geolocation header pointing at a body part), checked to
// hold a location; "" when it conveys none. A softphone away from its
// site tells us this way where it is, for its emergency calls.
func conveyedLocation(req *sip.Request) (string, error) {
	hs := req.GetHeaders("Geolocation")
	if len(hs) == 0 {
		return "", nil
	}
	geo := make([]string, 0, len(hs))
	for _, h := range hs {
		geo = append(geo, h.Value())
	}
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
		return "", err
	}
	lparts := make([]location.Part, 0, len(parts))
	for _, p := range parts {
		lparts = append(lparts, location.Part{ContentType: p.ContentType, ContentID: p.ContentID(), Body: p.Body})
	}
	// The device's own document is kept, once checked to hold a location.
	p, _, err := location.ConveyedPart(geo, lparts)
	if err != nil {
		return "", err
	}
	return string(p.Body), nil
}
