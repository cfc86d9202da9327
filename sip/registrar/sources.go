package registrar

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"pbx/store"
)

// sources remembers the IP addresses that registered devices send from,
// with the time their last binding there expires: the request-rate limit
// never applies to them (many phones behind one office NAT share one).
// It is filled by successful REGISTERs and, the first time it is asked
// after a start, from the store's live UDP bindings, so a restart does
// not forget the offices whose phones registered before it.
type sources struct {
	mu     sync.Mutex
	until  map[netip.Addr]time.Time
	loaded bool
}

// udpBindingsStore is the optional store method the first look-up uses.
type udpBindingsStore interface {
	UDPBindings(ctx context.Context, now time.Time) ([]store.Binding, error)
}

func (s *sources) note(src string, expires time.Time) {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return
	}
	ip := ap.Addr().Unmap()
	s.mu.Lock()
	if s.until == nil {
		s.until = map[netip.Addr]time.Time{}
	}
	if expires.After(s.until[ip]) {
		s.until[ip] = expires
	}
	s.mu.Unlock()
}

// SourceRegistered reports whether a device holds a live binding from the
// IP address of src. It is meant to be asked rarely (when a source exceeds
// its request rate): the first call after a start reads the store.
func (r *Registrar) SourceRegistered(ctx context.Context, src netip.AddrPort) bool {
	now := r.now()
	s := &r.sources
	s.mu.Lock()
	loaded := s.loaded
	s.loaded = true
	s.mu.Unlock()
	if !loaded {
		if st, ok := r.store.(udpBindingsStore); ok {
			bs, err := st.UDPBindings(ctx, now)
			if err != nil {
				r.log.Warn("registrar: read the sources of bindings", "error", err)
			}
			for _, b := range bs {
				s.note(b.Source, now.Add(time.Duration(r.cfg.MaxExpires)*time.Second))
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.until[src.Addr().Unmap()]
	return ok && now.Before(until)
}

// forgetExpired drops the addresses whose bindings have all expired.
func (s *sources) forgetExpired(now time.Time) {
	s.mu.Lock()
	for ip, until := range s.until {
		if !now.Before(until) {
			delete(s.until, ip)
		}
	}
	s.mu.Unlock()
}
