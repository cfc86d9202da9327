package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Contact is a tenant's shared contact: a name and its numbers (E.164 when
// the API could normalise them), in the company directory of every phone
// and named on incoming calls from those numbers.
type Contact struct {
	ID, TenantID, Name string
	Numbers            []string
	CreatedAt          time.Time
}

// CreateContact adds a contact with its numbers.
func (s *Store) CreateContact(ctx context.Context, c Contact) (Contact, error) {
	out, err := s.ImportContacts(ctx, c.TenantID, []Contact{c})
	if err != nil {
		return Contact{}, err
	}
	return out[0], nil
}

// ImportContacts adds contacts to a tenant all at once: one transaction, so
// that an import either lands whole or not at all.
func (s *Store) ImportContacts(ctx context.Context, tenantID string, cs []Contact) ([]Contact, error) {
	now := time.Now().UTC().Truncate(time.Second)
	out := make([]Contact, len(cs))
	for i, c := range cs {
		c.TenantID, c.CreatedAt = tenantID, now
		if c.ID == "" {
			c.ID = NewID("con")
		}
		out[i] = c
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range out {
			_, err := tx.ExecContext(ctx, `INSERT INTO contacts(id, tenant_id, name, created_at) VALUES (?,?,?,?)`, c.ID, c.TenantID, c.Name, c.CreatedAt.Unix())
			if isForeignKey(err) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			if err := insertNumbers(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func insertNumbers(ctx context.Context, tx *sql.Tx, c Contact) error {
	for i, n := range c.Numbers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_numbers(contact_id, tenant_id, position, number) VALUES (?,?,?,?)`, c.ID, c.TenantID, i, n); err != nil {
			return err
		}
	}
	return nil
}

// Contacts lists a tenant's contacts by name.
func (s *Store) Contacts(ctx context.Context, tenantID string) ([]Contact, error) {
	return s.contacts(ctx, `c.tenant_id = ?`, tenantID)
}

// Contact returns one contact of a tenant.
func (s *Store) Contact(ctx context.Context, tenantID, id string) (Contact, error) {
	cs, err := s.contacts(ctx, `c.tenant_id = ? AND c.id = ?`, tenantID, id)
	if err != nil {
		return Contact{}, err
	}
	if len(cs) == 0 {
		return Contact{}, ErrNotFound
	}
	return cs[0], nil
}

// contacts reads contacts with their numbers in one query, ordered by name.
func (s *Store) contacts(ctx context.Context, where string, args ...any) ([]Contact, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.tenant_id, c.name, c.created_at, COALESCE(n.number, '')
		FROM contacts c LEFT JOIN contact_numbers n ON n.contact_id = c.id
		WHERE `+where+` ORDER BY c.name, c.id, n.position`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		var created int64
		var num string
		if err := rows.Scan(&c.ID, &c.TenantID, &c.Name, &created, &num); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != c.ID {
			c.CreatedAt = timeOrZero(created)
			out = append(out, c)
		}
		if num != "" {
			last := &out[len(out)-1]
			last.Numbers = append(last.Numbers, num)
		}
	}
	return out, rows.Err()
}

// UpdateContact replaces a contact's name and numbers.
func (s *Store) UpdateContact(ctx context.Context, c Contact) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ? WHERE tenant_id = ? AND id = ?`, c.Name, c.TenantID, c.ID)
		if err := affected(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contact_numbers WHERE contact_id = ?`, c.ID); err != nil {
			return err
		}
		return insertNumbers(ctx, tx, c)
	})
}

// DeleteContact removes a contact and its numbers.
func (s *Store) DeleteContact(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM contacts WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affected(res, err)
}

// ContactNameByNumber is the name of the tenant's contact with this number
// (the first by name when several share it), or ErrNotFound.
func (s *Store) ContactNameByNumber(ctx context.Context, tenantID, number string) (string, error) {
	var name string
	err := s.r.QueryRowContext(ctx, `SELECT c.name FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id
		WHERE n.tenant_id = ? AND n.number = ? ORDER BY c.name, c.id LIMIT 1`, tenantID, number).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return name, err
}
