// Package smtptest gives tests a real SMTP server on loopback: Debian's
// aiosmtpd (package python3-aiosmtpd), offering STARTTLS with a
// certificate made for the test and requiring it, delivering every mail
// into a Maildir the test reads. It is stopped when the test ends.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// InstallHint says how to get the server.
const InstallHint = "install it with `apt-get install -y python3-aiosmtpd` (or run interop/install-tools.sh)"

// Server is a running aiosmtpd.
type Server struct {
	Addr string // 127.0.0.1:port
	// TLS trusts the server's certificate (for the client's STARTTLS).
	TLS *tls.Config
	// CertFile is the server's certificate (PEM), for a client configured
	// by file.
	CertFile string
	dir      string // the Maildir
}

// python finds an interpreter that has aiosmtpd: Debian's, whatever else
// is first on PATH.
func python() (string, error) {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path, nil
		}
	}
	return "", exec.ErrNotFound
}

// Start starts a server for t.
func Start(t *testing.T) *Server {
	t.Helper()
	py, err := python()
	if err != nil {
		t.Fatalf("smtptest: no python3 with aiosmtpd: %s", InstallHint)
	}
	dir := t.TempDir()
	certFile, keyFile, pool := makeCert(t, dir)
	// A free port: bound by us, then handed over (aiosmtpd binds it a
	// moment later; on loopback nothing else takes it meanwhile).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		CertFile: certFile, dir: filepath.Join(dir, "maildir")}
	cmd := exec.Command(py, "-m", "aiosmtpd", "-n", "-l", s.Addr, "--tlscert", certFile, "--tlskey", keyFile,
		"-c", "aiosmtpd.handlers.Mailbox", s.dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("smtptest: start aiosmtpd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-exited:
			t.Fatalf("smtptest: aiosmtpd exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("smtptest: aiosmtpd did not start listening")
		}
	}
}

// Messages returns the mails delivered so far, oldest first.
func (s *Server) Messages(t *testing.T) []*mail.Message {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.dir, "new", "*"))
	var infos []os.FileInfo
	byName := map[string]string{}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			infos = append(infos, fi)
			byName[fi.Name()] = f
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ModTime().Before(infos[j].ModTime()) })
	var out []*mail.Message
	for _, fi := range infos {
		f, err := os.Open(byName[fi.Name()])
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(f)
		if err != nil {
			f.Close()
			t.Fatalf("smtptest: %s: %v", fi.Name(), err)
		}
		body, err := readAll(m)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		m.Body = body
		out = append(out, m)
	}
	return out
}

// WaitMessages waits until n mails were delivered.
func (s *Server) WaitMessages(t *testing.T, n int) []*mail.Message {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if ms := s.Messages(t); len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d mails delivered, want %d", len(s.Messages(t)), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeCert writes a self-signed certificate for 127.0.0.1.
func makeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func readAll(m *mail.Message) (io.Reader, error) {
	b, err := io.ReadAll(m.Body)
	return bytes.NewReader(b), err
}

// Attachment returns the decoded first part of a multipart mail whose
// media type is mediaType; nil when there is none.
func Attachment(t *testing.T, m *mail.Message, mediaType string) []byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("smtptest: not a multipart mail: %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt != mediaType {
			continue
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}
