package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"pbx/store"
)

// EmergencyStore is what the billing-state, webhook and emergency-call
// routes use; *store.Store satisfies it.
type EmergencyStore interface {
	SetTenantBillingState(ctx context.Context, id, state string) error
	SetTenantWebhook(ctx context.Context, tenantID, url string, secret *string) error
	TenantWebhook(ctx context.Context, tenantID string) (store.Webhook, error)
	EmergencyCalls(ctx context.Context, tenantID string, limit int) ([]store.EmergencyCall, error)
}

// billingStates are the values of a tenant's billing_state.
var billingStates = []string{"active", "restricted", "service_minimum", "suspended"}

type webhookRequest struct {
	URL    string  `json:"url" doc:"http(s) URL the tenant's events (emergency calls) are posted to; empty turns the webhook off"`
	Secret *string `json:"secret,omitempty" doc:"write-only key of the X-PBX-Signature header: sha256=<hex HMAC-SHA256 of \"<X-PBX-Timestamp>.<body>\">; at least 16 characters; required the first time; omitted: kept"`
}

type webhookJSON struct {
	URL       string `json:"url"`
	SecretSet bool   `json:"secret_set" doc:"whether a secret is set (it is never shown)"`
}

// minWebhookSecret is the shortest secret accepted: a signature is only as
// strong as its key.
const minWebhookSecret = 16

func (s *server) setWebhook(c *call) error {
	var in webhookRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	u := strings.TrimSpace(in.URL)
	if u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil || len(u) > 2000 {
			fe.add("url", "must be an absolute http or https URL without credentials, at most 2000 characters")
		}
	}
	cur, err := s.store.TenantWebhook(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	switch {
	case in.Secret != nil && *in.Secret != "" && len(*in.Secret) < minWebhookSecret:
		fe.add("secret", "must be at least %d characters", minWebhookSecret)
	case in.Secret != nil && len(*in.Secret) > 256:
		fe.add("secret", "must be at most 256 characters")
	case u != "" && !cur.SecretSet && (in.Secret == nil || *in.Secret == ""):
		fe.add("secret", "is required: deliveries are signed with it")
	case u != "" && in.Secret != nil && *in.Secret == "":
		fe.add("secret", "cannot be removed while the webhook is on")
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.SetTenantWebhook(c.ctx(), c.tenant.ID, u, in.Secret); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return tenantNotFound(c.tenant.ID)
		}
		return err
	}
	set := cur.SecretSet
	if in.Secret != nil {
		set = *in.Secret != ""
	}
	// The URL may itself be a credential (a capability URL): only its host
	// is logged.
	host := ""
	if p, err := url.Parse(u); err == nil {
		host = p.Host
	}
	s.log.Info("api: tenant webhook set", "tenant_id", c.tenant.ID, "host", host, "secret_changed", in.Secret != nil, "token_id", c.token.ID)
	return c.reply(200, webhookJSON{URL: u, SecretSet: set})
}

func (s *server) getWebhook(c *call) error {
	w, err := s.store.TenantWebhook(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	return c.reply(200, webhookJSON{URL: w.URL, SecretSet: w.SecretSet})
}

type emergencyCallJSON struct {
	ID             string          `json:"id"`
	CallID         string          `json:"call_id"`
	Number         string          `json:"number" doc:"as dialled"`
	Class          string          `json:"class" enum:"on_site,remote_help"`
	UserID         string          `json:"user_id"`
	DeviceID       string          `json:"device_id"`
	Caller         string          `json:"caller" doc:"the number presented to the emergency service"`
	TrunkID        string          `json:"trunk_id" doc:"the first trunk tried; empty when none existed"`
	LocationSource string          `json:"location_source" enum:"invite,register,site,none"`
	Location       json.RawMessage `json:"location,omitempty" doc:"the location sent: civic address and/or geodetic point"`
	At             time.Time       `json:"at"`
}

func (s *server) listEmergencyCalls(c *call) error {
	calls, err := s.store.EmergencyCalls(c.ctx(), c.tenant.ID, 200)
	if err != nil {
		return err
	}
	out := make([]emergencyCallJSON, 0, len(calls))
	for _, e := range calls {
		j := emergencyCallJSON{ID: e.ID, CallID: e.CallID, Number: e.Number, Class: e.Class, UserID: e.UserID, DeviceID: e.DeviceID,
			Caller: e.Caller, TrunkID: e.TrunkID, LocationSource: e.LocationSource, At: e.CreatedAt}
		if e.Location != "" {
			j.Location = json.RawMessage(e.Location)
		}
		out = append(out, j)
	}
	return c.reply(200, out)
}

// setBillingState changes a tenant's billing state: an admin's decision
// (a tenant's token cannot lift its own restriction), logged.
func (s *server) setBillingState(c *call, state string) error {
	if err := s.store.SetTenantBillingState(c.ctx(), c.tenant.ID, state); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return tenantNotFound(c.tenant.ID)
		}
		return err
	}
	s.log.Warn("api: tenant billing state changed", "tenant_id", c.tenant.ID, "from", c.tenant.BillingState, "to", state, "token_id", c.token.ID)
	c.tenant.BillingState = state
	return nil
}
