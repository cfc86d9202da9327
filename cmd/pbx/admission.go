package main

import (
	"context"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/sip/b2bua"
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

// admitter tells the b2bua who places a call: a carrier trunk, recognised
// by its source address without a challenge (carriers do not answer
// one), else a device that proves its credentials. It does not judge
// whether the caller may call: that is the dialplan's policy step.
type admitter struct {
	devices deviceAuthenticator
	trunks  Trunks // nil: no trunk
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
	da, ok := a.devices.Authenticate(ctx, req, tx, true)
	if !ok {
		return callctl.Origin{}, false
	}
	return deviceOrigin(da, src), true
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
	return callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: trunkID, Source: src, Caller: caller}
}
