package b2bua

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"pbx/media"
)

func TestParseSDP(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	tests := []struct {
		name    string
		body    string
		err     error
		codecs  []media.Codec
		dtmf    uint8
		holding bool
		secure  bool
	}{
		{name: "pcma first", body: head + "m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
			codecs: []media.Codec{media.PCMA, media.PCMU}, dtmf: 101},
		{name: "sendonly is hold", body: head + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", codecs: []media.Codec{media.PCMU}, holding: true},
		{name: "old hold", body: strings.Replace(head, "c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0", 1) + "m=audio 4000 RTP/AVP 0\r\n",
			codecs: []media.Codec{media.PCMU}, holding: true},
		{name: "sdes", body: head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32\r\n",
			codecs: []media.Codec{media.PCMU}, secure: true},
		{name: "no common codec", body: head + "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", err: errNoCommonCodec},
		{name: "video only", body: head + "m=video 4000 RTP/AVP 96\r\n", err: errNoCommonCodec},
		{name: "garbage", body: "hello", err: errBadSDP},
		{name: "empty", body: "", err: errBadSDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseSDP([]byte(tc.body))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("want %v, got %v", tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.codecs) != len(tc.codecs) || r.codecs[0] != tc.codecs[0] || r.dtmfPT != tc.dtmf || r.holding() != tc.holding || r.secure != tc.secure {
				t.Fatalf("parsed %+v", r)
			}
			if tc.secure {
				if c, ok := r.pickCrypto(); !ok || c.key != "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" {
					t.Fatalf("crypto %+v", r.crypto)
				}
			}
		})
	}
}

func TestLocalSDPRoundTrip(t *testing.T) {
	l := localSDP{sessID: 7, version: 2, host: "198.51.100.7", port: 30000, codecs: []media.Codec{media.PCMU, media.PCMA}, dtmfPT: 101, dir: dirRecvOnly,
		crypto: &cryptoLine{tag: "1", suite: media.SuiteAESCM128HMACSHA180, key: "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"}}
	r, err := parseSDP(l.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if r.addr != netip.MustParseAddrPort("198.51.100.7:30000") || len(r.codecs) != 2 || r.dtmfPT != 101 || r.dir != dirRecvOnly || !r.secure || len(r.crypto) != 1 {
		t.Fatalf("round trip: %+v", r)
	}
}
