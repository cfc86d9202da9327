package provisioning

import (
	"bytes"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"
)

// Realm is the HTTP digest realm of every provisioning credential. It is part
// of the stored HA1 values: changing it invalidates every issued credential.
const Realm = "pbx-provisioning"

// PathPrefix is where the handler serves files.
const PathPrefix = "/prov/"

// Credentials are what is issued when a device is created with a MAC. The
// password is shown once (REST response) and never stored: keep HA1MD5,
// HA1SHA256 and PasswordHash.
type Credentials struct {
	Username     string // the device's MAC, 12 lower-case hex digits
	Password     string // 24 random characters from a 32-letter alphabet (120 bits)
	HA1MD5       string // hex MD5(username:Realm:password)
	HA1SHA256    string // hex SHA-256(username:Realm:password)
	PasswordHash []byte // for basic over TLS, see NewCredentials
}

// passwordAlphabet avoids letters that are easy to confuse when a password has
// to be typed into a Gigaset or Yealink web UI (no 0/o, 1/l/i).
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789AB"

// NewCredentials issues a provisioning credential for the device with this MAC.
//
// The username is the MAC itself (12 lower-case hex digits): it names the
// device that authenticates, which is then checked against the MAC of the file
// requested. The password is random; type it exactly as given, since digest
// hashes are case-sensitive.
//
// PasswordHash has the form "pbkdf2-sha256$<iterations>$<salt>$<key>" with the
// salt (16 bytes) and key (32 bytes) in unpadded standard base64. The password
// is random and long, so the iteration count only needs to make a leaked hash
// not worth attacking offline, not to stretch a human password.
func NewCredentials(mac string) (Credentials, error) {
	m, err := NormalizeMAC(mac)
	if err != nil {
		return Credentials{}, err
	}
	pw, err := randomPassword(24)
	if err != nil {
		return Credentials{}, err
	}
	return CredentialsFor(m, pw)
}

// CredentialsFor derives the stored values for a given username and password
// (for tests, and for re-hashing a password an operator chose).
func CredentialsFor(username, password string) (Credentials, error) {
	h, err := hashPassword(password)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		Username:     username,
		Password:     password,
		HA1MD5:       ha1(md5.New, username, password),
		HA1SHA256:    ha1(sha256.New, username, password),
		PasswordHash: h,
	}, nil
}

// ProvisioningURL is the URL to hand out for a device: the directory URL
// (base) for Yealink, whose phones append the file names themselves, and the
// file's own URL for Gigaset, since Nx70 bases prefer a URL pointing at the
// file and the redirect service stores a URL per MAC. base is
// Server.ProvisioningURL (e.g. "https://prov.example.be/prov/").
func ProvisioningURL(base string, m Model, mac string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("provisioning: invalid base URL %q", base)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	mac, err = NormalizeMAC(mac)
	if err != nil {
		return "", err
	}
	if m.Vendor == Gigaset {
		return base + m.FileName(mac), nil
	}
	return base, nil
}

func randomPassword(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("provisioning: random password: %w", err)
	}
	for i := range b {
		b[i] = passwordAlphabet[int(b[i])%len(passwordAlphabet)] // 256 % 32 == 0: no bias
	}
	return string(b), nil
}

func ha1[H hash.Hash](newHash func() H, username, password string) string {
	h := newHash()
	h.Write([]byte(username + ":" + Realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil))
}

const (
	pbkdf2Iterations = 20000
	pbkdf2Prefix     = "pbkdf2-sha256"
)

func hashPassword(password string) ([]byte, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("provisioning: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, pbkdf2Iterations, 32)
	if err != nil {
		return nil, err
	}
	enc := base64.RawStdEncoding
	return fmt.Appendf(nil, "%s$%d$%s$%s", pbkdf2Prefix, pbkdf2Iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// dummyHash is checked against when no device matched, so that an unknown
// username costs the same time as a wrong password.
var dummyHash, _ = hashPassword("unknown device")

// verifyPassword checks a password against a hash made by hashPassword.
func verifyPassword(stored []byte, password string) bool {
	parts := bytes.Split(stored, []byte("$"))
	if len(parts) != 4 || string(parts[0]) != pbkdf2Prefix {
		return false
	}
	iter, err := strconv.Atoi(string(parts[1]))
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(string(parts[2]))
	want, err2 := enc.DecodeString(string(parts[3]))
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}
