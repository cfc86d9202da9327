package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/sip/b2bua"
	"pbx/sip/registrar"
	"pbx/store"
)

// Trunks recognises carrier trunks by the address their requests come
// from. None exist yet: carriers and their numbers come with the number
// table, which will give the store this one method.
type Trunks interface {
	TrunkBySource(addr netip.AddrPort) (trunkID string, ok bool)
}

// deviceAuthenticator checks a device's digest credentials (the
// registrar; proxy=true challenges with 407).
type deviceAuthenticator interface {
	Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.DeviceAuth, bool)
}

// accountAuthenticator checks digest credentials against accounts of the
// caller's choosing (the registrar), with the same challenges and bans.
type accountAuthenticator interface {
	AuthenticateWith(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool, lookup registrar.AccountLookup) (store.DeviceAuth, bool)
}

// trunkAccounts finds the trunk a carrier authenticates as, by its digest
// username, and devices for every other username (the store).
type trunkAccounts interface {
	TrunkByUsername(ctx context.Context, username string) (store.Trunk, error)
	TrunkPassword(ctx context.Context, id string) (string, error)
	DeviceAuthByUsername(ctx context.Context, username string) (store.DeviceAuth, error)
}

// admitter tells the b2bua who places a call: a carrier trunk, recognised
// by its source address without a challenge (carriers do not answer
// one), else a device or a trunk (a carrier calling from elsewhere) that
// proves its credentials. It does not judge
// whether the caller may call: that is the dialplan's policy step.
type admitter struct {
	devices deviceAuthenticator
	trunks  Trunks // nil: no trunk
	// accounts, when devices is also an accountAuthenticator, lets a
	// caller authenticate as a trunk; nil: devices only.
	accounts trunkAccounts
}

var _ b2bua.Admitter = (*admitter)(nil)

func (a *admitter) Admit(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (callctl.Origin, bool) {
	src := req.Source()
	if a.trunks != nil {
		if ap, err := netip.ParseAddrPort(src); err == nil {
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			if id, ok := a.trunks.TrunkBySource(ap); ok {
				return trunkOrigin(id, src, req), true
			}
		}
	}
	if aa, ok := a.devices.(accountAuthenticator); ok && a.accounts != nil {
		return a.admitAccount(ctx, req, tx, aa)
	}
	da, ok := a.devices.Authenticate(ctx, req, tx, true)
	if !ok {
		return callctl.Origin{}, false
	}
	return deviceOrigin(da, src), true
}

// admitAccount authenticates the caller as a trunk when its digest
// username is a trunk's, else as a device: one 407 round trip, the same
// nonces, verification and bans for both.
func (a *admitter) admitAccount(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, aa accountAuthenticator) (callctl.Origin, bool) {
	trunkID := ""
	da, ok := aa.AuthenticateWith(ctx, req, tx, true, func(ctx context.Context, user, realm string) (store.DeviceAuth, error) {
		t, err := a.accounts.TrunkByUsername(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			return a.accounts.DeviceAuthByUsername(ctx, user)
		}
		if err != nil {
			return store.DeviceAuth{}, err
		}
		pw, err := a.accounts.TrunkPassword(ctx, t.ID)
		if err != nil {
			return store.DeviceAuth{}, err
		}
		trunkID = t.ID
		// The trunk verifies in whatever realm it was challenged in.
		return store.DeviceAuth{Tenant: store.Tenant{Domain: realm},
			Device: store.Device{HA1MD5: store.HA1("MD5", user, realm, pw), HA1SHA256: store.HA1("SHA-256", user, realm, pw)}}, nil
	})
	if !ok {
		return callctl.Origin{}, false
	}
	if trunkID != "" {
		return trunkOrigin(trunkID, req.Source(), req), true
	}
	return deviceOrigin(da, req.Source()), true
}

// deviceOrigin is a call from an authenticated device: it presents its
// licence's name and extension (a light licence has none).
func deviceOrigin(da store.DeviceAuth, src string) callctl.Origin {
	caller := callctl.Party{Name: strings.TrimSpace(da.User.FirstName + " " + da.User.LastName), Number: da.User.Extension,
		Domain: da.Tenant.Domain, UserID: da.User.ID}
	return callctl.Origin{Kind: callctl.OriginDevice, TenantID: da.Tenant.ID, Domain: da.Tenant.Domain, UserID: da.User.ID,
		DeviceID: da.Device.ID, Source: src, Caller: caller}
}

// trunkOrigin is a call from a carrier: the caller is who its From names;
// the tenant is found later, from the called number.
func trunkOrigin(trunkID, src string, req *sip.Request) callctl.Origin {
	var caller callctl.Party
	if from := req.From(); from != nil {
		caller = callctl.Party{Name: from.DisplayName, Number: from.Address.User}
	}
	// A caller who withholds their number (RFC 3323/3325) is anonymous to
	// us too, whatever From or P-Asserted-Identity still carry.
	if h := req.GetHeader("Privacy"); h != nil && privacyID(h.Value()) {
		caller = callctl.Party{Name: "Anonymous", Number: "anonymous", Domain: "anonymous.invalid"}
	}
	return callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: trunkID, Source: src, Caller: caller}
}

// privacyID reports whether a Privacy header value asks for the caller's
// identity to be withheld (id, user or header).
func privacyID(v string) bool {
	for _, p := range strings.Split(v, ";") {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "id", "user", "header":
			return true
		}
	}
	return false
}
