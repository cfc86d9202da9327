package pushtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FCM is a stand-in for Firebase Cloud Messaging's HTTP v1 API and for
// Google's OAuth2 token endpoint, with one service account.
type FCM struct {
	*server
	Project, Email string
	key            *rsa.PrivateKey

	mu     sync.Mutex
	access map[string]bool // access tokens issued
	minted int
}

// NewFCM starts an FCM stand-in; it stops when the test ends.
func NewFCM(t testing.TB, project string) *FCM {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &FCM{Project: project, Email: "pbx@" + project + ".iam.gserviceaccount.com", key: k, access: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.server = newServer(t, mux)
	return f
}

// ServiceAccount is the service account's JSON key file, whose token_uri
// is this stand-in's token endpoint.
func (f *FCM) ServiceAccount() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": f.Project, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": f.Email, "client_id": "1", "token_uri": f.URL() + "/token",
	})
	return b
}

// Minted is how many access tokens the endpoint issued.
func (f *FCM) Minted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.minted
}

// token is the OAuth2 JWT-bearer grant (RFC 7523) as Google serves it.
func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		f.t.Errorf("pushtest: token request %v: %v", r.PostForm, err)
		http.Error(w, `{"error":"unsupported_grant_type"}`, 400)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &f.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(f.Email), jwt.WithAudience(f.URL()+"/token"), jwt.WithExpirationRequired())
	if scope, _ := claims["scope"].(string); err == nil && !strings.Contains(scope, "https://www.googleapis.com/auth/firebase.messaging") {
		err = fmt.Errorf("scope %q", scope)
	}
	if err != nil {
		f.t.Errorf("pushtest: token assertion: %v", err)
		http.Error(w, `{"error":"invalid_grant"}`, 400)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	at := "ya29." + hex.EncodeToString(b)
	f.mu.Lock()
	f.access[at] = true
	f.minted++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3599}`, at)
}

func (f *FCM) reply(w http.ResponseWriter, status int, s, code string) {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", "_"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"refused","status":%q,"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}]}}`, status, s, code)
}

// send checks a message as FCM does, then answers as scripted.
func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 {
		f.t.Errorf("pushtest: FCM request over %s", r.Proto)
	}
	at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.access[at]
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("pushtest: FCM request without a valid access token")
		f.reply(w, 401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")
		return
	}
	if p := r.PathValue("project"); p != f.Project {
		f.t.Errorf("pushtest: FCM project %q, want %q", p, f.Project)
		f.reply(w, 403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")
		return
	}
	var m struct {
		Message struct {
			Token   string         `json:"token"`
			Data    map[string]any `json:"data"`
			Android struct {
				Priority string `json:"priority"`
			} `json:"android"`
		} `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&m); err != nil || m.Message.Token == "" {
		f.t.Errorf("pushtest: FCM message: %v", err)
		f.reply(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
		return
	}
	for k, v := range m.Message.Data {
		if _, ok := v.(string); !ok {
			f.t.Errorf("pushtest: FCM data %q is not a string", k)
			f.reply(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
			return
		}
	}
	if m.Message.Android.Priority != "high" || m.Message.Data["call-id"] == "" || m.Message.Data["call-id"] == nil {
		f.t.Errorf("pushtest: FCM wake-up not a high-priority call message: %+v", m.Message)
		f.reply(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
		return
	}
	switch ans := f.answerFor(m.Message.Token); {
	case ans.hang:
		f.hang(r)
		return
	case ans.status != 0:
		f.reply(w, ans.status, http.StatusText(ans.status), ans.reason)
		return
	}
	body := map[string]any{"data": m.Message.Data, "priority": m.Message.Android.Priority}
	f.record(Push{Token: m.Message.Token, Header: r.Header.Clone(), Body: body, At: time.Now()})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"name":"projects/%s/messages/%d"}`, f.Project, time.Now().UnixNano())
}
