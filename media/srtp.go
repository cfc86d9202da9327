package media

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pion/srtp/v3"
)

// SDES crypto suites (RFC 4568) supported by SetSRTP.
const (
	SuiteAESCM128HMACSHA180 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAESCM128HMACSHA132 = "AES_CM_128_HMAC_SHA1_32"
)

const sdesKeyLen = 30 // 16-byte master key + 14-byte master salt

// GenerateSDESKey returns a fresh random master key and salt for the
// AES_CM_128 suites, base64-encoded as in an a=crypto "inline:" parameter
// (without the "inline:" prefix).
func GenerateSDESKey() (string, error) {
	var b [sdesKeyLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("media: generate SDES key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// SetSRTP protects the session with SRTP keyed by SDES: packets sent are
// protected with localKey (the key we put in our a=crypto), packets received
// are checked and decrypted with remoteKey (the far end's). Keys are the
// base64 inline values, with or without the "inline:" prefix and
// "|lifetime|MKI" suffix (MKI is not supported). An empty suite turns SRTP
// off. Calling it again (re-INVITE with new keys) switches keys at once.
func (s *Session) SetSRTP(suite, localKey, remoteKey string) error {
	if suite == "" {
		s.srtpIn.Store(nil)
		s.out.mu.Lock()
		s.out.srtp = nil
		s.out.mu.Unlock()
		return nil
	}
	var profile srtp.ProtectionProfile
	switch suite {
	case SuiteAESCM128HMACSHA180:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	case SuiteAESCM128HMACSHA132:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_32
	default:
		return fmt.Errorf("media: srtp suite %q not supported", suite)
	}
	lk, err := decodeSDESKey(localKey)
	if err != nil {
		return fmt.Errorf("media: srtp local key: %w", err)
	}
	rk, err := decodeSDESKey(remoteKey)
	if err != nil {
		return fmt.Errorf("media: srtp remote key: %w", err)
	}
	in, err := srtp.CreateContext(rk[:16], rk[16:], profile, srtp.SRTPReplayProtection(128))
	if err != nil {
		return fmt.Errorf("media: srtp remote context: %w", err)
	}
	out, err := srtp.CreateContext(lk[:16], lk[16:], profile)
	if err != nil {
		return fmt.Errorf("media: srtp local context: %w", err)
	}
	s.srtpIn.Store(in)
	s.out.mu.Lock()
	s.out.srtp = out
	s.out.mu.Unlock()
	return nil
}

func decodeSDESKey(inline string) ([]byte, error) {
	k := strings.TrimPrefix(strings.TrimSpace(inline), "inline:")
	if i := strings.IndexByte(k, '|'); i >= 0 {
		k = k[:i]
	}
	b, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(k); err != nil {
			return nil, fmt.Errorf("bad base64: %w", err)
		}
	}
	if len(b) != sdesKeyLen {
		return nil, fmt.Errorf("key and salt are %d bytes, want %d", len(b), sdesKeyLen)
	}
	return b, nil
}
