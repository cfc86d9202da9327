package b2bua

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// An offer comes alone or as the SDP part of a multipart body (beside a
// location); a body without SDP is no offer.
func TestOfferBody(t *testing.T) {
	req := func(ct, body string) *sip.Request {
		r := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "112", Host: "pbx.test"})
		r.AppendHeader(sip.NewHeader("Content-Type", ct))
		r.SetBody([]byte(body))
		return r
	}
	const sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
	multi := "--b\r\nContent-Type: application/pidf+xml\r\nContent-ID: <l@x>\r\n\r\n<presence/>\r\n--b\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--b--\r\n"
	for name, tc := range map[string]struct {
		req  *sip.Request
		want string
	}{
		"alone":     {req("application/sdp", sdp), sdp},
		"multipart": {req("multipart/mixed; boundary=b", multi), sdp},
		"no sdp":    {req("application/pidf+xml", "<presence/>"), ""},
		"broken":    {req("multipart/mixed", multi), ""},
	} {
		got, err := offerBody(tc.req)
		if string(got) != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
}
