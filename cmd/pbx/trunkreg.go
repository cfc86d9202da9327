package main

import (
	"pbx/api"
	"pbx/sip/trunkreg"
)

// startTrunkReg starts the registrations to carriers once the SIP
// listeners are bound (the Contact names their ports).
func (a *app) startTrunkReg() {
	cfg := a.cfg.TrunkRegTiming
	cfg.Store, cfg.Client, cfg.Contact, cfg.Log = a.store, a.sip.Client, a.sip.ContactURI, a.log
	a.trunkReg = trunkreg.New(cfg)
}

// trunkRegistration is a trunk's registration state for the API.
func (a *app) trunkRegistration(trunkID string) (api.TrunkRegistration, bool) {
	if a.trunkReg == nil {
		return api.TrunkRegistration{}, false
	}
	s, ok := a.trunkReg.State(trunkID)
	return api.TrunkRegistration{State: s.State, Status: s.Status, Error: s.Error, ExpiresAt: s.ExpiresAt}, ok
}
