package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// APNs is a stand-in for Apple's push service with one team's signing
// key, checking token-based VoIP pushes to one app.
type APNs struct {
	*server
	KeyID, TeamID, BundleID string
	key                     *ecdsa.PrivateKey
}

// NewAPNs starts an APNs stand-in; it stops when the test ends.
func NewAPNs(t testing.TB, bundleID string) *APNs {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := &APNs{KeyID: "KEY0000001", TeamID: "TEAM000001", BundleID: bundleID, key: k}
	a.server = newServer(t, http.HandlerFunc(a.serve))
	return a
}

// P8 is the signing key as Apple hands it out: a PKCS #8 PEM file.
func (a *APNs) P8() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		a.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func (a *APNs) fail(w http.ResponseWriter, status int, reason string, why string, args ...any) {
	a.t.Errorf("pushtest: APNs refused a push: "+why, args...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"reason":%q}`, reason)
}

// serve checks a push as APNs does, then answers as scripted.
func (a *APNs) serve(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 {
		a.fail(w, 400, "BadRequest", "protocol %s, APNs speaks HTTP/2 only", r.Proto)
		return
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if r.Method != http.MethodPost || !ok || token == "" {
		a.fail(w, 405, "MethodNotAllowed", "%s %s", r.Method, r.URL.Path)
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("authorization"), "bearer ")
	if !ok {
		a.fail(w, 403, "MissingProviderToken", "no bearer token")
		return
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(bearer, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != a.KeyID {
			return nil, fmt.Errorf("kid %q", kid)
		}
		return &a.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(a.TeamID), jwt.WithIssuedAt())
	if err != nil || !tok.Valid {
		a.fail(w, 403, "InvalidProviderToken", "provider token: %v", err)
		return
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil || time.Since(iat.Time) > time.Hour {
		a.fail(w, 403, "ExpiredProviderToken", "iat %v", iat)
		return
	}
	h := r.Header
	for name, want := range map[string]string{"apns-push-type": "voip", "apns-topic": a.BundleID + ".voip", "apns-priority": "10"} {
		if got := h.Get(name); got != want {
			a.fail(w, 400, "BadRequest", "%s: %q, want %q", name, got, want)
			return
		}
	}
	if _, err := fmt.Sscan(h.Get("apns-expiration"), new(int64)); err != nil {
		a.fail(w, 400, "BadExpirationDate", "apns-expiration %q", h.Get("apns-expiration"))
		return
	}
	var body map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 5120)).Decode(&body); err != nil {
		a.fail(w, 413, "PayloadTooLarge", "payload: %v", err)
		return
	}
	if _, ok := body["aps"].(map[string]any); !ok {
		a.fail(w, 400, "PayloadEmpty", "payload has no aps dictionary: %v", body)
		return
	}
	if id, _ := body["call-id"].(string); id == "" {
		a.fail(w, 400, "BadRequest", "payload has no call-id: %v", body)
		return
	}
	switch ans := a.answerFor(token); {
	case ans.hang:
		a.hang(r)
		return
	case ans.status != 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ans.status)
		fmt.Fprintf(w, `{"reason":%q}`, ans.reason)
		return
	}
	a.record(Push{Token: token, Header: h.Clone(), Body: body, At: time.Now()})
	w.Header().Set("apns-id", h.Get("apns-id"))
	w.WriteHeader(http.StatusOK)
}
