package sipauth

import (
	"net/netip"
	"time"
)

// The request-rate rule (the idea of Kamailio's pike module): a source that
// sends more than MaxRequestsPerSource out-of-dialog requests within
// RequestWindow is ignored for RateBanTime, whatever it sends. Sources the
// Exempt hook vouches for (registered devices, carrier trunks) are never
// limited, so an office whose phones share one NAT address is never banned
// for its registration storm after an outage once one phone has registered.

// rateCounter counts the requests of one source in the current window.
type rateCounter struct {
	start    time.Time
	requests int
	until    time.Time // banned until
	exempt   time.Time // Exempt said yes; not asked again before this
	asking   bool      // Exempt is being asked about this source
}

// Request counts an out-of-dialog request from src and reports whether it
// may be handled; false means the source is banned (now or by this request)
// and the request must be dropped unanswered. The first request over the
// limit starts the ban, which is logged and reported to OnBan once.
func (g *Guard) Request(src netip.AddrPort) bool {
	if g.cfg.MaxRequestsPerSource <= 0 {
		return true
	}
	ip := src.Addr().Unmap()
	g.mu.Lock()
	now := g.now()
	c := g.rate[ip]
	if c == nil {
		if len(g.rate) >= maxTracked {
			g.sweepRate(now)
		}
		c = &rateCounter{start: now}
		g.rate[ip] = c
	}
	switch {
	case now.Before(c.until):
		g.mu.Unlock()
		return false
	case now.Before(c.exempt):
		g.mu.Unlock()
		return true
	case now.Sub(c.start) >= g.cfg.RequestWindow:
		c.start, c.requests = now, 0
	}
	c.requests++
	// Under the limit, or over it while the source is being looked into
	// (its requests get the benefit of the doubt meanwhile).
	if c.requests <= g.cfg.MaxRequestsPerSource || c.asking {
		g.mu.Unlock()
		return true
	}
	n := c.requests
	c.asking = true
	g.mu.Unlock()
	// Over the limit: ask whether the source is one we know, outside the
	// lock (the hook may read the store); this happens once per window.
	exempt := g.Exempt != nil && g.Exempt(src)
	g.mu.Lock()
	c.asking = false
	if exempt {
		c.exempt = now.Add(g.cfg.RequestWindow)
		g.mu.Unlock()
		return true
	}
	c.until = now.Add(g.cfg.RateBanTime)
	g.banUntil(c.until)
	c.start, c.requests = now, 0
	g.mu.Unlock()
	g.log.Warn("sip source banned", "source", ip.String(), "reason", "request rate",
		"requests", n, "within", g.cfg.RequestWindow, "ban", g.cfg.RateBanTime)
	if g.OnBan != nil {
		g.OnBan("rate", ip.String())
	}
	return false
}

// RateBanned reports whether ip is banned by the request-rate rule: all its
// input is then dropped unread. (A source banned for authentication
// failures only has its requests for authentication ignored: its address
// may be an office's NAT, whose other phones keep their calls.)
func (g *Guard) RateBanned(ip netip.Addr) bool {
	now := g.now()
	if !g.anyBan(now) {
		return false
	}
	ip = ip.Unmap()
	g.mu.Lock()
	c := g.rate[ip]
	banned := c != nil && now.Before(c.until)
	g.mu.Unlock()
	return banned
}

// maxTracked bounds each map of counters; beyond it, idle ones are swept.
const maxTracked = 100000

func (g *Guard) sweepRate(now time.Time) {
	for k, c := range g.rate {
		if now.Sub(c.start) >= g.cfg.RequestWindow && !now.Before(c.until) && !now.Before(c.exempt) {
			delete(g.rate, k)
		}
	}
}
