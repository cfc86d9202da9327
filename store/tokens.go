package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Token scopes.
const (
	ScopeAdmin  = "admin"  // everything
	ScopeTenant = "tenant" // one tenant's administrator
)

// APIToken is a bearer token; only a hash of the secret is stored.
type APIToken struct {
	ID        string
	Hash      string
	Scope     string
	TenantID  string
	Name      string
	CreatedAt time.Time
}

// CreateToken stores a token by its hash.
func (s *Store) CreateToken(ctx context.Context, t APIToken) (APIToken, error) {
	if t.ID == "" {
		t.ID = NewID("tok")
	}
	t.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_tokens(id, hash, scope, tenant_id, name, created_at) VALUES (?,?,?,?,?,?)`,
		t.ID, t.Hash, t.Scope, nullStr(t.TenantID), t.Name, t.CreatedAt.Unix())
	if isUnique(err) {
		return APIToken{}, ErrConflict
	}
	return t, err
}

// TokenByHash finds a token by the hash of its secret.
func (s *Store) TokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, hash, scope, COALESCE(tenant_id,''), name, created_at FROM api_tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.Hash, &t.Scope, &t.TenantID, &t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, ErrNotFound
	}
	t.CreatedAt = timeOrZero(created)
	return t, err
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
	return affected(res, err)
}

// CountTokens returns how many tokens exist (zero on a fresh database).
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n)
	return n, err
}
