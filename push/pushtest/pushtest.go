// Package pushtest runs stand-ins for Apple's APNs and Google's FCM on
// loopback, HTTP/2 over TLS, for tests: they check each request as the
// real services do (the JWT's signature and claims, the headers, the
// payload), record the pushes, and answer as a test scripts them.
package pushtest

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Push is one notification a stand-in accepted.
type Push struct {
	Token  string
	Header http.Header
	Body   map[string]any
	At     time.Time
}

// answer is how a stand-in answers the pushes to one token.
type answer struct {
	status int
	reason string
	hang   bool
}

// server is what the two stand-ins share.
type server struct {
	t      testing.TB
	srv    *httptest.Server
	quit   chan struct{}
	pushes chan Push

	mu      sync.Mutex
	answers map[string]answer
	tried   map[string]int // requests per token, whatever the answer
}

func newServer(t testing.TB, h http.Handler) *server {
	s := &server{t: t, quit: make(chan struct{}), pushes: make(chan Push, 64), answers: map[string]answer{}, tried: map[string]int{}}
	s.srv = httptest.NewUnstartedServer(h)
	s.srv.EnableHTTP2 = true
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	// First (cleanups run last in, first out): release hanging handlers,
	// which Close waits for.
	t.Cleanup(func() { close(s.quit) })
	return s
}

// URL is the base URL of the service.
func (s *server) URL() string { return s.srv.URL }

// CAFile writes the certificate of the stand-in's TLS key, the authority
// a client must trust, to a PEM file in dir and returns its path.
func (s *server) CAFile(dir string) string {
	p := filepath.Join(dir, "push-ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(p, data, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// Roots is a pool with the stand-in's certificate.
func (s *server) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// Pushes delivers the pushes the stand-in accepted.
func (s *server) Pushes() <-chan Push { return s.pushes }

// Refuse makes the stand-in answer pushes to token with status and reason.
func (s *server) Refuse(token string, status int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = answer{status: status, reason: reason}
}

// Hang makes the stand-in never answer pushes to token (until the test
// ends): a slow service.
func (s *server) Hang(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = answer{hang: true}
}

// Tried is how many requests came for token.
func (s *server) Tried(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tried[token]
}

// answerFor counts a request for token and says how to answer it.
func (s *server) answerFor(token string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried[token]++
	return s.answers[token]
}

// hang blocks until the request or the test ends.
func (s *server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.quit:
	}
}

func (s *server) record(p Push) {
	select {
	case s.pushes <- p:
	default:
		s.t.Errorf("pushtest: more than %d pushes not read", cap(s.pushes))
	}
}
