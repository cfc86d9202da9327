package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// challengeAlgorithms sends an unauthenticated REGISTER and returns the
// algorithms of the challenge, in order, with the first challenge.
func challengeAlgorithms(t *testing.T, p *phone) ([]string, *digest.Challenge) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, p.newRegister(600))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("unauthenticated REGISTER: %s", res.StartLine())
	}
	var algs []string
	var first *digest.Challenge
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
		}
		algs = append(algs, c.Algorithm)
	}
	return algs, first
}

// registerAnswering answers chal with alg (whatever the challenge asked) and
// returns the final status.
func registerAnswering(t *testing.T, p *phone, chal *digest.Challenge, alg string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := *chal
	c.Algorithm = alg
	req := p.newRegister(600)
	cred, err := digest.Digest(&c, digest.Options{Method: "REGISTER", URI: req.Recipient.String(), Username: p.acc.device.SIPUsername, Password: p.acc.password})
	if err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode
}

// A tenant chooses the digest algorithms its devices are challenged with:
// the default MD5 alone (every client computes it; SIPp and baresip fail on
// a SHA-256 challenge), SHA-256 first for devices that handle RFC 8760,
// SHA-256 alone to refuse MD5. The change applies to the next REGISTER.
func TestTenantDigestAlgorithms(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	other := seedTenant(t, a, "Other", "301")
	p, q := newPhone(t, a, accs[0], "udp"), newPhone(t, a, other[0], "udp")
	path := "/api/v1/tenants/" + accs[0].tenant.ID
	set := func(algs []string) map[string]any {
		return apiCall(t, a, "PATCH", path, map[string]any{"sip_digest_algorithms": algs}, 200)
	}
	check := func(p *phone, want string) *digest.Challenge {
		t.Helper()
		algs, first := challengeAlgorithms(t, p)
		if got := strings.Join(algs, ","); got != want {
			t.Fatalf("challenged with %s, want %s", got, want)
		}
		return first
	}

	// The default is MD5 alone: SIPp and baresip fail on any SHA-256
	// challenge, and every phone computes MD5.
	check(p, "MD5")
	if got := set([]string{"SHA-256", "MD5"}); got["sip_digest_algorithms"] == nil {
		t.Fatalf("PATCH answered %v", got)
	}
	check(p, "SHA-256,MD5")
	if res := p.register(600, accs[0].password); res.StatusCode != 200 {
		t.Fatalf("register with SHA-256 offered first: %s", res.StartLine())
	}
	check(q, "MD5") // another tenant keeps the default
	set([]string{"MD5"})
	chal := check(p, "MD5")
	if res := p.register(600, accs[0].password); res.StatusCode != 200 {
		t.Fatalf("register with MD5 only: %s", res.StartLine())
	}
	if st := registerAnswering(t, p, chal, "SHA-256"); st != 401 {
		t.Fatalf("a SHA-256 answer in an MD5-only tenant got %d", st)
	}

	set([]string{"SHA-256"})
	chal = check(p, "SHA-256")
	if st := registerAnswering(t, p, chal, "MD5"); st != 401 {
		t.Fatalf("an MD5 answer in a SHA-256-only tenant got %d", st)
	}
	if st := registerAnswering(t, p, chal, "SHA-256"); st != 200 {
		t.Fatalf("a SHA-256 answer got %d", st)
	}
	if got := apiCall(t, a, "GET", path, nil, 200); got["sip_digest_algorithms"].([]any)[0] != "SHA-256" {
		t.Fatalf("GET tenant: %v", got)
	}

	set([]string{})
	check(p, "MD5")
	if got := apiCall(t, a, "GET", path, nil, 200); got["sip_digest_algorithms"] != nil {
		t.Fatalf("after reset: %v", got)
	}
	// The choice survives a restart (it is loaded at start-up).
	set([]string{"MD5"})
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	b := testApp(t, a.cfg.DataDir)
	check(newPhone(t, b, accs[0], "udp"), "MD5")
}
