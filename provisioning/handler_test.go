package provisioning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// env is a provisioning server on a loopback port with the fixtures loaded.
type env struct {
	srv     *httptest.Server
	dir     *fakeDir
	devs    map[string]provisioned
	logs    *syncBuffer
	clock   *fakeClock
	handler http.Handler
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

// records returns the JSON log records written so far.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(t *testing.T, tlsServer bool, mod func(*Options)) *env {
	t.Helper()
	dir, devs := withCredentials(t, fixtures())
	e := &env{dir: dir, devs: devs, logs: &syncBuffer{}, clock: &fakeClock{t: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)}}
	opt := Options{
		Directory: dir,
		Server:    testServer,
		Logger:    slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RateLimit: RateLimit{PerSecond: -1},
		Now:       e.clock.Now,
	}
	if mod != nil {
		mod(&opt)
	}
	e.handler = NewHandler(opt)
	if tlsServer {
		e.srv = httptest.NewTLSServer(e.handler)
	} else {
		e.srv = httptest.NewServer(e.handler)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// baseTransport is the test server's own transport (trusts its certificate).
func (e *env) baseTransport() http.RoundTripper {
	return e.srv.Client().Transport
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get fetches path with a real digest client (github.com/icholy/digest) and
// the given User-Agent. alg picks the challenge the client answers ("MD5" or
// "SHA-256"); empty user means no credentials at all.
func (e *env) get(t *testing.T, path, ua, user, pass, alg string) response {
	t.Helper()
	rt := e.baseTransport()
	if user != "" {
		dt := &digest.Transport{Username: user, Password: pass, Transport: rt}
		if alg != "" {
			dt.FindChallenge = func(h http.Header) (*digest.Challenge, error) {
				for _, v := range h.Values("WWW-Authenticate") {
					if c, err := digest.ParseChallenge(v); err == nil && strings.EqualFold(c.Algorithm, alg) {
						return c, nil
					}
				}
				return nil, digest.ErrNoChallenge
			}
		}
		rt = dt
	}
	return e.do(t, rt, http.MethodGet, path, ua, nil)
}

func (e *env) do(t *testing.T, rt http.RoundTripper, method, path, ua string, hdr http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

// fetch gets a device's own file with its own credentials and User-Agent.
func (e *env) fetch(t *testing.T, name string) response {
	t.Helper()
	p := e.devs[name]
	m, _ := LookupModel(p.dev.Model)
	return e.get(t, PathPrefix+m.FileName(p.dev.MAC), p.ua, p.dev.MAC, p.password, "")
}

// sameDenial checks that two refusals are indistinguishable: status, body and
// headers (the nonce aside, which is fresh in every challenge).
func sameDenial(t *testing.T, what string, a, b response) {
	t.Helper()
	if a.status != http.StatusUnauthorized || b.status != http.StatusUnauthorized {
		t.Fatalf("%s: status %d and %d, want 401 both", what, a.status, b.status)
	}
	if !bytes.Equal(a.body, b.body) {
		t.Errorf("%s: bodies differ: %q vs %q", what, a.body, b.body)
	}
	norm := func(h http.Header) string {
		h = h.Clone()
		h.Del("Date")
		var vs []string
		for _, v := range h.Values("WWW-Authenticate") {
			if i := strings.Index(v, `nonce="`); i >= 0 {
				j := strings.Index(v[i+7:], `"`)
				v = v[:i+7] + "N" + v[i+7+j:]
			}
			vs = append(vs, v)
		}
		h["Www-Authenticate"] = vs
		var b strings.Builder
		h.Write(&b)
		return b.String()
	}
	if na, nb := norm(a.header), norm(b.header); na != nb {
		t.Errorf("%s: headers differ:\n%s\nvs\n%s", what, na, nb)
	}
}

func TestServeRightFileToRightDevice(t *testing.T) {
	e := newEnv(t, false, nil)
	for name, p := range e.devs {
		t.Run(name, func(t *testing.T) {
			res := e.fetch(t, name)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			want, err := DeviceFile(&p.dev, testServer)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.body, want.Body) {
				t.Error("served file differs from the generated one")
			}
			if ct := res.header.Get("Content-Type"); ct != want.ContentType {
				t.Errorf("Content-Type %q, want %q", ct, want.ContentType)
			}
			if cc := res.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			m, _ := LookupModel(p.dev.Model)
			parseStrict(t, m, res.body)
			// Yealink: the common file of the model, to the same device.
			for _, c := range m.CommonFiles[:min(1, len(m.CommonFiles))] {
				r := e.get(t, PathPrefix+c, p.ua, p.dev.MAC, p.password, "")
				if r.status != http.StatusOK {
					t.Fatalf("common file %s: status %d", c, r.status)
				}
				if bytes.Contains(r.body, []byte(p.dev.Accounts[0].SIPPassword)) {
					t.Error("common file carries a SIP password")
				}
			}
		})
	}
}

func TestFileNameVariantsAccepted(t *testing.T) {
	e := newEnv(t, false, nil)
	n510 := e.devs["gigaset-n510"]
	t54w := e.devs["yealink-t5x-t54w"]
	for _, tc := range []struct {
		p    provisioned
		path string
	}{
		{n510, "/prov/7C2F80A1B2C3.xml"}, // as the N510 asks
		{n510, "/prov/7c2f80a1b2c3.xml"}, // lower case (Nx70 case is [U])
		{t54w, "/prov/805ec0a1b2c3.cfg"}, // as Yealink asks
		{t54w, "/prov/805EC0A1B2C3.cfg"},
	} {
		if r := e.get(t, tc.path, tc.p.ua, tc.p.dev.MAC, tc.p.password, ""); r.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.path, r.status)
		}
	}
	// A Yealink does not get a Gigaset-format file, and the other way round.
	if r := e.get(t, "/prov/805ec0a1b2c3.xml", t54w.ua, t54w.dev.MAC, t54w.password, ""); r.status != http.StatusNotFound {
		t.Errorf("T54W asking for .xml: status %d, want 404", r.status)
	}
	// A T54W does not get the T46S common file.
	if r := e.get(t, "/prov/y000000000066.cfg", t54w.ua, t54w.dev.MAC, t54w.password, ""); r.status != http.StatusNotFound {
		t.Errorf("T54W asking for the T46S common file: status %d, want 404", r.status)
	}
}

func TestSHA256Digest(t *testing.T) {
	e := newEnv(t, false, nil)
	p := e.devs["yealink-t5x-t54w"]
	r := e.get(t, "/prov/805ec0a1b2c3.cfg", p.ua, p.dev.MAC, p.password, "SHA-256")
	if r.status != http.StatusOK {
		t.Fatalf("SHA-256 digest: status %d", r.status)
	}
	recs := e.logs.records(t)
	if last := recs[len(recs)-1]; last["auth"] != "digest-sha256" {
		t.Errorf("logged auth %v, want digest-sha256", last["auth"])
	}
}

func TestChallengeOffersMD5AndSHA256(t *testing.T) {
	e := newEnv(t, false, nil)
	r := e.get(t, "/prov/805ec0a1b2c3.cfg", "", "", "", "")
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d", r.status)
	}
	var algs []string
	for _, v := range r.header.Values("WWW-Authenticate") {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if c.Realm != Realm || !c.SupportsQOP("auth") {
			t.Errorf("challenge %q", v)
		}
		algs = append(algs, c.Algorithm)
	}
	if !slices.Equal(algs, []string{"MD5", "SHA-256"}) {
		t.Errorf("algorithms %v", algs)
	}
	for _, v := range r.header.Values("WWW-Authenticate") {
		if strings.HasPrefix(v, "Basic") {
			t.Error("basic offered over plain HTTP")
		}
	}
}

func TestDenialsAreIndistinguishable(t *testing.T) {
	e := newEnv(t, false, nil)
	t54w := e.devs["yealink-t5x-t54w"]
	t46s := e.devs["yealink-t4x-t46s"]
	ua := t54w.ua
	wrongPassword := e.get(t, "/prov/805ec0a1b2c3.cfg", ua, t54w.dev.MAC, "not-the-password", "")
	unknownMAC := e.get(t, "/prov/805ec0999999.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:99:99:99", "805ec0999999", "whatever", "")
	otherDevice := e.get(t, "/prov/805ec0a1b2c3.cfg", "", t46s.dev.MAC, t46s.password, "")
	noCredsKnown := e.get(t, "/prov/805ec0a1b2c3.cfg", ua, "", "", "")
	noCredsUnknown := e.get(t, "/prov/805ec0999999.cfg", ua, "", "", "")
	sameDenial(t, "wrong password vs unknown MAC", wrongPassword, unknownMAC)
	sameDenial(t, "wrong password vs another device's credentials", wrongPassword, otherDevice)
	sameDenial(t, "no credentials, known vs unknown MAC", noCredsKnown, noCredsUnknown)
	sameDenial(t, "no credentials vs wrong password", noCredsKnown, wrongPassword)
	for _, r := range []response{wrongPassword, unknownMAC, otherDevice} {
		if bytes.Contains(r.body, []byte("805ec0")) || bytes.Contains(r.body, []byte("pw-")) {
			t.Errorf("denial body leaks something: %q", r.body)
		}
	}
}

func TestMACMismatch(t *testing.T) {
	e := newEnv(t, false, nil)
	t54w := e.devs["yealink-t5x-t54w"]
	t46s := e.devs["yealink-t4x-t46s"]
	// T46S credentials, T46S User-Agent, T54W file.
	r := e.get(t, "/prov/805ec0a1b2c3.cfg", t46s.ua, t46s.dev.MAC, t46s.password, "")
	if r.status != http.StatusUnauthorized || bytes.Contains(r.body, []byte("pw-")) {
		t.Errorf("another device's file: status %d", r.status)
	}
	// Right credentials and file, but the User-Agent carries another MAC.
	r = e.get(t, "/prov/805ec0a1b2c3.cfg", t46s.ua, t54w.dev.MAC, t54w.password, "")
	if r.status != http.StatusUnauthorized {
		t.Errorf("User-Agent MAC mismatch: status %d, want 401", r.status)
	}
	// Without a MAC in the User-Agent the path and credentials decide.
	r = e.get(t, "/prov/805ec0a1b2c3.cfg", "curl/8.0", t54w.dev.MAC, t54w.password, "")
	if r.status != http.StatusOK {
		t.Errorf("no MAC in User-Agent: status %d, want 200", r.status)
	}
	// Gigaset: the N510's credentials do not open the N720's file.
	n510 := e.devs["gigaset-n510"]
	r = e.get(t, "/prov/7C2F80CA21E4.xml", n510.ua, n510.dev.MAC, n510.password, "")
	if r.status != http.StatusUnauthorized {
		t.Errorf("N510 fetching N720 file: status %d", r.status)
	}
}

func TestCrossTenant(t *testing.T) {
	e := newEnv(t, false, nil)
	a := e.devs["yealink-t5x-t54w"] // tenant A
	for _, name := range []string{"yealink-cp9xx-cp965", "gigaset-nx70-n870", "yealink-t5x-t53w-light"} {
		b := e.devs[name] // tenant B
		if a.dev.TenantID == b.dev.TenantID {
			t.Fatal("fixtures: same tenant")
		}
		m, _ := LookupModel(b.dev.Model)
		path := PathPrefix + m.FileName(b.dev.MAC)
		for _, ua := range []string{a.ua, b.ua, ""} {
			r := e.get(t, path, ua, a.dev.MAC, a.password, "")
			if r.status != http.StatusUnauthorized {
				t.Errorf("tenant A device fetching %s (UA %q): status %d", path, ua, r.status)
			}
			for _, acc := range b.dev.Accounts {
				if bytes.Contains(r.body, []byte(acc.SIPPassword)) {
					t.Errorf("tenant B secret served to tenant A")
				}
			}
		}
	}
}

// TestNoSecretCrossesDevices fetches every device's file and checks that no
// SIP password of another device, and no provisioning password at all, is in
// it.
func TestNoSecretCrossesDevices(t *testing.T) {
	e := newEnv(t, false, nil)
	bodies := map[string][]byte{}
	for name := range e.devs {
		r := e.fetch(t, name)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", name, r.status)
		}
		bodies[name] = r.body
	}
	for _, c := range []string{"y000000000066.cfg", "y000000000096.cfg", "y000000000095.cfg", "y000000000143.cfg"} {
		f, _ := CommonFile(c, testServer)
		bodies["common "+c] = f.Body
	}
	for owner, p := range e.devs {
		for name, body := range bodies {
			if bytes.Contains(body, []byte(p.password)) {
				t.Errorf("provisioning password of %s in %s", owner, name)
			}
			if name == owner {
				continue
			}
			for _, a := range p.dev.Accounts {
				if bytes.Contains(body, []byte(a.SIPPassword)) {
					t.Errorf("SIP password of %s (%s) in the file of %s", owner, a.SIPUsername, name)
				}
			}
		}
	}
	// And each device's own passwords are in its own file.
	for name, p := range e.devs {
		m, _ := LookupModel(p.dev.Model)
		acc, _, _ := effectiveAccounts(&p.dev, m)
		for _, a := range acc {
			if !bytes.Contains(bodies[name], []byte(a.SIPPassword)) {
				t.Errorf("%s: own password of %s missing", name, a.SIPUsername)
			}
		}
	}
}

func TestLightLicenceOverHTTP(t *testing.T) {
	e := newEnv(t, false, nil)
	r := e.fetch(t, "yealink-t5x-t53w-light")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if bytes.Contains(r.body, []byte("linekey.2.type = 16")) || bytes.Contains(r.body, []byte("= 16\n")) ||
		bytes.Contains(r.body, []byte("Should not appear")) {
		t.Error("light licence device got BLF keys")
	}
	if bytes.Contains(r.body, []byte("account.2.enable = 1")) {
		t.Error("light licence device got a second account")
	}
}

func TestChangesShowInNextFile(t *testing.T) {
	e := newEnv(t, false, nil)
	name := "yealink-t5x-t54w"
	mac := e.devs[name].dev.MAC
	before := e.fetch(t, name)
	if before.status != http.StatusOK || !bytes.Contains(before.body, []byte("linekey.2.value = 201")) {
		t.Fatalf("first fetch: %d", before.status)
	}
	e.dir.update(mac, func(d *Device) {
		d.BLF[0] = BLFKey{Target: "205", Label: "Eva"}
		d.Accounts[0].SIPPassword = "pw-rotated-T54W-02"
		d.Accounts[0].DisplayName = "Benoît Dupont-Renamed"
		d.Language = "nl"
	})
	after := e.fetch(t, name)
	if after.status != http.StatusOK {
		t.Fatalf("second fetch: %d", after.status)
	}
	for _, want := range []string{"linekey.2.value = 205", "linekey.2.label = Eva", "account.1.password = pw-rotated-T54W-02", "Dupont-Renamed", "lang.gui = Dutch"} {
		if !bytes.Contains(after.body, []byte(want)) {
			t.Errorf("next file lacks %q", want)
		}
	}
	if bytes.Contains(after.body, []byte("pw-benoit-T54W-01")) || bytes.Contains(after.body, []byte("linekey.2.value = 201")) {
		t.Error("next file still has the old password or key")
	}
	if before.header.Get("ETag") == after.header.Get("ETag") {
		t.Error("ETag unchanged")
	}

	// Rotating the provisioning credential: the old password stops working.
	c, err := NewCredentials(mac)
	if err != nil {
		t.Fatal(err)
	}
	e.dir.update(mac, func(d *Device) {
		d.ProvHA1MD5, d.ProvHA1SHA256, d.ProvPasswordHash = c.HA1MD5, c.HA1SHA256, c.PasswordHash
	})
	if r := e.fetch(t, name); r.status != http.StatusUnauthorized {
		t.Errorf("old provisioning password: status %d, want 401", r.status)
	}
	p := e.devs[name]
	if r := e.get(t, "/prov/805ec0a1b2c3.cfg", p.ua, mac, c.Password, ""); r.status != http.StatusOK {
		t.Errorf("new provisioning password: status %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, false, func(o *Options) {
		o.RateLimit = RateLimit{PerSecond: 1, Burst: 3}
		o.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	plain := e.baseTransport()
	hdr := func(ip string) http.Header { return http.Header{"X-Test-Client": {ip}} }
	for i := 0; i < 3; i++ {
		if r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", "", hdr("192.0.2.1")); r.status != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d", i, r.status)
		}
	}
	r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", "", hdr("192.0.2.1"))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th request: status %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Another address has its own bucket.
	if r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", "", hdr("192.0.2.2")); r.status != http.StatusUnauthorized {
		t.Errorf("other address: status %d", r.status)
	}
	// A rate-limited request never reaches the directory.
	e.dir.mu.Lock()
	calls := e.dir.calls
	e.dir.mu.Unlock()
	if calls != 0 {
		t.Errorf("directory called %d times", calls)
	}
	e.clock.Advance(1100 * time.Millisecond)
	if r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", "", hdr("192.0.2.1")); r.status != http.StatusUnauthorized {
		t.Errorf("after refill: status %d", r.status)
	}
}

func TestStaleNonce(t *testing.T) {
	e := newEnv(t, false, func(o *Options) { o.NonceLifetime = time.Minute })
	p := e.devs["yealink-t5x-t54w"]
	plain := e.baseTransport()
	first := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", p.ua, nil)
	chal, err := digest.FindChallenge(first.header)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "GET", URI: "/prov/805ec0a1b2c3.cfg", Username: p.dev.MAC, Password: p.password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	auth := http.Header{"Authorization": {cred.String()}}
	if r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", p.ua, auth); r.status != http.StatusOK {
		t.Fatalf("fresh nonce: status %d", r.status)
	}
	e.clock.Advance(2 * time.Minute)
	r := e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", p.ua, auth)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "stale=true") {
		t.Errorf("expired nonce: status %d, challenge %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	// The digest client recovers by itself with the fresh nonce.
	if r := e.get(t, "/prov/805ec0a1b2c3.cfg", p.ua, p.dev.MAC, p.password, ""); r.status != http.StatusOK {
		t.Errorf("after stale: status %d", r.status)
	}
	// A forged nonce is refused without stale.
	flip := map[byte]byte{'A': 'B'}[chal.Nonce[20]]
	if flip == 0 {
		flip = 'A'
	}
	forgedNonce := chal.Nonce[:20] + string(flip) + chal.Nonce[21:]
	forged := strings.Replace(cred.String(), chal.Nonce, forgedNonce, 1)
	r = e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", p.ua, http.Header{"Authorization": {forged}})
	if r.status != http.StatusUnauthorized || strings.Contains(r.header.Get("WWW-Authenticate"), "stale") {
		t.Errorf("forged nonce: status %d", r.status)
	}
	// A response computed for another URI is refused.
	other, _ := digest.Digest(chal, digest.Options{Method: "GET", URI: "/prov/y000000000096.cfg", Username: p.dev.MAC, Password: p.password, Count: 2})
	e.clock.Advance(-2 * time.Minute)
	r = e.do(t, plain, "GET", "/prov/805ec0a1b2c3.cfg", p.ua, http.Header{"Authorization": {other.String()}})
	if r.status != http.StatusUnauthorized {
		t.Errorf("digest for another URI: status %d", r.status)
	}
}

func TestBasicOnlyOverTLS(t *testing.T) {
	p := fixtures()[1] // T54W
	basic := func(e *env, user, pass string) response {
		req := http.Header{}
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		req.Set("Authorization", r.Header.Get("Authorization"))
		return e.do(t, e.baseTransport(), "GET", "/prov/805ec0a1b2c3.cfg", p.ua, req)
	}

	e := newEnv(t, true, nil)
	pw := e.devs[p.name].password
	if r := basic(e, p.dev.MAC, pw); r.status != http.StatusOK {
		t.Errorf("basic over TLS: status %d", r.status)
	}
	wrong := basic(e, p.dev.MAC, "wrong")
	unknown := basic(e, "805ec0999999", pw)
	sameDenial(t, "basic: wrong password vs unknown user", wrong, unknown)
	if !slices.ContainsFunc(wrong.header.Values("WWW-Authenticate"), func(v string) bool { return strings.HasPrefix(v, "Basic ") }) {
		t.Error("basic not offered over TLS")
	}
	// Digest over TLS works too.
	if r := e.get(t, "/prov/805ec0a1b2c3.cfg", p.ua, p.dev.MAC, pw, ""); r.status != http.StatusOK {
		t.Errorf("digest over TLS: status %d", r.status)
	}
	// Without a PBKDF2 hash, basic falls back to the SHA-256 HA1.
	e.dir.update(p.dev.MAC, func(d *Device) { d.ProvPasswordHash = nil })
	if r := basic(e, p.dev.MAC, pw); r.status != http.StatusOK {
		t.Errorf("basic via HA1: status %d", r.status)
	}

	plain := newEnv(t, false, nil)
	if r := basic(plain, p.dev.MAC, plain.devs[p.name].password); r.status != http.StatusUnauthorized {
		t.Errorf("basic over plain HTTP: status %d, want 401", r.status)
	}
}

func TestUnservedNamesAre404WithoutAuth(t *testing.T) {
	e := newEnv(t, false, nil)
	var bodies [][]byte
	for _, path := range []string{
		"/prov/805ec0a1b2c3.boot", "/prov/805ec0999999.boot", "/prov/y000000000000.boot",
		"/prov/805ec0a1b2c3-local.cfg", "/prov/provisioning.xml", "/prov/42/2/master.bin",
		"/prov/70/1/master.bin", "/prov/y000000000001.cfg", "/prov/", "/other/805ec0a1b2c3.cfg",
	} {
		r := e.get(t, path, "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3", "", "", "")
		if r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, r.status)
		}
		bodies = append(bodies, r.body)
	}
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("404 bodies differ: %q vs %q", b, bodies[0])
		}
	}
	e.dir.mu.Lock()
	defer e.dir.mu.Unlock()
	if e.dir.calls != 0 {
		t.Errorf("404s consulted the directory %d times", e.dir.calls)
	}
}

func TestHeadRangeAndMethods(t *testing.T) {
	e := newEnv(t, false, nil)
	p := e.devs["yealink-t5x-t54w"]
	dt := &digest.Transport{Username: p.dev.MAC, Password: p.password, Transport: e.baseTransport()}
	full := e.fetch(t, "yealink-t5x-t54w")
	head := e.do(t, dt, http.MethodHead, "/prov/805ec0a1b2c3.cfg", p.ua, nil)
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != fmt.Sprint(len(full.body)) {
		t.Errorf("HEAD: status %d, %d bytes, length %q", head.status, len(head.body), head.header.Get("Content-Length"))
	}
	part := e.do(t, dt, http.MethodGet, "/prov/805ec0a1b2c3.cfg", p.ua, http.Header{"Range": {"bytes=0-16"}})
	if part.status != http.StatusPartialContent || string(part.body) != "#!version:1.0.0.1" {
		t.Errorf("Range: status %d, body %q", part.status, part.body)
	}
	post := e.do(t, e.baseTransport(), http.MethodPost, "/prov/805ec0a1b2c3.cfg", p.ua, nil)
	if post.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", post.status)
	}
}

func TestDirectoryFailure(t *testing.T) {
	e := newEnv(t, false, nil)
	e.dir.setErr(errBroken)
	p := e.devs["yealink-t5x-t54w"]
	r := e.get(t, "/prov/805ec0a1b2c3.cfg", p.ua, p.dev.MAC, p.password, "")
	if r.status != http.StatusServiceUnavailable || bytes.Contains(r.body, []byte("locked")) {
		t.Errorf("status %d body %q", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "database is locked") {
		t.Error("directory error not logged")
	}
}

func TestEveryRequestLoggedWithoutSecrets(t *testing.T) {
	e := newEnv(t, false, nil)
	n := 0
	for name := range e.devs {
		e.fetch(t, name) // challenge + authenticated request each
		n += 2
	}
	p := e.devs["gigaset-n510"]
	e.get(t, "/prov/7C2F80A1B2C3.xml", p.ua, p.dev.MAC, "wrong", "") // challenge + denied
	e.get(t, "/prov/42/2/master.bin", p.ua, "", "", "")              // not found
	n += 3
	recs := e.logs.records(t)
	if len(recs) != n {
		t.Fatalf("%d log records for %d requests", len(recs), n)
	}
	outcomes := map[string]int{}
	for _, r := range recs {
		outcomes[r["outcome"].(string)]++
		for _, k := range []string{"path", "user_agent", "status", "remote"} {
			if _, ok := r[k]; !ok {
				t.Errorf("record without %s: %v", k, r)
			}
		}
		if r["outcome"] == outcomeServed && (r["device_id"] == nil || r["mac"] == nil || r["tenant_id"] == nil) {
			t.Errorf("served record without device: %v", r)
		}
	}
	if outcomes[outcomeServed] != len(e.devs) || outcomes[outcomeDenied] != 1 || outcomes[outcomeNotFound] != 1 {
		t.Errorf("outcomes %v", outcomes)
	}
	logs := e.logs.String()
	for _, p := range e.devs {
		if strings.Contains(logs, p.password) {
			t.Error("provisioning password in the logs")
		}
		for _, a := range p.dev.Accounts {
			if strings.Contains(logs, a.SIPPassword) {
				t.Error("SIP password in the logs")
			}
		}
	}
	if strings.Contains(logs, "response=") || strings.Contains(logs, "Digest ") {
		t.Error("Authorization header in the logs")
	}
}

func TestRealUserAgentsOverTLS(t *testing.T) {
	// HTTPS with the devices' own User-Agent strings and digest, as they
	// would come from the Internet.
	e := newEnv(t, true, nil)
	for name := range e.devs {
		if r := e.fetch(t, name); r.status != http.StatusOK {
			t.Errorf("%s over HTTPS: status %d", name, r.status)
		}
	}
	if e.srv.TLS == nil {
		t.Fatal("not TLS")
	}
}

// A factory-new Gigaset base answers the challenge with its MAC and MAC-ID
// before any credential is configured in it: with the MAC-ID recorded, that is
// enough to get its file, and only its own.
func TestGigasetMACIDCredential(t *testing.T) {
	e := newEnv(t, false, nil)
	n510, n720, t54w := e.devs["gigaset-n510"], e.devs["gigaset-n720"], e.devs["yealink-t5x-t54w"]
	if n510.dev.MAC == "" || n720.dev.MAC == "" || t54w.dev.MAC == "" {
		t.Fatal("fixtures renamed")
	}
	const macID = "K7QW2M9XPLR4"
	e.dir.update(n510.dev.MAC, func(d *Device) { d.MACID = macID })
	e.dir.update(t54w.dev.MAC, func(d *Device) { d.MACID = macID }) // not a Gigaset: ignored
	m, _ := LookupModel(n510.dev.Model)
	path := PathPrefix + m.FileName(n510.dev.MAC)
	upper := strings.ToUpper(n510.dev.MAC)
	for _, alg := range []string{"MD5", "SHA-256"} {
		for _, user := range []string{upper, n510.dev.MAC} {
			res := e.get(t, path, n510.ua, user, macID, alg)
			if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(n510.dev.Accounts[0].SIPPassword)) {
				t.Fatalf("%s as %s with the MAC-ID: status %d", alg, user, res.status)
			}
		}
	}
	// The issued credential still works.
	if res := e.fetch(t, "gigaset-n510"); res.status != http.StatusOK {
		t.Fatalf("issued credential: %d", res.status)
	}
	denied := e.get(t, path, n510.ua, upper, "K7QW2M9XPLR5", "")
	if denied.status != http.StatusUnauthorized {
		t.Fatalf("wrong MAC-ID: %d", denied.status)
	}
	sameDenial(t, "wrong MAC-ID vs unknown MAC", denied, e.get(t, PathPrefix+"7C2F80FFFFFF.xml", n510.ua, "7C2F80FFFFFF", macID, ""))
	// The MAC-ID of one base opens neither another base's file nor a
	// Yealink's, even one with a MAC-ID recorded by mistake.
	m720, _ := LookupModel(n720.dev.Model)
	if res := e.get(t, PathPrefix+m720.FileName(n720.dev.MAC), n720.ua, strings.ToUpper(n720.dev.MAC), macID, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("another base with this MAC-ID: %d", res.status)
	}
	if res := e.get(t, PathPrefix+n510.dev.MAC+".xml", n720.ua, strings.ToUpper(n720.dev.MAC), macID, ""); res.status == http.StatusOK {
		t.Fatal("the N510's file served to another base")
	}
	mt, _ := LookupModel(t54w.dev.Model)
	if res := e.get(t, PathPrefix+mt.FileName(t54w.dev.MAC), t54w.ua, t54w.dev.MAC, macID, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("a Yealink with the MAC-ID: %d", res.status)
	}
	found := false
	for _, r := range e.logs.records(t) {
		if r["auth"] == "digest-md5-macid" && r["status"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Fatal("no log line names the MAC-ID credential")
	}
	if strings.Contains(e.logs.String(), macID) {
		t.Fatal("the MAC-ID was logged")
	}
}
