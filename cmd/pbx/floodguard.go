package main

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"pbx/sip/sipauth"
)

// newGuard is the protection against password guessing and floods: bans
// after repeated authentication failures, and a per-source rate of
// out-of-dialog requests (see sipauth.Guard.Request).
func newGuard(cfg config, log *slog.Logger) *sipauth.Guard {
	return sipauth.NewGuard(sipauth.GuardConfig{MaxFailuresPerSource: cfg.BanSource, MaxFailuresPerAccount: cfg.BanAccount,
		Window: cfg.BanWindow, BanTime: cfg.BanTime,
		MaxRequestsPerSource: cfg.RateLimit, RequestWindow: cfg.RateWindow, RateBanTime: cfg.RateBanTime}, log)
}

// exemptSource reports whether a source over the request rate is one we
// know: a trusted edge proxy, an address a device is registered from, or
// a trunk's. The request
// rate never limits those.
func (a *app) exemptSource(src netip.AddrPort) bool {
	if slices.Contains(a.cfg.TrustedProxies, src.Addr().Unmap()) {
		return true
	}
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	if a.regis.SourceRegistered(ctx, src) {
		return true
	}
	_, err := a.store.TrunkBySource(ctx, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	return err == nil
}
