package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// FCMProduction is Firebase Cloud Messaging's HTTP v1 service.
const FCMProduction = "https://fcm.googleapis.com"

// fcmScope is the OAuth2 scope of sending messages.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// FCMConfig is an FCM sender's configuration.
type FCMConfig struct {
	// ServiceAccount is the service account's JSON key file as Google
	// issues it (client_email, private_key, token_uri, project_id).
	ServiceAccount []byte
	// URL is the service (default FCMProduction).
	URL string
	// Client sends the messages and fetches the access tokens (default:
	// an HTTP/2 client with the system's authorities).
	Client *http.Client
}

// FCM sends high-priority data messages through FCM's HTTP v1 API.
type FCM struct {
	url     string
	project string
	client  *http.Client
	tokens  oauth2.TokenSource
}

// NewFCM returns an FCM sender. Access tokens are minted with the OAuth2
// JWT-bearer grant at the service account's token_uri and reused until
// they expire (golang.org/x/oauth2 caches and refreshes them).
func NewFCM(cfg FCMConfig) (*FCM, error) {
	jc, err := google.JWTConfigFromJSON(cfg.ServiceAccount, fcmScope)
	if err != nil {
		// The error of a malformed file may quote it: say only what failed.
		return nil, errors.New("push: the FCM service account file is not a service account key")
	}
	var sa struct {
		ProjectID string `json:"project_id"`
	}
	_ = json.Unmarshal(cfg.ServiceAccount, &sa)
	if cfg.URL == "" {
		cfg.URL = FCMProduction
	}
	if cfg.Client == nil {
		cfg.Client = NewHTTP2Client(nil)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, cfg.Client)
	return &FCM{url: cfg.URL, project: sa.ProjectID, client: cfg.Client, tokens: jc.TokenSource(ctx)}, nil
}

type fcmMessage struct {
	Message struct {
		Token   string            `json:"token"`
		Data    map[string]string `json:"data"`
		Android struct {
			Priority string `json:"priority"`
			TTL      string `json:"ttl,omitempty"`
		} `json:"android"`
	} `json:"message"`
}

// Send sends a data message for n to the device. Its project is the
// binding's pn-param (RFC 8599 §11), else the service account's.
func (f *FCM) Send(ctx context.Context, d Device, n Notification) error {
	project := d.Param
	if project == "" {
		project = f.project
	}
	tok, err := f.tokens.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return fmt.Errorf("push: FCM access token: HTTP %d", re.Response.StatusCode)
		}
		return errors.New("push: FCM access token: the token endpoint failed")
	}
	var m fcmMessage
	m.Message.Token = d.Token
	m.Message.Data = map[string]string{"type": "call", "call-id": n.ID, "uuid": n.ID, "from": n.From, "from-name": n.FromName}
	m.Message.Android.Priority = "high"
	if n.TTL > 0 {
		m.Message.Android.TTL = strconv.Itoa(int(n.TTL.Seconds())) + "s"
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/v1/projects/"+url.PathEscape(project)+"/messages:send", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("push: FCM: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 8192)).Decode(&e)
	reason := e.Error.Status
	for _, det := range e.Error.Details {
		if det.ErrorCode != "" {
			reason = det.ErrorCode
		}
	}
	// 404 UNREGISTERED: the app was removed or the token expired; 400
	// INVALID_ARGUMENT: the token is not one (the message itself is ours
	// and well formed).
	gone := reason == "UNREGISTERED" || res.StatusCode == http.StatusNotFound ||
		(res.StatusCode == http.StatusBadRequest && reason == "INVALID_ARGUMENT")
	return &Error{Service: "fcm", Status: res.StatusCode, Reason: reason, Gone: gone}
}
