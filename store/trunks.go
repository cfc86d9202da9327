package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Trunk is a carrier's SIP trunk (platform level, no tenant). Calls from one
// of its InboundSources are carrier calls, routed by the called number.
type Trunk struct {
	ID, Name  string
	Host      string
	Port      int
	Transport string // udp, tcp or tls
	// InboundSources are canonical "ip", "ip:port" or "CIDR" strings
	// (ParseTrunkSource); one source belongs to one trunk.
	InboundSources []string
	Username       string
	// Password is write-only: CreateTrunk and UpdateTrunk seal it when
	// SetPassword is true; reads leave it empty and set PasswordSet
	// (TrunkPassword decrypts it for registration and authentication).
	Password    string
	SetPassword bool
	PasswordSet bool
	Register    bool
	// ForwardIdentity is how a call forwarded to the public network
	// presents its original caller to this carrier: ForwardDiversion
	// (From, with our number in P-Asserted-Identity and a Diversion
	// header) or ForwardPAI (P-Asserted-Identity).
	ForwardIdentity string
	// ResponseTimeout is how long the carrier may leave an INVITE
	// without any response before the route's next trunk is tried (0:
	// the platform's default).
	ResponseTimeout time.Duration
	// EmergencySiteIdentity is how an emergency call tells this carrier
	// which site it comes from, for carriers that locate nomadic callers
	// by a site number: "" (the PIDF-LO only), EmergencySitePAI or
	// EmergencySitePhoneContext.
	EmergencySiteIdentity string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// ParseTrunkSource reads "192.0.2.1", "192.0.2.1:5060", "[2001:db8::1]:5060"
// or "192.0.2.0/24" and returns its canonical form (IPv4-mapped IPv6
// addresses unmapped, prefixes masked), so that equal sources compare equal.
func ParseTrunkSource(s string) (string, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr()))
		if !p.IsValid() {
			return "", fmt.Errorf("%q is not a valid prefix", s)
		}
		return p.Masked().String(), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", fmt.Errorf("%q has port 0", s)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap().String(), nil
	}
	return "", fmt.Errorf("%q is not an IP address, IP address and port, or CIDR prefix", s)
}

// unmapBits is how many prefix bits an IPv4-mapped IPv6 address loses when
// unmapped (96), or 0.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// How a forwarded call's original caller is presented to a carrier.
const (
	ForwardDiversion = "diversion"
	ForwardPAI       = "pai"
)

// How an emergency call presents its caller's site to a carrier (the
// PIDF-LO goes with it in every case).
const (
	// EmergencySitePAI: P-Asserted-Identity is the site's emergency
	// number (an "ELIN").
	EmergencySitePAI = "pai"
	// EmergencySitePhoneContext: the Request-URI is
	// sip:112;phone-context=<site number>@carrier;user=phone (SIPconnect),
	// and P-Asserted-Identity the site's number.
	EmergencySitePhoneContext = "phone_context"
)

const trunkCols = `id, name, host, port, transport, username, password_enc IS NOT NULL, register, forward_identity, response_timeout_ms,
	emergency_site_identity, created_at, updated_at`

func scanTrunk(row interface{ Scan(...any) error }) (Trunk, error) {
	var t Trunk
	var reg int
	var created, updated, timeout int64
	err := row.Scan(&t.ID, &t.Name, &t.Host, &t.Port, &t.Transport, &t.Username, &t.PasswordSet, &reg, &t.ForwardIdentity, &timeout, &t.EmergencySiteIdentity, &created, &updated)
	t.ResponseTimeout = time.Duration(timeout) * time.Millisecond
	if errors.Is(err, sql.ErrNoRows) {
		return Trunk{}, ErrNotFound
	}
	t.Register = reg != 0
	t.CreatedAt, t.UpdatedAt = timeOrZero(created), timeOrZero(updated)
	return t, err
}

// CreateTrunk inserts a trunk. A name or an inbound source already used by
// another trunk is ErrConflict.
func (s *Store) CreateTrunk(ctx context.Context, t Trunk) (Trunk, error) {
	if t.ID == "" {
		t.ID = NewID("trk")
	}
	t.CreatedAt = time.Now().UTC().Truncate(time.Second)
	t.UpdatedAt = t.CreatedAt
	if t.ForwardIdentity == "" {
		t.ForwardIdentity = ForwardDiversion
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var sealed []byte
		if t.SetPassword && t.Password != "" {
			var err error
			if sealed, err = s.encrypt(t.Password); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO trunks(id, name, host, port, transport, username, password_enc, register, forward_identity, response_timeout_ms,
			emergency_site_identity, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, t.ID, t.Name, t.Host, t.Port, t.Transport, t.Username, sealed,
			b2i(t.Register), t.ForwardIdentity, t.ResponseTimeout.Milliseconds(), t.EmergencySiteIdentity, t.CreatedAt.Unix(), t.UpdatedAt.Unix())
		if isUnique(err) {
			return fmt.Errorf("trunk name %q: %w", t.Name, ErrConflict)
		}
		if err != nil {
			return err
		}
		t.PasswordSet = sealed != nil
		return insertSources(ctx, tx, t.ID, t.InboundSources)
	})
	if err != nil {
		return Trunk{}, err
	}
	t.Password, t.SetPassword = "", false
	s.trunks.invalidate()
	return t, nil
}

func insertSources(ctx context.Context, tx *sql.Tx, trunkID string, sources []string) error {
	for i, src := range sources {
		_, err := tx.ExecContext(ctx, `INSERT INTO trunk_sources(trunk_id, source, position) VALUES (?,?,?)`, trunkID, src, i)
		if isUnique(err) {
			return fmt.Errorf("inbound source %s belongs to another trunk: %w", src, ErrConflict)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UpdateTrunk replaces every field of a trunk; the password changes only
// when SetPassword is true (an empty Password then removes it).
func (s *Store) UpdateTrunk(ctx context.Context, t Trunk) error {
	t.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	if t.ForwardIdentity == "" {
		t.ForwardIdentity = ForwardDiversion
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE trunks SET name=?, host=?, port=?, transport=?, username=?, register=?, forward_identity=?, response_timeout_ms=?,
			emergency_site_identity=?, updated_at=? WHERE id=?`, t.Name, t.Host, t.Port, t.Transport, t.Username, b2i(t.Register), t.ForwardIdentity,
			t.ResponseTimeout.Milliseconds(), t.EmergencySiteIdentity, t.UpdatedAt.Unix(), t.ID)
		if isUnique(err) {
			return fmt.Errorf("trunk name %q: %w", t.Name, ErrConflict)
		}
		if err := affected(res, err); err != nil {
			return err
		}
		if t.SetPassword {
			var sealed []byte
			if t.Password != "" {
				if sealed, err = s.encrypt(t.Password); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE trunks SET password_enc=? WHERE id=?`, sealed, t.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM trunk_sources WHERE trunk_id=?`, t.ID); err != nil {
			return err
		}
		return insertSources(ctx, tx, t.ID, t.InboundSources)
	})
	if err == nil {
		s.trunks.invalidate()
	}
	return err
}

// Trunk returns a trunk with its inbound sources (never its password).
func (s *Store) Trunk(ctx context.Context, id string) (Trunk, error) {
	t, err := scanTrunk(s.r.QueryRowContext(ctx, `SELECT `+trunkCols+` FROM trunks WHERE id = ?`, id))
	if err != nil {
		return Trunk{}, err
	}
	srcs, err := s.trunkSources(ctx)
	t.InboundSources = srcs[t.ID]
	return t, err
}

// Trunks lists every trunk, oldest first.
func (s *Store) Trunks(ctx context.Context) ([]Trunk, error) {
	ts, err := collect(scanTrunk)(s.r.QueryContext(ctx, `SELECT `+trunkCols+` FROM trunks ORDER BY created_at, id`))
	if err != nil {
		return nil, err
	}
	srcs, err := s.trunkSources(ctx)
	for i := range ts {
		ts[i].InboundSources = srcs[ts[i].ID]
	}
	return ts, err
}

func (s *Store) trunkSources(ctx context.Context) (map[string][]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT trunk_id, source FROM trunk_sources ORDER BY trunk_id, position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, src string
		if err := rows.Scan(&id, &src); err != nil {
			return nil, err
		}
		out[id] = append(out[id], src)
	}
	return out, rows.Err()
}

// TrunkPassword decrypts a trunk's password ("" when it has none).
func (s *Store) TrunkPassword(ctx context.Context, id string) (string, error) {
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT password_enc FROM trunks WHERE id = ?`, id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil || sealed == nil {
		return "", err
	}
	return s.decrypt(sealed)
}

// DeleteTrunk removes a trunk and its sources.
func (s *Store) DeleteTrunk(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM trunks WHERE id = ?`, id)
	if err := affected(res, err); err != nil {
		return err
	}
	s.trunks.invalidate()
	return nil
}

// TrunkBySource returns the trunk an address belongs to: an "ip:port"
// source beats an "ip" source, which beats the longest matching prefix.
// ErrNotFound when no trunk claims it. It reads an in-memory matcher (see
// trunkMatcher), so it costs a few map look-ups per call, not a query.
func (s *Store) TrunkBySource(ctx context.Context, addr netip.AddrPort) (Trunk, error) {
	m, err := s.trunks.get(ctx, s.loadTrunkMatcher)
	if err != nil {
		return Trunk{}, err
	}
	t, ok := m.match(addr)
	if !ok {
		return Trunk{}, ErrNotFound
	}
	return t, nil
}

// ReloadTrunks rebuilds the source matcher from the database at once (a
// node sharing the database with others calls it when told of a change;
// otherwise the matcher refreshes itself every trunkMatcherTTL).
func (s *Store) ReloadTrunks(ctx context.Context) error {
	s.trunks.invalidate()
	_, err := s.trunks.get(ctx, s.loadTrunkMatcher)
	return err
}

func (s *Store) loadTrunkMatcher(ctx context.Context) (*trunkMatcher, error) {
	ts, err := s.Trunks(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: load trunks: %w", err)
	}
	return newTrunkMatcher(ts), nil
}

// TrunkByUsername returns the trunk, with a password, whose digest
// username is username (the oldest, should two share one); ErrNotFound
// when none. A carrier calling from outside its inbound sources
// authenticates with it.
func (s *Store) TrunkByUsername(ctx context.Context, username string) (Trunk, error) {
	if username == "" {
		return Trunk{}, ErrNotFound
	}
	return cached(&s.cache, "trunkuser\x00"+username, trunkTables, cloneTrunk, func() (Trunk, error) {
		return scanTrunk(s.r.QueryRowContext(ctx, `SELECT `+trunkCols+` FROM trunks
		WHERE username = ? AND password_enc IS NOT NULL ORDER BY created_at, id LIMIT 1`, username))
	})
}
