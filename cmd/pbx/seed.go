package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"pbx/api"
	"pbx/store"
)

// randomString returns n characters of [a-z0-9] from crypto/rand.
func randomString(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// bootstrapToken makes sure an admin can reach the API: PBX_ADMIN_TOKEN is
// installed as the admin token; on a database with no token at all, one is
// generated and printed once.
func (a *app) bootstrapToken(ctx context.Context, out io.Writer) error {
	if a.cfg.AdminToken != "" {
		return api.EnsureAdminToken(ctx, a.store, a.cfg.AdminToken)
	}
	n, err := a.store.CountTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := api.IssueToken(ctx, a.store, store.ScopeAdmin, "", "bootstrap")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAdmin API token (shown once): %s\n\n", secret)
	return nil
}

// seedDemo creates the demo tenant on an empty database and prints the SIP
// credentials it made.
func seedDemo(ctx context.Context, a *app, out io.Writer) error {
	ts, err := a.store.Tenants(ctx)
	if err != nil || len(ts) > 0 {
		return err
	}
	t, err := a.store.CreateTenant(ctx, store.Tenant{Name: "Demo", Domain: "demo." + a.cfg.BaseDomain})
	if err != nil {
		return err
	}
	site, err := a.store.CreateSite(ctx, store.Site{TenantID: t.ID, Name: "Head office", Street: "Rue de la Loi", Number: "16", PostalCode: "1000", City: "Brussels"})
	if err != nil {
		return err
	}
	people := []struct {
		first, last, licence, ext string
		devices                   int
	}{
		{"Anna", "Peeters", store.LicenceFull, "201", 2},
		{"Bart", "Janssens", store.LicenceFull, "202", 1},
		{"Chloé", "Dubois", store.LicenceFull, "203", 1},
		{"Reception", "Lobby", store.LicenceLight, "", 1},
	}
	fmt.Fprintf(out, "\nDemo tenant %q created: id %s, SIP domain %s; register to %s (UDP or TCP).\n", t.Name, t.ID, t.Domain, loopbackFor(a.cfg.SIPAddr))
	fmt.Fprintf(out, "API base URL: http://%s/api/v1\n", loopbackFor(a.cfg.HTTPAddr))
	for _, p := range people {
		u, err := a.store.CreateUser(ctx, store.User{TenantID: t.ID, FirstName: p.first, LastName: p.last, Licence: p.licence,
			Extension: p.ext, SiteID: site.ID, Email: fmt.Sprintf("%s@demo.example", randomString(6))})
		if err != nil {
			return err
		}
		for i := 0; i < p.devices; i++ {
			// A person tells Anna's two phones apart by this label.
			label := fmt.Sprintf("%s's phone %d", p.first, i+1)
			password := randomString(20)
			d, err := a.store.CreateDevice(ctx, store.Device{TenantID: t.ID, UserID: u.ID, Kind: "softphone", SIPUsername: randomString(10)}, password)
			if err != nil {
				return err
			}
			ext := p.ext
			if ext == "" {
				ext = "(light, no extension)"
			}
			fmt.Fprintf(out, "  %-20s %-10s %-9s ext %-22s username %s  password %s\n", label, p.first, p.last, ext, d.SIPUsername, password)
		}
	}
	fmt.Fprintln(out)
	return nil
}
