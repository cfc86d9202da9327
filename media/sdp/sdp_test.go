package sdp

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// crlf turns a readable multi-line literal into SDP lines.
func crlf(s string) []byte {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var (
	yealinkOffer = crlf(`
		v=0
		o=- 20045 20045 IN IP4 192.168.1.20
		s=SDP data
		c=IN IP4 192.168.1.20
		t=0 0
		m=audio 11780 RTP/AVP 9 0 8 18 101
		a=rtpmap:9 G722/8000
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:18 G729/8000
		a=fmtp:18 annexb=no
		a=ptime:20
		a=sendrecv
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-15`)

	// No rtpmap for static types, session-level direction, two crypto lines.
	srtpOffer = crlf(`
		v=0
		o=alice 2890844526 2890844527 IN IP4 203.0.113.5
		s=-
		c=IN IP4 203.0.113.5
		t=0 0
		a=sendonly
		m=audio 49170 RTP/SAVP 8 0 96
		a=rtpmap:96 telephone-event/8000
		a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgMTIz
		a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4
		a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31`)

	// IPv6, media-level c=, video stream, inactive.
	videoOffer = crlf(`
		v=0
		o=- 1 1 IN IP6 2001:db8::1
		s=-
		t=0 0
		m=video 5000 RTP/AVP 96
		a=rtpmap:96 H264/90000
		m=audio 6000 RTP/AVP 0
		c=IN IP6 2001:db8::2
		a=inactive`)
)

func TestParse(t *testing.T) {
	cases := []struct {
		name      string
		body      []byte
		addr      string
		port      int
		codecs    []string
		dtmf      uint8
		dir       Direction
		secure    bool
		crypto    int
		hold      bool
		sessionID uint64
	}{
		{"yealink", yealinkOffer, "192.168.1.20", 11780, []string{"G722", "PCMU", "PCMA", "G729"}, 101, SendRecv, false, 0, false, 20045},
		{"srtp", srtpOffer, "203.0.113.5", 49170, []string{"PCMA", "PCMU"}, 96, SendOnly, true, 3, true, 2890844526},
		{"video+ipv6", videoOffer, "2001:db8::2", 6000, []string{"PCMU"}, 0, Inactive, false, 0, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if d.Addr != netip.MustParseAddr(c.addr) || d.Port != c.port {
				t.Errorf("remote %v:%d", d.Addr, d.Port)
			}
			var names []string
			for _, cd := range d.Codecs {
				names = append(names, cd.Name)
			}
			if strings.Join(names, ",") != strings.Join(c.codecs, ",") {
				t.Errorf("codecs %v, want %v", names, c.codecs)
			}
			var dtmf uint8
			if d.DTMF != nil {
				dtmf = d.DTMF.PayloadType
			}
			if dtmf != c.dtmf {
				t.Errorf("telephone-event %d, want %d", dtmf, c.dtmf)
			}
			if d.Direction != c.dir || d.Secure() != c.secure || len(d.Crypto) != c.crypto || d.OnHold() != c.hold {
				t.Errorf("dir %s secure %v crypto %d hold %v", d.Direction, d.Secure(), len(d.Crypto), d.OnHold())
			}
			if d.SessionID != c.sessionID {
				t.Errorf("session id %d", d.SessionID)
			}
		})
	}
	d, _ := Parse(yealinkOffer)
	if d.Ptime != 20 || d.Codecs[3].Fmtp != "annexb=no" {
		t.Errorf("ptime %d fmtp %q", d.Ptime, d.Codecs[3].Fmtp)
	}
	s, _ := Parse(srtpOffer)
	if c := s.Crypto[2]; c.Tag != 3 || c.Suite != "AES_CM_128_HMAC_SHA1_32" || c.Key != "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj" || c.Params != "|2^31" {
		t.Errorf("crypto %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	valid := string(yealinkOffer)
	cases := []struct {
		name string
		body string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "hello world", ErrMalformed},
		{"no version", strings.Replace(valid, "v=0\r\n", "", 1), ErrMalformed},
		{"bad port", strings.Replace(valid, "m=audio 11780", "m=audio eleven", 1), ErrMalformed},
		{"bad payload type", strings.Replace(valid, "RTP/AVP 9 0", "RTP/AVP 9 x0", 1), ErrMalformed},
		{"payload type > 127", strings.Replace(valid, "RTP/AVP 9 0", "RTP/AVP 9 300", 1), ErrMalformed},
		{"hostname", strings.Replace(valid, "c=IN IP4 192.168.1.20", "c=IN IP4 pbx.example.com", 1), ErrMalformed},
		{"ip6 in ip4", strings.Replace(valid, "c=IN IP4 192.168.1.20", "c=IN IP4 ::1", 1), ErrMalformed},
		{"no c=", strings.Replace(valid, "c=IN IP4 192.168.1.20\r\n", "", 1), ErrMalformed},
		{"truncated", valid[:strings.Index(valid, "RTP/AVP")+5], ErrMalformed},
		{"no audio", strings.Replace(valid, "m=audio", "m=video", 1), ErrNoAudio},
		{"no media", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n", ErrNoAudio},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	yl, _ := Parse(yealinkOffer)
	sr, _ := Parse(srtpOffer)
	vo, _ := Parse(videoOffer)
	g729Only, _ := Parse([]byte(strings.Replace(string(yealinkOffer), "RTP/AVP 9 0 8 18 101", "RTP/AVP 18 9", 1)))
	rejected, _ := Parse([]byte(strings.Replace(string(yealinkOffer), "m=audio 11780", "m=audio 0", 1)))
	noCrypto, _ := Parse([]byte(strings.Replace(string(srtpOffer), "AES_CM_128", "F8_128", -1)))

	cases := []struct {
		name      string
		offer     *Description
		supported []Codec
		codec     string
		pt        uint8
		dtmf      uint8
		dir       Direction
		cryptoTag int
		err       error
	}{
		// G722 is first but unsupported: the first common one in the offerer's order wins.
		{"offerer order", yl, Supported, "PCMU", 0, 101, SendRecv, 0, nil},
		{"our list order ignored", yl, []Codec{PCMA, PCMU, TelephoneEvent}, "PCMU", 0, 101, SendRecv, 0, nil},
		{"no dtmf support", yl, []Codec{PCMA}, "PCMA", 8, 0, SendRecv, 0, nil},
		// Crypto 1 has an unsupported suite, crypto 2 an MKI: crypto 3 is chosen.
		{"srtp hold", sr, Supported, "PCMA", 8, 96, RecvOnly, 3, nil},
		{"inactive", vo, Supported, "PCMU", 0, 0, Inactive, 0, nil},
		{"no common codec", g729Only, Supported, "", 0, 0, "", 0, ErrNoCommonCodec},
		{"rejected", rejected, Supported, "", 0, 0, "", 0, ErrRejected},
		{"no common crypto", noCrypto, Supported, "", 0, 0, "", 0, ErrNoCommonCrypto},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := Negotiate(c.offer, c.supported)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Codec.Name != c.codec || n.Codec.PayloadType != c.pt || n.DTMFPayloadType != c.dtmf || n.Direction != c.dir {
				t.Fatalf("got %+v", n)
			}
			if (n.Crypto == nil) != (c.cryptoTag == 0) || (n.Crypto != nil && n.Crypto.Tag != c.cryptoTag) {
				t.Fatalf("crypto %+v, want tag %d", n.Crypto, c.cryptoTag)
			}
			if n.Remote != c.offer.Remote() {
				t.Fatalf("remote %v", n.Remote)
			}
		})
	}
}

func TestOfferAnswerRoundTrip(t *testing.T) {
	ours := NewBuilder(netip.MustParseAddr("198.51.100.7"))
	key := "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	offer, err := ours.Offer(Media{Port: 20000, Codecs: Supported, Crypto: &Crypto{Tag: 1, Suite: Suites[0], Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(offer)
	for _, want := range []string{
		"v=0\r\n", "o=- ", " IN IP4 198.51.100.7\r\n", "s=-\r\n", "c=IN IP4 198.51.100.7\r\n", "t=0 0\r\n",
		"m=audio 20000 RTP/SAVP 0 8 101\r\n", "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:8 PCMA/8000\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=fmtp:101 0-16\r\n", "a=ptime:20\r\n",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "\r\n", "a=sendrecv\r\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}

	// The far end parses our offer and answers with its own builder.
	remote, err := Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Negotiate(remote, Supported)
	if err != nil {
		t.Fatal(err)
	}
	theirKey := "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
	theirs := NewBuilder(netip.MustParseAddr("2001:db8::9"))
	answer, err := theirs.Answer(remote, n.AnswerMedia(30000, theirKey))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(answer)
	if err != nil {
		t.Fatalf("%v\n%s", err, answer)
	}
	if back.Remote() != netip.MustParseAddrPort("[2001:db8::9]:30000") || len(back.Codecs) != 1 ||
		back.Codecs[0].Name != "PCMU" || back.DTMF == nil || back.DTMF.PayloadType != 101 ||
		!back.Secure() || len(back.Crypto) != 1 || back.Crypto[0].Key != theirKey || back.Crypto[0].Tag != 1 {
		t.Fatalf("answer read back as %+v\n%s", back, answer)
	}
}

func TestAnswerMirrorsStreams(t *testing.T) {
	offer, _ := Parse(videoOffer)
	n, err := Negotiate(offer, Supported)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(netip.MustParseAddr("192.0.2.1"))
	ans, err := b.Answer(offer, n.AnswerMedia(20002, ""))
	if err != nil {
		t.Fatal(err)
	}
	s := string(ans)
	iv, ia := strings.Index(s, "m=video 0 RTP/AVP 96\r\n"), strings.Index(s, "m=audio 20002 RTP/AVP 0\r\n")
	if iv < 0 || ia < 0 || iv > ia || !strings.Contains(s, "a=inactive\r\n") {
		t.Fatalf("answer:\n%s", s)
	}
}

func TestVersionIncrements(t *testing.T) {
	b := NewBuilder(netip.MustParseAddr("192.0.2.1"))
	m := Media{Port: 20000, Codecs: Supported}
	version := func(body []byte) uint64 {
		d, err := Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		if d.SessionID != b.SessionID() {
			t.Fatalf("session id changed: %d", d.SessionID)
		}
		return d.SessionVersion
	}
	first, _ := b.Offer(m)
	v0 := version(first)
	same, _ := b.Offer(m)
	if version(same) != v0 {
		t.Fatal("version changed for an identical body")
	}
	m.Direction = SendOnly // hold
	hold, _ := b.Offer(m)
	if version(hold) != v0+1 {
		t.Fatal("version not incremented on hold")
	}
	m.Direction = SendRecv
	resume, _ := b.Offer(m)
	if version(resume) != v0+2 {
		t.Fatal("version not incremented on resume")
	}
}

func TestBuildErrors(t *testing.T) {
	b := NewBuilder(netip.MustParseAddr("192.0.2.1"))
	if _, err := b.Offer(Media{Port: 0, Codecs: Supported}); err == nil {
		t.Error("port 0 accepted")
	}
	if _, err := b.Offer(Media{Port: 1000}); err == nil {
		t.Error("no codecs accepted")
	}
	if _, err := (&Builder{}).Offer(Media{Port: 1000, Codecs: Supported}); err == nil {
		t.Error("no address accepted")
	}
}

func TestDirection(t *testing.T) {
	for d, r := range map[Direction]Direction{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive} {
		if d.Reverse() != r {
			t.Errorf("%s reversed is %s", d, d.Reverse())
		}
	}
}

func TestParseSkipsRejectedAudio(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 0 RTP/AVP 0\r\n" +
		"m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
	d, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d.Port != 40000 || len(d.Codecs) != 1 || d.Codecs[0].PayloadType != 8 {
		t.Fatalf("chose %+v", d)
	}
}

// A fax device offers T.38 (m=image) next to its audio: the call goes on with
// the audio and the image stream is refused in the answer, as a media type
// the library does not know must not fail the whole offer.
func TestImageStreamRefused(t *testing.T) {
	offer := []byte("v=0\r\no=fax 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" +
		"m=image 4002 udptl t38\r\na=T38FaxVersion:0\r\n" +
		"m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
	d, err := Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	if d.Port != 4000 || len(d.Codecs) != 1 || d.Codecs[0].Name != "PCMA" {
		t.Fatalf("audio stream: %+v", d)
	}
	n, err := Negotiate(d, Supported)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := NewBuilder(netip.MustParseAddr("192.0.2.1")).Answer(d, n.AnswerMedia(20002, ""))
	if err != nil {
		t.Fatal(err)
	}
	s := string(ans)
	ii, ia := strings.Index(s, "m=image 0 udptl t38\r\n"), strings.Index(s, "m=audio 20002 RTP/AVP 8 101\r\n")
	if ii < 0 || ia < 0 || ii > ia {
		t.Fatalf("answer:\n%s", s)
	}
	// T.38 alone (the usual re-INVITE of a fax switching over): no audio,
	// which the b2bua answers 488 so that the fax goes on in G.711.
	if _, err := Parse([]byte("v=0\r\no=fax 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=image 4002 udptl t38\r\n")); !errors.Is(err, ErrNoAudio) {
		t.Fatalf("T.38 only: %v, want ErrNoAudio", err)
	}
	// The body the caller gave is not changed.
	if !bytes.Contains(offer, []byte("m=image 4002")) {
		t.Fatal("the offer was modified")
	}
}
