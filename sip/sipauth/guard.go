package sipauth

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// GuardConfig sets the thresholds of the password-guessing protection.
type GuardConfig struct {
	// MaxFailuresPerSource failed authentications from one IP address within
	// Window ban that address for BanTime. Zero disables the source rule.
	MaxFailuresPerSource int
	// MaxFailuresPerAccount failed authentications against one account within
	// Window ban that account (from every address) for BanTime.
	MaxFailuresPerAccount int
	Window                time.Duration
	BanTime               time.Duration
	// MaxRequestsPerSource out-of-dialog requests from one IP address
	// within RequestWindow ban it for RateBanTime (see Request). Zero
	// disables the rule.
	MaxRequestsPerSource int
	RequestWindow        time.Duration // default 5 s
	RateBanTime          time.Duration // default BanTime
}

// DefaultGuardConfig is a conservative default: generous enough for a phone
// with a stale password retrying, strict enough to stop a scanner. The
// request rate, 1,000 out-of-dialog requests in 5 s (200/s), is far above
// what the phones of an office behind one NAT send before the first of them
// has registered (and registered sources are never limited), and far below
// a flood.
var DefaultGuardConfig = GuardConfig{MaxFailuresPerSource: 20, MaxFailuresPerAccount: 10, Window: time.Minute, BanTime: 15 * time.Minute,
	MaxRequestsPerSource: 1000, RequestWindow: 5 * time.Second}

type counter struct {
	start    time.Time
	failures int
	until    time.Time
}

// Guard counts authentication failures and bans sources and accounts that
// exceed the thresholds. It is safe for concurrent use.
type Guard struct {
	cfg   GuardConfig
	log   *slog.Logger
	now   func() time.Time
	OnBan func(kind, key string) // metrics hook; kind is "source", "account" or "rate"
	// Exempt reports whether a source is never limited by the request
	// rate (a registered device's address, a trunk's); nil exempts none.
	// It is asked only when a source exceeds the rate, outside the lock.
	Exempt func(src netip.AddrPort) bool
	mu     sync.Mutex
	source map[string]*counter
	acct   map[string]*counter
	rate   map[netip.Addr]*rateCounter
	// lastBanEnd is when the latest ban of any kind ends (Unix ns): until
	// then the maps must be asked; after it, nothing is banned and the
	// checks made for every request take no lock.
	lastBanEnd atomic.Int64
}

// banUntil records that a ban runs until t; the caller holds g.mu.
func (g *Guard) banUntil(t time.Time) {
	if n := t.UnixNano(); n > g.lastBanEnd.Load() {
		g.lastBanEnd.Store(n)
	}
}

// anyBan reports whether some ban may still run at now.
func (g *Guard) anyBan(now time.Time) bool { return now.UnixNano() < g.lastBanEnd.Load() }

// NewGuard returns a Guard with cfg.
func NewGuard(cfg GuardConfig, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.BanTime <= 0 {
		cfg.BanTime = 15 * time.Minute
	}
	if cfg.RequestWindow <= 0 {
		cfg.RequestWindow = 5 * time.Second
	}
	if cfg.RateBanTime <= 0 {
		cfg.RateBanTime = cfg.BanTime
	}
	return &Guard{cfg: cfg, log: log, now: time.Now, source: map[string]*counter{}, acct: map[string]*counter{},
		rate: map[netip.Addr]*rateCounter{}}
}

// SetClock replaces the clock (tests).
func (g *Guard) SetClock(now func() time.Time) { g.now = now }

// SourceBanned reports whether ip is banned.
func (g *Guard) SourceBanned(ip string) bool { return g.banned(g.source, ip) }

// AccountBanned reports whether the account is banned.
func (g *Guard) AccountBanned(user string) bool { return g.banned(g.acct, user) }

func (g *Guard) banned(m map[string]*counter, key string) bool {
	if !g.anyBan(g.now()) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c := m[key]
	return c != nil && g.now().Before(c.until)
}

// Fail records a failed authentication of user from ip.
func (g *Guard) Fail(ip, user string) {
	g.mu.Lock()
	now := g.now()
	var bans [][2]string
	if g.cfg.MaxFailuresPerSource > 0 && ip != "" && g.hit(g.source, ip, g.cfg.MaxFailuresPerSource, now) {
		bans = append(bans, [2]string{"source", ip})
	}
	if g.cfg.MaxFailuresPerAccount > 0 && user != "" && g.hit(g.acct, user, g.cfg.MaxFailuresPerAccount, now) {
		bans = append(bans, [2]string{"account", user})
	}
	if len(g.source)+len(g.acct) > maxTracked {
		g.sweep(now)
	}
	g.mu.Unlock()
	for _, b := range bans {
		g.log.Warn("sip authentication ban", "kind", b[0], "key", b[1], "failures_within", g.cfg.Window, "ban", g.cfg.BanTime)
		if g.OnBan != nil {
			g.OnBan(b[0], b[1])
		}
	}
}

// hit counts one failure and reports whether it starts a ban.
func (g *Guard) hit(m map[string]*counter, key string, max int, now time.Time) bool {
	c := m[key]
	if c == nil || now.Sub(c.start) > g.cfg.Window {
		if c != nil && now.Before(c.until) {
			return false
		}
		c = &counter{start: now}
		m[key] = c
	}
	c.failures++
	if c.failures >= max && !now.Before(c.until) {
		c.until = now.Add(g.cfg.BanTime)
		g.banUntil(c.until)
		c.failures = 0
		c.start = now
		return true
	}
	return false
}

// Succeed forgets the failures of an account after a good authentication.
func (g *Guard) Succeed(user string) {
	g.mu.Lock()
	if c := g.acct[user]; c != nil && !g.now().Before(c.until) {
		delete(g.acct, user)
	}
	g.mu.Unlock()
}

func (g *Guard) sweep(now time.Time) {
	for _, m := range []map[string]*counter{g.source, g.acct} {
		for k, c := range m {
			if now.Sub(c.start) > g.cfg.Window && !now.Before(c.until) {
				delete(m, k)
			}
		}
	}
}
