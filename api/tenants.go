package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"pbx/features/callflow"
	"pbx/store"
)

type createTenantRequest struct {
	Name                string   `json:"name" doc:"display name; the SIP domain is derived from it"`
	Slug                string   `json:"slug,omitempty" doc:"DNS label to use instead of the one derived from the name"`
	SIPDigestAlgorithms []string `json:"sip_digest_algorithms,omitempty" enum:"SHA-256,MD5" doc:"see Tenant"`
	Timezone            string   `json:"timezone,omitempty" doc:"IANA time zone of the tenant's schedules; Europe/Brussels when omitted"`
	Language            string   `json:"language,omitempty" enum:"nl,fr,de,en" doc:"language of the prompts for users who have none"`
}

type updateTenantRequest struct {
	Name                *string   `json:"name,omitempty"`
	SIPDigestAlgorithms *[]string `json:"sip_digest_algorithms,omitempty" enum:"SHA-256,MD5" doc:"see Tenant; [] returns to the server's default"`
	Timezone            *string   `json:"timezone,omitempty" doc:"IANA time zone such as Europe/Brussels"`
	Language            *string   `json:"language,omitempty" enum:"nl,fr,de,en" doc:"language of the prompts for users who have none; empty: the server's default"`
	BillingState        *string   `json:"billing_state,omitempty" enum:"active,restricted,service_minimum,suspended" doc:"admin token only: restricted refuses calls to the public network; service_minimum allows emergency calls only; suspended also refuses the devices' registrations"`
}

type tenantJSON struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Domain              string    `json:"domain" doc:"SIP domain and digest realm of the tenant's devices"`
	BillingState        string    `json:"billing_state" enum:"active,restricted,service_minimum,suspended"`
	SIPDigestAlgorithms []string  `json:"sip_digest_algorithms,omitempty" enum:"SHA-256,MD5" doc:"digest algorithms the tenant's devices are challenged with and may answer with, most preferred first; MD5 alone for devices that fail on a SHA-256 challenge, SHA-256 alone to refuse MD5; absent: the server's default"`
	Timezone            string    `json:"timezone" doc:"IANA time zone of call-flow schedules that name none"`
	Language            string    `json:"language" doc:"language of the prompts for users who have none; empty: the server's default"`
	CreatedAt           time.Time `json:"created_at"`
}

func toTenantJSON(t store.Tenant) tenantJSON {
	var algs []string
	if t.SIPDigest != "" {
		algs = strings.Split(t.SIPDigest, ",")
	}
	return tenantJSON{ID: t.ID, Name: t.Name, Domain: t.Domain, BillingState: t.BillingState, SIPDigestAlgorithms: algs, Timezone: tenantTimezone(t), Language: t.Language, CreatedAt: t.CreatedAt}
}

// digestAlgorithms checks a list of digest algorithms and returns it in the
// store's form ("SHA-256,MD5"; "" for the server default).
func digestAlgorithms(fe *fieldErrors, algs []string) string {
	if len(algs) == 0 {
		return ""
	}
	seen := map[string]bool{}
	for i, a := range algs {
		field := fmt.Sprintf("sip_digest_algorithms[%d]", i)
		switch {
		case a != "SHA-256" && a != "MD5":
			fe.add(field, "must be one of SHA-256, MD5")
		case seen[a]:
			fe.add(field, "%s is listed twice", a)
		}
		seen[a] = true
	}
	return strings.Join(algs, ",")
}

func (s *server) tenantChanged(c *call) {
	if s.changed != nil {
		s.changed(c.ctx())
	}
}

func (s *server) updateTenant(c *call) error {
	var in updateTenantRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	t := c.tenant
	var fe fieldErrors
	if in.Name != nil {
		t.Name = fe.text("name", *in.Name, true, 100)
	}
	if in.SIPDigestAlgorithms != nil {
		t.SIPDigest = digestAlgorithms(&fe, *in.SIPDigestAlgorithms)
	}
	if in.Timezone != nil {
		t.Timezone = timezone(&fe, "timezone", *in.Timezone)
	}
	if in.Language != nil {
		fe.oneOf("language", *in.Language, false, languages...)
		t.Language = *in.Language
	}
	if in.BillingState != nil {
		if c.token.Scope != store.ScopeAdmin {
			return httpProblem(http.StatusForbidden, "only an admin token may change billing_state")
		}
		fe.oneOf("billing_state", *in.BillingState, true, billingStates...)
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.UpdateTenant(c.ctx(), t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return tenantNotFound(t.ID)
		}
		return err
	}
	if in.BillingState != nil && *in.BillingState != t.BillingState {
		if err := s.setBillingState(c, *in.BillingState); err != nil {
			return err
		}
		t.BillingState = *in.BillingState
	}
	s.tenantChanged(c)
	return c.reply(200, toTenantJSON(t))
}

func (s *server) createTenant(c *call) error {
	var in createTenantRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	name := fe.text("name", in.Name, true, 100)
	algs := digestAlgorithms(&fe, in.SIPDigestAlgorithms)
	tz := timezone(&fe, "timezone", in.Timezone)
	fe.oneOf("language", in.Language, false, languages...)
	slug := in.Slug
	switch {
	case slug != "" && !slugRE.MatchString(slug):
		fe.add("slug", "must be a DNS label: lower-case letters, digits and inner dashes, at most 63 characters")
	case slug == "" && name != "":
		if slug = slugify(name); slug == "" {
			fe.add("name", "must contain a letter or digit to derive the SIP domain from (or send a slug)")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	t, err := s.store.CreateTenant(c.ctx(), store.Tenant{Name: name, Domain: slug + "." + s.baseDomain, SIPDigest: algs, Timezone: tz, Language: in.Language})
	if errors.Is(err, store.ErrConflict) {
		field := "name"
		if in.Slug != "" {
			field = "slug"
		}
		return conflictOn(field, "SIP domain "+slug+"."+s.baseDomain+" is taken by another tenant; send a different slug")
	}
	if err != nil {
		return err
	}
	s.tenantChanged(c)
	return c.created(v1+"/tenants/"+t.ID, toTenantJSON(t))
}

func (s *server) listTenants(c *call) error {
	ts, err := s.store.Tenants(c.ctx())
	if err != nil {
		return err
	}
	out := make([]tenantJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTenantJSON(t))
	}
	return c.reply(200, out)
}

func (s *server) getTenant(c *call) error {
	return c.reply(200, toTenantJSON(c.tenant))
}

func (s *server) deleteTenant(c *call) error {
	if err := s.store.DeleteTenant(c.ctx(), c.tenant.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return tenantNotFound(c.tenant.ID)
		}
		return err
	}
	s.removeTenantAudio(c)
	return c.noContent()
}

type createTokenRequest struct {
	Name string `json:"name" doc:"what the token is for, e.g. the script using it"`
}

type tokenJSON struct {
	ID       string `json:"id"`
	Token    string `json:"token" doc:"the bearer secret; shown once, only its hash is stored"`
	Scope    string `json:"scope" enum:"admin,tenant"`
	TenantID string `json:"tenant_id,omitempty"`
	Name     string `json:"name"`
}

func (s *server) createTenantToken(c *call) error {
	var in createTokenRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	name := fe.text("name", in.Name, true, 100)
	if err := fe.err(); err != nil {
		return err
	}
	tok, secret, err := issueToken(c.ctx(), s.store, store.ScopeTenant, c.tenant.ID, name)
	if err != nil {
		return err
	}
	return c.reply(201, tokenJSON{ID: tok.ID, Token: secret, Scope: tok.Scope, TenantID: tok.TenantID, Name: tok.Name})
}

// timezone checks an IANA time zone name; "" keeps the default.
func timezone(fe *fieldErrors, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	// "Local" and "UTC" load everywhere but "Local" means the server's zone,
	// which is not the customer's.
	if _, err := time.LoadLocation(v); err != nil || v == "Local" {
		fe.add(field, "must be an IANA time zone such as Europe/Brussels")
	}
	return v
}

// tenantTimezone is the zone a tenant's schedules use.
func tenantTimezone(t store.Tenant) string {
	if t.Timezone == "" {
		return callflow.DefaultTimezone
	}
	return t.Timezone
}
