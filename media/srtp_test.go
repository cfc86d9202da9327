package media

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func srtpContext(t *testing.T, suite, key string) *srtp.Context {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	profile := srtp.ProtectionProfileAes128CmHmacSha1_80
	if suite == SuiteAESCM128HMACSHA132 {
		profile = srtp.ProtectionProfileAes128CmHmacSha1_32
	}
	c, err := srtp.CreateContext(b[:16], b[16:], profile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSRTPToPlainRelay bridges an SRTP leg (a) with a plain RTP leg (b).
// The SRTP far end is a pion/srtp peer.
func TestSRTPToPlainRelay(t *testing.T) {
	for _, suite := range []string{SuiteAESCM128HMACSHA180, SuiteAESCM128HMACSHA132} {
		t.Run(suite, func(t *testing.T) {
			p := newPair(t, PCMU, PCMU)
			ourKey, err := GenerateSDESKey()
			if err != nil {
				t.Fatal(err)
			}
			phoneKey, _ := GenerateSDESKey()
			if ourKey == phoneKey {
				t.Fatal("keys repeat")
			}
			// The keys as they appear in a=crypto lines.
			if err := p.sa.SetSRTP(suite, "inline:"+ourKey, "inline:"+phoneKey+"|2^31"); err != nil {
				t.Fatal(err)
			}
			phoneOut := srtpContext(t, suite, phoneKey) // phone encrypts with its key
			phoneIn := srtpContext(t, suite, ourKey)    // and decrypts with ours

			// An SRTP packet that fails authentication neither passes nor latches.
			forged := payloadOf(1, FrameSamples)
			raw, _ := p.pa.packet(0, forged, false).Marshal()
			enc, err := phoneOut.EncryptRTP(nil, raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			enc[len(enc)-1] ^= 1
			p.pa.sendRaw(p.sa.LocalAddr(), enc)
			p.pb.expectNothing(100 * time.Millisecond)
			if _, ok := p.sa.Latched(); ok {
				t.Fatal("latched on a forged packet")
			}

			var last []byte
			for i := 0; i < 20; i++ {
				// Phone -> SRTP leg -> plain leg.
				payload := payloadOf(byte(i), FrameSamples)
				raw, _ := p.pa.packet(0, payload, false).Marshal()
				p.pa.ts += FrameSamples
				enc, err := phoneOut.EncryptRTP(nil, raw, nil)
				if err != nil {
					t.Fatal(err)
				}
				p.pa.sendRaw(p.sa.LocalAddr(), enc)
				last = enc
				out := p.pb.mustRecv(waitLong)
				if !bytes.Equal(out.Payload, payload) {
					t.Fatalf("packet %d: plain side got a different payload", i)
				}

				// Plain leg -> SRTP leg -> phone.
				back := payloadOf(byte(100+i), FrameSamples)
				p.pb.send(p.sb.LocalAddr(), 0, back)
				b, _, err := p.pa.recvRaw(waitLong)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, back[:32]) {
					t.Fatal("payload sent in clear to the SRTP leg")
				}
				var h rtp.Header
				dec, err := phoneIn.DecryptRTP(nil, b, &h)
				if err != nil {
					t.Fatalf("packet %d: phone cannot decrypt: %v", i, err)
				}
				var pkt rtp.Packet
				if err := pkt.Unmarshal(dec); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pkt.Payload, back) {
					t.Fatalf("packet %d: phone got a different payload", i)
				}
			}

			// Replayed packets are dropped.
			p.pa.sendRaw(p.sa.LocalAddr(), last)
			raw2, _ := p.pa.packet(0, payloadOf(7, FrameSamples), false).Marshal()
			enc2, _ := phoneOut.EncryptRTP(nil, raw2, nil)
			p.pa.sendRaw(p.sa.LocalAddr(), enc2)
			p.pa.sendRaw(p.sa.LocalAddr(), enc2)
			p.pb.mustRecv(waitLong)
			p.pb.expectNothing(100 * time.Millisecond)
		})
	}
}

func TestSetSRTPErrors(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e)
	k, _ := GenerateSDESKey()
	for _, c := range []struct{ suite, l, r string }{
		{"AES_256_CM_HMAC_SHA1_80", k, k},
		{SuiteAESCM128HMACSHA180, "not base64!", k},
		{SuiteAESCM128HMACSHA180, k, base64.StdEncoding.EncodeToString(make([]byte, 16))},
	} {
		if err := s.SetSRTP(c.suite, c.l, c.r); err == nil {
			t.Errorf("SetSRTP(%q, %q, %q) accepted", c.suite, c.l, c.r)
		}
	}
	if err := s.SetSRTP("", "", ""); err != nil {
		t.Fatal(err)
	}
}
