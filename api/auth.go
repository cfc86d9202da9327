package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"pbx/store"
)

// tokenPrefix marks our bearer secrets so that leaked ones are easy to spot
// (secret scanners, logs).
const tokenPrefix = "pbx_"

// bootstrapTokenID is the fixed id of the token EnsureAdminToken manages:
// changing PBX_ADMIN_TOKEN replaces it, so the old secret stops working.
const bootstrapTokenID = "tok_bootstrap"

// minBootstrapSecret is the shortest secret EnsureAdminToken accepts.
const minBootstrapSecret = 16

// HashToken is how a bearer secret is stored: hex SHA-256. The secret is 256
// random bits, so a fast hash is enough (no salt or key stretching needed).
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// IssueToken creates a token of scope store.ScopeAdmin (tenantID empty) or
// store.ScopeTenant (tenantID set) and returns its secret, which is not kept
// anywhere: only its hash is stored.
func IssueToken(ctx context.Context, st TokenStore, scope, tenantID, name string) (secret string, err error) {
	switch {
	case scope == store.ScopeAdmin && tenantID != "":
		return "", errors.New("api: an admin token belongs to no tenant")
	case scope == store.ScopeTenant && tenantID == "":
		return "", errors.New("api: a tenant token needs a tenant id")
	case scope != store.ScopeAdmin && scope != store.ScopeTenant:
		return "", fmt.Errorf("api: unknown token scope %q", scope)
	}
	_, secret, err = issueToken(ctx, st, scope, tenantID, name)
	return secret, err
}

func issueToken(ctx context.Context, st TokenStore, scope, tenantID, name string) (store.APIToken, string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return store.APIToken{}, "", err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	tok, err := st.CreateToken(ctx, store.APIToken{Hash: HashToken(secret), Scope: scope, TenantID: tenantID, Name: name})
	if err != nil {
		return store.APIToken{}, "", fmt.Errorf("api: create %s token: %w", scope, err)
	}
	return tok, secret, nil
}

// EnsureAdminToken makes secret a valid admin token (PBX_ADMIN_TOKEN). It is
// idempotent; called with a different secret it replaces the previous
// bootstrap token, so the old secret stops working.
func EnsureAdminToken(ctx context.Context, st TokenStore, secret string) error {
	if len(secret) < minBootstrapSecret {
		return fmt.Errorf("api: admin token secret must be at least %d characters", minBootstrapSecret)
	}
	hash := HashToken(secret)
	tok, err := st.TokenByHash(ctx, hash)
	switch {
	case err == nil && tok.Scope == store.ScopeAdmin:
		return nil
	case err == nil:
		return fmt.Errorf("api: the admin token secret is already the secret of %s token %s", tok.Scope, tok.ID)
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("api: look up admin token: %w", err)
	}
	if err := st.DeleteToken(ctx, bootstrapTokenID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("api: replace admin token: %w", err)
	}
	_, err = st.CreateToken(ctx, store.APIToken{ID: bootstrapTokenID, Hash: hash, Scope: store.ScopeAdmin, Name: "bootstrap (PBX_ADMIN_TOKEN)"})
	if errors.Is(err, store.ErrConflict) {
		// Another process created it between our look-up and insert.
		if tok, err := st.TokenByHash(ctx, hash); err == nil && tok.Scope == store.ScopeAdmin {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("api: create admin token: %w", err)
	}
	return nil
}

// authorize checks the bearer token against the route's access rule and, for
// routes under a tenant, loads the tenant. A tenant token asking about another
// tenant gets exactly the 404 of a tenant that does not exist.
func (s *server) authorize(c *call, a access) error {
	if a == public {
		return nil
	}
	secret, ok := bearer(c.r)
	if !ok {
		return httpProblem(http.StatusUnauthorized, "missing or malformed token; send Authorization: Bearer <token>")
	}
	tok, err := s.store.TokenByHash(c.ctx(), HashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return httpProblem(http.StatusUnauthorized, "invalid or revoked token")
	}
	if err != nil {
		return err
	}
	c.token = tok
	if info := infoFrom(c.ctx()); info != nil {
		info.tokenID = tok.ID
	}
	isAdmin := tok.Scope == store.ScopeAdmin
	if !isAdmin && tok.Scope != store.ScopeTenant {
		return httpProblem(http.StatusForbidden, "token scope "+tok.Scope+" may not use this API")
	}
	switch a {
	case adminOnly:
		if !isAdmin {
			return httpProblem(http.StatusForbidden, "this operation needs an admin token")
		}
		return nil
	case tenantScope, tenantAdmin:
		id := c.path("tenant")
		if !isAdmin && tok.TenantID != id {
			return tenantNotFound(id)
		}
		t, err := s.store.Tenant(c.ctx(), id)
		if errors.Is(err, store.ErrNotFound) {
			return tenantNotFound(id)
		}
		if err != nil {
			return err
		}
		c.tenant = t
		if a == tenantAdmin && !isAdmin {
			return httpProblem(http.StatusForbidden, "this operation needs an admin token")
		}
		return nil
	}
	return httpProblem(http.StatusForbidden, "forbidden")
}

func tenantNotFound(id string) *problem { return notFound("tenant %q not found", id) }

// bearer extracts the secret of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	// A secret is 47 characters; anything huge is not one of ours and need
	// not be hashed.
	if secret == "" || len(secret) > 512 {
		return "", false
	}
	return secret, true
}
