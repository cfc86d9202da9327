package b2bua

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"pbx/media"
	"pbx/media/sdp"
)

const (
	testHead = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	testKey  = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
)

func mustParse(t *testing.T, body string) *sdp.Description {
	t.Helper()
	d, err := sdp.Parse([]byte(body))
	if err != nil {
		t.Fatalf("parse %q: %v", body, err)
	}
	return d
}

// TestSDPErrorsAre488 checks that every way a far end's SDP can be unusable
// ends in 488, as the private parser did.
func TestSDPErrorsAre488(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"garbage", "hello"},
		{"empty", ""},
		{"video only", testHead + "m=video 4000 RTP/AVP 96\r\n"},
		{"no common codec", testHead + "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"},
		{"audio rejected", testHead + "m=audio 0 RTP/AVP 0\r\n"},
		{"SAVP without crypto", testHead + "m=audio 4000 RTP/SAVP 0\r\n"},
		{"SAVP with unknown suite", testHead + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + testKey + "\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := sdp.Parse([]byte(tc.body))
			if err == nil {
				_, err = negotiateOffer(d, nil)
			}
			if err == nil || !notAcceptable(err) {
				t.Fatalf("want a 488 error, got %v", err)
			}
		})
	}
	if notAcceptable(errors.New("disk full")) || notAcceptable(media.ErrNoPorts) {
		t.Fatal("a local failure was taken for a bad SDP")
	}
}

func TestNegotiateOffer(t *testing.T) {
	pcma := sdp.PCMA
	tests := []struct {
		name    string
		body    string
		cur     *sdp.Codec
		codec   string
		dtmf    uint8
		holding bool
		secure  bool
	}{
		{name: "far end's order", body: testHead + "m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
			codec: "PCMA", dtmf: 101},
		{name: "keeps the codec in use", body: testHead + "m=audio 4000 RTP/AVP 0 8 96\r\na=rtpmap:96 telephone-event/8000\r\n",
			cur: &pcma, codec: "PCMA", dtmf: 96},
		{name: "codec in use withdrawn", body: testHead + "m=audio 4000 RTP/AVP 0\r\n", cur: &pcma, codec: "PCMU"},
		{name: "lower-case name", body: testHead + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 pcmu/8000\r\n", codec: "PCMU"},
		{name: "sendonly is hold", body: testHead + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", codec: "PCMU", holding: true},
		{name: "inactive is hold", body: testHead + "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n", codec: "PCMU", holding: true},
		{name: "old hold", body: strings.Replace(testHead, "c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0", 1) + "m=audio 4000 RTP/AVP 0\r\n",
			codec: "PCMU", holding: true},
		{name: "sdes", body: testHead + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20\r\n",
			codec: "PCMU", secure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, tc.body)
			n, err := negotiateOffer(d, tc.cur)
			if err != nil {
				t.Fatal(err)
			}
			if c := mediaCodec(n.Codec); c.Name != tc.codec || n.DTMFPayloadType != tc.dtmf || d.OnHold() != tc.holding || d.Secure() != tc.secure {
				t.Fatalf("negotiated %+v (codec %v), hold %v, secure %v", n, c, d.OnHold(), d.Secure())
			}
			if tc.secure && (n.Crypto == nil || n.Crypto.Key != testKey) {
				t.Fatalf("crypto %+v", n.Crypto)
			}
		})
	}
}

func TestNegotiateAnswer(t *testing.T) {
	crypto := &sdp.Crypto{Tag: 1, Suite: sdp.Suites[0], Key: testKey}
	plain := testHead + "m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	savp := func(suite string) string {
		return testHead + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 " + suite + " inline:" + testKey + "\r\n"
	}
	tests := []struct {
		name    string
		offered sdp.Media
		body    string
		err     error
	}{
		{"plain", offerMedia(30000, nil), plain, nil},
		{"srtp", offerMedia(30000, crypto), savp(sdp.Suites[0]), nil},
		{"plain answer to srtp offer", offerMedia(30000, crypto), plain, errSRTPPolicy},
		{"srtp answer to plain offer", offerMedia(30000, nil), savp(sdp.Suites[0]), errSRTPPolicy},
		{"other suite", offerMedia(30000, crypto), savp(sdp.Suites[1]), errSRTPPolicy},
		{"codec not offered", offerMedia(30000, nil), testHead + "m=audio 4000 RTP/AVP 18\r\n", sdp.ErrNoCommonCodec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := negotiateAnswer(mustParse(t, tc.body), tc.offered)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("want %v, got %v", tc.err, err)
			}
		})
	}
}

// TestLegOfferAnswer drives one leg's SDP through an offer, its answer and
// re-offers: codec, telephone-event mapping, SRTP key kept, hold, and the
// o= version bumped exactly when the body changes.
func TestLegOfferAnswer(t *testing.T) {
	// Below the kernel's ephemeral range and apart from the other packages'
	// test ranges (cmd/pbx, interop and media).
	eng, err := media.NewEngine(media.Config{BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: 32100, PortMax: 32200})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	sess, err := eng.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	l := &Leg{sess: sess, sdpb: sdp.NewBuilder(netip.MustParseAddr("198.51.100.7")), local: sdp.Media{Port: int(sess.LocalAddr().Port())}, state: legAnswered}

	offer := func(dir string) *sdp.Description {
		return mustParse(t, testHead+"m=audio 4000 RTP/SAVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"+
			"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:"+testKey+"\r\na="+dir+"\r\n")
	}
	answer := func(o *sdp.Description) *sdp.Description {
		t.Helper()
		if err := l.applyOffer(o); err != nil {
			t.Fatal(err)
		}
		body, err := l.sdpb.Answer(o, l.local)
		if err != nil {
			t.Fatal(err)
		}
		return mustParse(t, string(body))
	}

	first := answer(offer("sendrecv"))
	if first.Addr != netip.MustParseAddr("198.51.100.7") || len(first.Codecs) != 1 || first.Codecs[0].Name != "PCMA" ||
		first.DTMF == nil || first.DTMF.PayloadType != 96 || !first.Secure() || len(first.Crypto) != 1 || first.Crypto[0].Tag != 3 {
		t.Fatalf("answer %+v", first)
	}
	if sess.Codec().Name != "PCMA" || sess.Remote() != netip.MustParseAddrPort("192.0.2.1:4000") || !l.Secure() {
		t.Fatalf("session codec %v remote %v", sess.Codec(), sess.Remote())
	}

	same := answer(offer("sendrecv"))
	if same.SessionVersion != first.SessionVersion || same.Crypto[0].Key != first.Crypto[0].Key {
		t.Fatalf("unchanged re-offer: version %d -> %d, key changed %v", first.SessionVersion, same.SessionVersion, same.Crypto[0].Key != first.Crypto[0].Key)
	}
	hold := answer(offer("sendonly"))
	if hold.SessionVersion != first.SessionVersion+1 || hold.Direction != sdp.RecvOnly || hold.Crypto[0].Key != first.Crypto[0].Key {
		t.Fatalf("hold answer %+v (first version %d)", hold, first.SessionVersion)
	}
	resume := answer(offer("sendrecv"))
	if resume.SessionVersion != hold.SessionVersion+1 || resume.Direction != sdp.SendRecv {
		t.Fatalf("resume answer %+v", resume)
	}
	plain := answer(mustParse(t, testHead+"m=audio 4002 RTP/AVP 0\r\n"))
	if plain.Secure() || plain.DTMF != nil || l.Secure() || sess.Codec().Name != "PCMU" {
		t.Fatalf("plain re-offer answered %+v", plain)
	}
}
