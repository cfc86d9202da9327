// Package sipauth owns SIP digest authentication on the server side (RFC 3261
// §22, RFC 8760 for SHA-256): stateless expiring nonces, challenges that look
// the same whether or not the account exists, verification against stored
// HA1 values, and the Guard that bans sources and accounts after repeated
// failures.
package sipauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/icholy/digest"
)

// Algorithms supported, in RFC 8760 names.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// Errors of Verify.
var (
	ErrNoCredentials = errors.New("no digest credentials")
	ErrMalformed     = errors.New("malformed digest credentials")
	ErrStale         = errors.New("stale nonce")
	ErrBadNonce      = errors.New("nonce not issued by us")
	ErrMismatch      = errors.New("digest response mismatch")
	ErrRealm         = errors.New("wrong realm")
	ErrAlgorithm     = errors.New("digest algorithm not offered for this realm")
)

// Authenticator issues and checks digest challenges. Nonces carry their issue
// time and an HMAC, so any node sharing the key can verify them and no state
// is kept per challenge.
type Authenticator struct {
	key        []byte
	NonceTTL   time.Duration                    // how long a nonce is accepted; expired ones give stale=true
	Algorithms []string                         // offered in this order of preference, unless the realm has its own
	clock      atomic.Pointer[func() time.Time] // nil: time.Now
	realms     atomic.Pointer[map[string][]string]
	macs       sync.Pool // of the nonces' HMAC, keyed: keying one costs more than using it
}

// ParseAlgorithms reads a comma-separated list of digest algorithms in order
// of preference ("SHA-256,MD5"): known names, each once, at least one.
func ParseAlgorithms(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		alg := strings.ToUpper(strings.TrimSpace(f))
		switch {
		case alg != MD5 && alg != SHA256:
			return nil, fmt.Errorf("unknown digest algorithm %q (want %s or %s)", strings.TrimSpace(f), SHA256, MD5)
		case slices.Contains(out, alg):
			return nil, fmt.Errorf("digest algorithm %s listed twice", alg)
		}
		out = append(out, alg)
	}
	return out, nil
}

// SetRealmAlgorithms gives some realms (tenant SIP domains) their own
// algorithms, replacing the previous set; other realms get Algorithms. It may
// be called while requests are being served.
func (a *Authenticator) SetRealmAlgorithms(m map[string][]string) { a.realms.Store(&m) }

// AlgorithmsFor returns the algorithms offered, and accepted, in realm.
func (a *Authenticator) AlgorithmsFor(realm string) []string {
	if m := a.realms.Load(); m != nil {
		if algs, ok := (*m)[realm]; ok {
			return algs
		}
	}
	return a.Algorithms
}

// NewAuthenticator returns an Authenticator whose nonces are signed with key.
// Nodes that share key accept each other's nonces; a nil key picks a random one.
func NewAuthenticator(key []byte) *Authenticator {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
	}
	return &Authenticator{key: key, NonceTTL: 5 * time.Minute, Algorithms: []string{SHA256, MD5}}
}

// SetClock replaces the clock (tests of nonce expiry).
// It may be called while requests are being served.
func (a *Authenticator) SetClock(now func() time.Time) { a.clock.Store(&now) }

func (a *Authenticator) now() time.Time {
	if c := a.clock.Load(); c != nil {
		return (*c)()
	}
	return time.Now()
}

func (a *Authenticator) nonce() string {
	var b [8 + 8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	rand.Read(b[8:16])
	a.mac(b[:16], b[16:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mac writes the first 16 bytes of the HMAC of msg to out.
func (a *Authenticator) mac(msg, out []byte) {
	m, _ := a.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, a.key)
	}
	m.Reset()
	m.Write(msg)
	var sum [sha256.Size]byte
	copy(out, m.Sum(sum[:0])[:16])
	a.macs.Put(m)
}

// checkNonce reports whether the nonce was issued by us and is still fresh.
func (a *Authenticator) checkNonce(n string) error {
	var b [32]byte
	if base64.RawURLEncoding.DecodedLen(len(n)) != len(b) {
		return ErrBadNonce
	}
	if k, err := base64.RawURLEncoding.Decode(b[:], []byte(n)); err != nil || k != len(b) {
		return ErrBadNonce
	}
	var sum [16]byte
	a.mac(b[:16], sum[:])
	if !hmac.Equal(sum[:], b[16:]) {
		return ErrBadNonce
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if a.now().Sub(issued) > a.NonceTTL {
		return ErrStale
	}
	return nil
}

// Challenges returns the WWW-Authenticate (or Proxy-Authenticate) header
// values for realm, one per algorithm in preference order. Every challenge is
// built the same way whatever account is asked for.
func (a *Authenticator) Challenges(realm string, stale bool) []string {
	nonce := a.nonce()
	algs := a.AlgorithmsFor(realm)
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		out = append(out, challenge(realm, nonce, alg, stale))
	}
	return out
}

// challenge is digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: alg,
// QOP: []string{"auth"}, Stale: stale}.String(), byte for byte, built
// without its list of parameters: every unauthenticated request gets one.
func challenge(realm, nonce, alg string, stale bool) string {
	b := make([]byte, 0, 64+len(realm)+len(nonce)+len(alg))
	b = append(b, "Digest realm="...)
	b = strconv.AppendQuote(b, realm)
	b = append(b, ", nonce="...)
	b = strconv.AppendQuote(b, nonce)
	if stale {
		b = append(b, ", stale=true"...)
	}
	b = append(b, ", algorithm="...)
	b = append(b, alg...)
	b = append(b, `, qop="auth"`...)
	return string(b)
}

// Verify checks credentials of a request with method against the stored HA1
// of the account (ha1md5 or ha1sha256 according to the algorithm used) in
// realm. It returns ErrStale when the response is right but the nonce expired
// or was not issued with this Authenticator's key, and ErrAlgorithm when the
// algorithm is not one the realm is challenged with.
func (a *Authenticator) Verify(c *digest.Credentials, method, realm, ha1md5, ha1sha256 string) error {
	if c.Realm != realm {
		return ErrRealm
	}
	var ha1 string
	alg := strings.ToUpper(c.Algorithm)
	switch alg {
	case "", MD5:
		ha1, alg = ha1md5, MD5
	case SHA256:
		ha1 = ha1sha256
	default:
		return ErrMalformed
	}
	if !slices.Contains(a.AlgorithmsFor(realm), alg) {
		return ErrAlgorithm
	}
	var ha2b, wantb [2 * sha256.Size]byte
	ha2 := hexDigest(alg, ha2b[:0], nil, method, ":", c.URI)
	var want []byte
	switch c.QOP {
	case "":
		want = hexDigest(alg, wantb[:0], ha2, ha1, ":", c.Nonce, ":")
	case "auth":
		want = hexDigest(alg, wantb[:0], ha2, ha1, ":", c.Nonce, ":", ncString(c.Nc), ":", c.Cnonce, ":auth:")
	default:
		return ErrMalformed
	}
	if subtle.ConstantTimeCompare(want, []byte(strings.ToLower(c.Response))) != 1 {
		return ErrMismatch
	}
	// The password is right; a nonce that expired or that another key issued
	// (say, before a restart) asks the client to retry with a fresh one
	// without counting as a failure.
	if a.checkNonce(c.Nonce) != nil {
		return ErrStale
	}
	return nil
}

func ncString(nc int) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[nc&0xf]
		nc >>= 4
	}
	return string(b[:])
}

// hexDigest appends to dst the lower-case hex of the alg hash of parts
// followed by tail. It works in stack buffers: a REGISTER computes two.
func hexDigest(alg string, dst, tail []byte, parts ...string) []byte {
	var in [512]byte
	b := in[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	b = append(b, tail...)
	if alg == SHA256 {
		sum := sha256.Sum256(b)
		return hex.AppendEncode(dst, sum[:])
	}
	sum := md5.Sum(b)
	return hex.AppendEncode(dst, sum[:])
}
