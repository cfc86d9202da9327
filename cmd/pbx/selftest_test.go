package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSelftestOnDemoServer is the README's first call: a server started
// with --demo in a clean data directory, then `pbx selftest` on that
// directory, which registers two demo devices and calls between them with
// real RTP through the server.
func TestSelftestOnDemoServer(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir, func(c *config) { c.Demo = true })
	ten, err := a.store.Tenants(context.Background())
	if err != nil || len(ten) != 1 {
		t.Fatalf("demo tenants: %v, %v", ten, err)
	}
	cfg, err := parseSelftest([]string{"--data", dir, "--sip", a.sip.Addr("udp").String(),
		"--http", a.httpLn.Addr().String(), "--talk", "1s"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := runSelftest(ctx, cfg, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Registered || !res.Answered || !res.AudioBothWays() {
		t.Fatalf("self-test result %+v", res)
	}
	for _, s := range []struct {
		name string
		n    int64
	}{{"up", res.Up.Audio}, {"down", res.Down.Audio}} {
		// One second of 20 ms frames, less what a slow machine delays.
		if s.n < 25 {
			t.Errorf("%s: %d audio packets received, want most of 50", s.name, s.n)
		}
	}
	for _, want := range []string{ten[0].ID, "http://" + a.httpLn.Addr().String() + "/api/v1", "ext 201", "ext 202",
		"caller -> callee", "callee -> caller", "MOS", "OK: registered, answered, audio both ways"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("self-test printout lacks %q", want)
		}
	}
}

// TestSelftestNeedsAServersDirectory: on a directory no server has used,
// the self-test says what to do instead of creating keys.
func TestSelftestNeedsAServersDirectory(t *testing.T) {
	cfg, err := parseSelftest([]string{"--data", t.TempDir()}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	_, err = runSelftest(context.Background(), cfg, new(bytes.Buffer))
	if err == nil || !strings.Contains(err.Error(), "secret.key") {
		t.Fatalf("error %v, want one naming the missing secret.key", err)
	}
}

// TestTokenCreateAdmin: a token minted on the data directory of a running
// server opens the admin API, and is printed once.
func TestTokenCreateAdmin(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir)
	env := func(string) string { return "" }
	if err := tokenCommand(context.Background(), []string{"create", "--data", dir}, env, new(bytes.Buffer)); err == nil {
		t.Fatal("a token without --admin was made")
	}
	var out bytes.Buffer
	if err := tokenCommand(context.Background(), []string{"create", "--admin", "--data", dir}, env, &out); err != nil {
		t.Fatal(err)
	}
	_, secret, ok := strings.Cut(strings.TrimSpace(out.String()), "(shown once): ")
	if !ok || !strings.HasPrefix(secret, "pbx_") {
		t.Fatalf("printout %q names no token", out.String())
	}
	for _, tok := range []struct {
		secret string
		want   int
	}{{secret, 200}, {"pbx_wrong", 401}} {
		req, _ := http.NewRequest("GET", "http://"+a.httpLn.Addr().String()+"/api/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+tok.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tok.want {
			t.Errorf("GET /tenants with %s: %d, want %d", tok.secret[:6], res.StatusCode, tok.want)
		}
	}
}
