package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/icholy/digest"
)

// TestGigasetMACIDOverHTTPS: the README's base, created with its MAC-ID as
// printed on the label, fetches its file over the server's HTTPS listener
// with that MAC-ID by basic authentication and by digest, however it is
// spelled; plain HTTP refuses basic.
func TestGigasetMACIDOverHTTPS(t *testing.T) {
	a := testApp(t, t.TempDir())
	ten := apiCall(t, a, "POST", "/api/v1/tenants", map[string]any{"name": "Depot"}, 201)
	tid := ten["id"].(string)
	u := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users", map[string]any{"first_name": "D", "last_name": "Epot",
		"email": "d@example.be", "licence": "full", "extension": "230"}, 201)
	base := apiCall(t, a, "POST", "/api/v1/tenants/"+tid+"/users/"+u["id"].(string)+"/devices",
		map[string]any{"kind": "gigaset", "mac": "7C:2F:80:A1:B2:C3", "model": "N510", "mac_id": "K7QW-2M9X-PLR4"}, 201)
	path := "/prov/7C2F80A1B2C3.xml"
	if !strings.HasSuffix(base["provisioning_url"].(string), path) {
		t.Fatalf("provisioning URL %v", base["provisioning_url"])
	}
	https := "https://" + a.httpsLn.Addr().String() + path
	plain := "http://" + a.httpLn.Addr().String() + path
	tlsTransport := &http.Transport{TLSClientConfig: insecureTLS()}
	defer tlsTransport.CloseIdleConnections()
	fetch := func(c *http.Client, url string, basicPass string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("User-Agent", "N510 IP PRO/42.262.00.000.000;7C2F80A1B2C3")
		if basicPass != "" {
			req.SetBasicAuth("7C2F80A1B2C3", basicPass)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, id := range []string{"K7QW-2M9X-PLR4", "k7qw-2m9x-plr4", "K7QW2M9XPLR4", "k7qw2m9xplr4"} {
		if got := fetch(&http.Client{Transport: tlsTransport}, https, id); got != 200 {
			t.Errorf("basic over HTTPS with %q: %d", id, got)
		}
		dc := &http.Client{Transport: &digest.Transport{Username: "7C2F80A1B2C3", Password: id, Transport: tlsTransport}}
		if got := fetch(dc, https, ""); got != 200 {
			t.Errorf("digest over HTTPS with %q: %d", id, got)
		}
		if got := fetch(http.DefaultClient, plain, id); got != 401 {
			t.Errorf("basic over plain HTTP with %q: %d, want 401", id, got)
		}
	}
	if got := fetch(&http.Client{Transport: tlsTransport}, https, "K7QW-2M9X-PLR5"); got != 401 {
		t.Errorf("basic with a wrong MAC-ID: %d", got)
	}
}
