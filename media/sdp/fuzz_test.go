package sdp

import (
	"net/netip"
	"testing"
)

// FuzzParse checks that no input makes Parse, Negotiate or building an
// answer panic.
func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{yealinkOffer, srtpOffer, videoOffer, []byte(""), []byte("v=0\r\n"),
		[]byte("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 1 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"),
		[]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=image 2 udptl t38\r\nm=audio 1 RTP/AVP 8\r\n")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			return
		}
		n, err := Negotiate(d, Supported)
		if err != nil {
			return
		}
		b := NewBuilder(netip.MustParseAddr("192.0.2.1"))
		if _, err := b.Answer(d, n.AnswerMedia(20000, "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")); err != nil {
			t.Fatalf("answer to a parsed offer failed: %v", err)
		}
	})
}
