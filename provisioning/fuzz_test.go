package provisioning

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary provisioning requests (path, User-Agent,
// Authorization) to the handler with the fixtures loaded: it never panics,
// answers with a status a phone understands, and serves a device's file
// only to a request that authenticated as that device.
func FuzzRequest(f *testing.F) {
	f.Add("/prov/y000000000028.cfg", "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc", "")
	f.Add("/prov/001565aabbcc.cfg", "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
		`Digest username="x", realm="pbx", nonce="n", uri="/prov/001565aabbcc.cfg", response="00", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"`)
	f.Add("/prov/gigaset/K7QW2M9XPLR4.xml", "Gigaset N510 IP PRO/42.250.00.000.000", "Basic eDp5")
	f.Add("/prov/../../etc/passwd", "", "Basic !!!")
	f.Add("/prov/%00%ff.cfg", "Yealink", `Digest username="\"`)
	dir, devs := withCredentials(f, fixtures())
	h := NewHandler(Options{Directory: dir, Server: testServer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RateLimit: RateLimit{PerSecond: -1}})
	f.Fuzz(func(t *testing.T, path, ua, auth string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := httptest.NewRequest(http.MethodGet, "http://prov.test/", nil)
		req.URL.Path, req.RequestURI = path, path
		req.Header.Set("User-Agent", ua)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch c := rec.Code; {
		case c >= 200 && c < 600:
			// Only a request whose credentials checked out gets a
			// device's file, and the fuzzer cannot forge those: no
			// answer may carry a device's password.
			for _, d := range devs {
				if strings.Contains(rec.Body.String(), d.password) {
					t.Fatalf("%s's password served for %q (User-Agent %q, Authorization %q)", d.name, path, ua, auth)
				}
			}
		default:
			t.Fatalf("status %d for %q", c, path)
		}
	})
}
