package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/api"
	"pbx/features/voicemail"
	"pbx/recordings"
	"pbx/store"
)

// *store.Store must provide every method the API uses.
var (
	_ api.Store      = (*store.Store)(nil)
	_ api.TokenStore = (*store.Store)(nil)
	_ api.Voicemail  = (*voicemail.Service)(nil)
	_ api.Recordings = (*recordings.Admin)(nil)
)

const adminSecret = "test-admin-secret-0123456789"

// env is a running API on a real store in a temporary directory.
type env struct {
	t     *testing.T
	st    *store.Store
	srv   *httptest.Server
	admin string
	now   time.Time
	logs  *syncBuffer
	data  string // Options.DataDir
	recs  *recordings.Library
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stubProvisioning stands in for the provisioning package.
func stubProvisioning(ctx context.Context, mac, model string) (url, username, password, ha1md5, ha1sha256 string, hash []byte, err error) {
	username = "prov-" + mac
	password = "provisioning-password-" + mac
	return "https://prov.test/" + mac + ".cfg", username, password,
		store.HA1("MD5", username, "prov", password), store.HA1("SHA-256", username, "prov", password), []byte("hash-" + mac), nil
}

func newEnv(t *testing.T, tweak ...func(*api.Options)) *env {
	t.Helper()
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := api.EnsureAdminToken(ctx, st, adminSecret); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, admin: adminSecret, now: time.Now().UTC(), logs: &syncBuffer{}}
	opts := api.Options{
		Store:             st,
		BaseDomain:        "pbx.local",
		Logger:            slog.New(slog.NewJSONHandler(e.logs, nil)),
		IssueProvisioning: stubProvisioning,
		Now:               func() time.Time { return e.now },
		DataDir:           t.TempDir(),
	}
	opts.Voicemail = &voicemail.Service{Store: st, Dir: filepath.Join(opts.DataDir, "voicemail")}
	e.recs = &recordings.Library{Store: st, Dir: filepath.Join(opts.DataDir, "recordings"), Now: func() time.Time { return e.now }, Logger: opts.Logger}
	opts.Recordings = &recordings.Admin{Library: e.recs, Admin: st}
	for _, f := range tweak {
		f(&opts)
	}
	e.data = opts.DataDir
	e.srv = httptest.NewServer(api.New(opts))
	t.Cleanup(e.srv.Close)
	return e
}

// resp is an answer, decoded when it is JSON.
type resp struct {
	status int
	header http.Header
	raw    []byte
	obj    map[string]any
	arr    []any
}

func (r resp) str(key string) string {
	s, _ := r.obj[key].(string)
	return s
}

// fields lists the field names of a problem's errors array.
func (r resp) fields() []string {
	var out []string
	errs, _ := r.obj["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			f, _ := m["field"].(string)
			out = append(out, f)
		}
	}
	return out
}

// call sends body (a string is sent as is, anything else as JSON).
func (e *env) call(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	h := map[string]string{}
	if rd != nil {
		h["Content-Type"] = "application/json"
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return e.callWith(method, path, rd, h)
}

// callWith sends a request with exactly these headers.
func (e *env) callWith(method, path string, body io.Reader, headers map[string]string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	ct := res.Header.Get("Content-Type")
	if strings.Contains(ct, "json") && len(raw) > 0 {
		if raw[0] == '[' {
			err = json.Unmarshal(raw, &r.arr)
		} else {
			err = json.Unmarshal(raw, &r.obj)
		}
		if err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any) resp {
	e.t.Helper()
	r := e.call(method, path, token, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.raw)
	}
	return r
}

// tenant creates a tenant and a tenant-admin token for it.
func (e *env) tenant(name string) (id, token string) {
	e.t.Helper()
	r := e.must(201, "POST", "/api/v1/tenants", e.admin, map[string]any{"name": name})
	id = r.str("id")
	token, err := api.IssueToken(context.Background(), e.st, store.ScopeTenant, id, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return id, token
}

func (e *env) fullUser(tenant, token, ext string) string {
	e.t.Helper()
	return e.must(201, "POST", "/api/v1/tenants/"+tenant+"/users", token, map[string]any{
		"first_name": "User", "last_name": ext, "email": "u" + ext + "@example.com", "licence": "full", "extension": ext,
	}).str("id")
}

func (e *env) lightUser(tenant, token string) string {
	e.t.Helper()
	return e.must(201, "POST", "/api/v1/tenants/"+tenant+"/users", token, map[string]any{
		"first_name": "Lobby", "last_name": "Phone", "licence": "light",
	}).str("id")
}

func (e *env) device(tenant, token, user string, body map[string]any) resp {
	e.t.Helper()
	return e.must(201, "POST", "/api/v1/tenants/"+tenant+"/users/"+user+"/devices", token, body)
}

// isProblem fails unless r is a problem+json document with the given status.
func isProblem(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json\n%s", ct, r.raw)
	}
	for _, k := range []string{"type", "title", "detail"} {
		if r.str(k) == "" {
			t.Fatalf("problem without %s: %s", k, r.raw)
		}
	}
	if got, _ := r.obj["status"].(float64); int(got) != status {
		t.Fatalf("problem status member %v, want %d", r.obj["status"], status)
	}
}
