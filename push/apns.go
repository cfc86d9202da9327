package push

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// APNsProduction is Apple's push service; APNsSandbox serves development
// builds of apps.
const (
	APNsProduction = "https://api.push.apple.com"
	APNsSandbox    = "https://api.sandbox.push.apple.com"
)

// APNsConfig is an APNs sender's configuration.
type APNsConfig struct {
	// KeyID and TeamID name the .p8 signing key and the developer team
	// (10 characters each); Key is that key.
	KeyID, TeamID string
	Key           *ecdsa.PrivateKey
	// BundleID is the app's; VoIP pushes go to topic <BundleID>.voip.
	BundleID string
	// URL is the service (default APNsProduction).
	URL string
	// Client sends the requests (default: one speaking HTTP/2 over TLS,
	// as APNs requires).
	Client *http.Client
	// Now is the clock of the JWT (default time.Now).
	Now func() time.Time
}

// APNs sends VoIP pushes through Apple's push notification service.
type APNs struct {
	cfg APNsConfig

	mu     sync.Mutex
	jwt    string
	issued time.Time
}

// jwtLifetime is how long a provider token is reused: Apple refuses a token
// older than an hour and one refreshed more often than every 20 minutes
// (429 TooManyProviderTokenUpdates).
const jwtLifetime = 40 * time.Minute

// NewAPNs returns an APNs sender.
func NewAPNs(cfg APNsConfig) (*APNs, error) {
	if cfg.KeyID == "" || cfg.TeamID == "" || cfg.Key == nil || cfg.BundleID == "" {
		return nil, errors.New("push: APNs needs a key id, a team id, a .p8 key and a bundle id")
	}
	if cfg.URL == "" {
		cfg.URL = APNsProduction
	}
	if cfg.Client == nil {
		cfg.Client = NewHTTP2Client(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &APNs{cfg: cfg}, nil
}

// NewHTTP2Client returns a client that speaks HTTP/2 over TLS; roots nil
// means the system's certificate authorities.
func NewHTTP2Client(roots *x509.CertPool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     10 * time.Minute,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// ParseP8 reads an APNs signing key: a PKCS #8 PEM holding a P-256 key.
func ParseP8(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("push: the APNs key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("push: the APNs key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("push: the APNs key is not an EC key")
	}
	return ec, nil
}

// token returns the current provider token, signing a new one when it is
// older than jwtLifetime.
func (a *APNs) token() (string, error) {
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jwt != "" && now.Sub(a.issued) < jwtLifetime {
		return a.jwt, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": a.cfg.TeamID, "iat": now.Unix()})
	t.Header["kid"] = a.cfg.KeyID
	s, err := t.SignedString(a.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("push: sign the APNs token: %w", err)
	}
	a.jwt, a.issued = s, now
	return s, nil
}

// apnsPayload is a VoIP push's body: PushKit hands it to the app, which
// reports the call to CallKit and registers.
type apnsPayload struct {
	APS      struct{} `json:"aps"`
	CallID   string   `json:"call-id"`
	UUID     string   `json:"uuid"`
	From     string   `json:"from"`
	FromName string   `json:"from-name,omitempty"`
}

// Send sends a VoIP push for n to the device.
func (a *APNs) Send(ctx context.Context, d Device, n Notification) error {
	tok, err := a.token()
	if err != nil {
		return err
	}
	body, err := json.Marshal(apnsPayload{CallID: n.ID, UUID: n.ID, From: n.From, FromName: n.FromName})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/3/device/"+url.PathEscape(d.Token), bytes.NewReader(body))
	if err != nil {
		return errors.New("push: APNs request for a malformed token")
	}
	exp := "0"
	if n.TTL > 0 {
		exp = strconv.FormatInt(a.cfg.Now().Add(n.TTL).Unix(), 10)
	}
	h := req.Header
	h.Set("authorization", "bearer "+tok)
	h.Set("apns-push-type", "voip")
	h.Set("apns-topic", a.cfg.BundleID+".voip")
	h.Set("apns-priority", "10")
	h.Set("apns-expiration", exp)
	h.Set("apns-id", newUUID())
	h.Set("content-type", "application/json")
	res, err := a.cfg.Client.Do(req)
	if err != nil {
		// The URL holds the token: say which service failed, not where.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("push: APNs: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil
	}
	var e struct {
		Reason string `json:"reason"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&e)
	gone := res.StatusCode == http.StatusGone ||
		(res.StatusCode == http.StatusBadRequest && (e.Reason == "BadDeviceToken" || e.Reason == "DeviceTokenNotForTopic"))
	return &Error{Service: "apns", Status: res.StatusCode, Reason: e.Reason, Gone: gone}
}
