package provisioning

import (
	"context"
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
	"net/http"
	"strings"
	"time"
)

// authenticator checks HTTP digest (RFC 7616, qop=auth, MD5 and SHA-256) and,
// over TLS only, basic credentials against the Directory.
//
// Nonces are stateless: base64(issued-at || random || HMAC(key, issued-at ||
// random)). Any node holding the same key can check them, so several pbx nodes
// behind one load balancer must share Options.NonceKey. A nonce older than the
// lifetime is refused with stale=true so that a well-behaved client retries
// with a fresh one without asking anyone for a password.
type authenticator struct {
	dir      Directory
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// authResult is the outcome of checking a request's credentials.
type authResult struct {
	dev    *Device // nil unless authenticated
	scheme string  // "digest-md5", "digest-sha256", "basic"; empty without credentials
	reason string  // why authentication failed, for the log only
	stale  bool    // the digest nonce was ours but expired
}

const nonceRandom = 12

func (a *authenticator) newNonce() string {
	var b [8 + nonceRandom + sha256.Size]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().Unix()))
	rand.Read(b[8 : 8+nonceRandom])
	m := hmac.New(sha256.New, a.key)
	m.Write(b[:8+nonceRandom])
	copy(b[8+nonceRandom:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce reports whether the nonce was issued by us (valid) and whether it
// is still fresh.
func (a *authenticator) checkNonce(n string) (valid, fresh bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 8+nonceRandom+sha256.Size {
		return false, false
	}
	m := hmac.New(sha256.New, a.key)
	m.Write(b[:8+nonceRandom])
	if !hmac.Equal(m.Sum(nil), b[8+nonceRandom:]) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	age := a.now().Sub(issued)
	return true, age >= -time.Minute && age <= a.lifetime
}

// challenge writes the 401 answer. It is the same for every cause (no
// credentials, unknown device, wrong password, someone else's file) apart from
// the fresh nonce, and stale=true when the client's nonce was ours but expired,
// which depends only on that nonce, never on the device.
//
// [U] Both MD5 and SHA-256 are offered, MD5 first: the vendor documentation describes
// Yealink digest through FusionPBX (MD5) and says nothing on SHA-256, and an
// embedded client that reads only the first WWW-Authenticate header must find
// one it can answer. Basic is offered last, and only over TLS.
func (a *authenticator) challenge(w http.ResponseWriter, r *http.Request, stale bool) {
	nonce := a.newNonce()
	st := ""
	if stale {
		st = ", stale=true"
	}
	h := w.Header()
	for _, alg := range []string{"MD5", "SHA-256"} {
		h.Add("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", qop="auth", algorithm=%s, nonce="%s"%s`, Realm, alg, nonce, st))
	}
	if r.TLS != nil {
		h.Add("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
	}
	writePlain(w, http.StatusUnauthorized, "unauthorized\n")
}

// errDirectory is a directory failure other than "not found".
var errDirectory = errors.New("directory unavailable")

// authenticate checks the Authorization header. A directory failure other than
// ErrNotFound is returned as an error (the caller answers 503).
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (authResult, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return authResult{reason: "no credentials"}, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "digest":
		return a.digest(ctx, r, rest)
	case "basic":
		if r.TLS == nil {
			// Never accept a password sent in clear.
			return authResult{scheme: "basic", reason: "basic over plain HTTP"}, nil
		}
		return a.basic(ctx, r)
	}
	return authResult{reason: "unsupported scheme"}, nil
}

func (a *authenticator) digest(ctx context.Context, r *http.Request, params string) (authResult, error) {
	p, err := parseAuthParams(params)
	if err != nil {
		return authResult{scheme: "digest", reason: "malformed digest header"}, nil
	}
	var newHash func() hash.Hash
	res := authResult{}
	switch strings.ToUpper(p["algorithm"]) {
	case "", "MD5":
		newHash, res.scheme = md5.New, "digest-md5"
	case "SHA-256":
		newHash, res.scheme = sha256.New, "digest-sha256"
	default:
		res.scheme, res.reason = "digest", "unsupported algorithm"
		return res, nil
	}
	username, nonce, uri, response := p["username"], p["nonce"], p["uri"], p["response"]
	if p["realm"] != Realm || p["qop"] != "auth" || p["nc"] == "" || p["cnonce"] == "" ||
		username == "" || nonce == "" || response == "" || p["userhash"] == "true" {
		res.reason = "incomplete digest header"
		return res, nil
	}
	valid, fresh := a.checkNonce(nonce)
	if !valid {
		res.reason = "foreign nonce"
		return res, nil
	}
	if !fresh {
		res.reason, res.stale = "stale nonce", true
		return res, nil
	}
	if uri != r.RequestURI {
		res.reason = "uri mismatch"
		return res, nil
	}
	dev, err := a.lookup(ctx, username)
	if err != nil {
		return res, err
	}
	// The issued credential names the device by its MAC in lower case.
	var stored string
	if dev != nil && dev.ProvUsername == username {
		if res.scheme == "digest-md5" {
			stored = dev.ProvHA1MD5
		} else {
			stored = dev.ProvHA1SHA256
		}
	}
	issued := stored != ""
	if !issued {
		// Spend the same effort on an unknown user as on a known one.
		stored = strings.Repeat("0", newHash().Size()*2)
	}
	hx := func(s string) string {
		h := newHash()
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil))
	}
	tail := ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + hx(r.Method+":"+uri)
	got := []byte(strings.ToLower(response))
	ok := subtle.ConstantTimeCompare([]byte(hx(stored+tail)), got) == 1 && issued
	known := issued
	if !ok && dev != nil && dev.MACID != "" && isGigaset(dev.Model) {
		// A Gigaset base's factory credential: its MAC, spelled as the base
		// sent it (lookup has matched it to this device), and its MAC-ID.
		known = true
		for _, id := range macIDSpellings(dev.MACID) {
			if subtle.ConstantTimeCompare([]byte(hx(ha1(newHash, username, id)+tail)), got) == 1 {
				ok, res.scheme = true, res.scheme+"-macid"
			}
		}
	}
	if !known || !ok {
		res.reason = "wrong credentials or unknown device"
		return res, nil
	}
	res.dev = dev
	return res, nil
}

func isGigaset(model string) bool {
	m, ok := LookupModel(model)
	return ok && m.Vendor == Gigaset
}

func (a *authenticator) basic(ctx context.Context, r *http.Request) (authResult, error) {
	res := authResult{scheme: "basic"}
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		res.reason = "malformed basic header"
		return res, nil
	}
	dev, err := a.lookup(ctx, user)
	if err != nil {
		return res, err
	}
	good := false
	switch {
	case dev == nil || dev.ProvUsername != user:
		verifyPassword(dummyHash, pass)
	case len(dev.ProvPasswordHash) > 0:
		good = verifyPassword(dev.ProvPasswordHash, pass)
	case dev.ProvHA1SHA256 != "":
		good = subtle.ConstantTimeCompare([]byte(ha1(sha256.New, user, pass)), []byte(dev.ProvHA1SHA256)) == 1
	}
	if !good && dev != nil && dev.MACID != "" && isGigaset(dev.Model) {
		// A Gigaset base's MAC-ID as its password, spelled as on its
		// label or not (dashes, spaces, any case).
		if subtle.ConstantTimeCompare([]byte(canonicalMACID(pass)), []byte(dev.MACID)) == 1 {
			good, res.scheme = true, "basic-macid"
		}
	}
	if !good {
		res.reason = "wrong credentials or unknown device"
		return res, nil
	}
	res.dev = dev
	return res, nil
}

// lookup finds the device a username names (usernames are MACs). It returns
// nil, nil when there is none.
func (a *authenticator) lookup(ctx context.Context, username string) (*Device, error) {
	mac, err := NormalizeMAC(username)
	if err != nil {
		return nil, nil
	}
	dev, err := a.dir.DeviceByMAC(ctx, mac)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errDirectory, err)
	case dev == nil:
		return nil, nil
	}
	return dev, nil
}

// parseAuthParams parses the comma-separated auth-param list of an
// Authorization header (RFC 7235): token=token or token="quoted string".
// A repeated parameter is an error.
func parseAuthParams(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != ',' {
			i++
		}
		key := strings.ToLower(s[start:i])
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errors.New("auth param without value")
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated quoted string")
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' && s[i] != ' ' {
				i++
			}
			val.WriteString(s[start:i])
		}
		if _, dup := out[key]; dup {
			return nil, errors.New("repeated auth param")
		}
		out[key] = val.String()
	}
}

func writePlain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// canonicalMACID is a MAC-ID as the directory keeps it: upper case, no
// dashes or spaces.
func canonicalMACID(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// macIDSpellings are the ways a person may have typed the MAC-ID id (12
// characters) into a base or a browser: as kept, in lower case, and in
// the label's groups of four with dashes. A digest hides the spelling,
// so each is tried.
func macIDSpellings(id string) []string {
	out := []string{id, strings.ToLower(id)}
	if len(id) == 12 {
		dashed := id[:4] + "-" + id[4:8] + "-" + id[8:]
		out = append(out, dashed, strings.ToLower(dashed))
	}
	return out
}
