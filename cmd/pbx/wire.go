package main

import (
	"context"
	"net/http"

	"pbx/api"
	"pbx/provisioning"
)

// mountHTTP adds the REST API and the provisioning server to mux.
func (a *app) mountHTTP(mux *http.ServeMux) {
	mux.Handle("/api/", api.New(api.Options{
		Store:             a.store,
		BaseDomain:        a.cfg.BaseDomain,
		Logger:            a.log,
		IssueProvisioning: a.issueProvisioning,
		ValidModel:        validModel,
		Models:            deviceModels{},
		DataDir:           a.cfg.DataDir,
		Voicemail:         a.calls.voicemail,
		TrunkRegistration: a.trunkRegistration,
		TrunkChanged: func() {
			if a.trunkReg != nil {
				a.trunkReg.Notify()
			}
		},
		TenantChanged: func(ctx context.Context) {
			if err := a.loadDigestPolicies(ctx); err != nil {
				a.log.Error("reload after a tenant change", "error", err)
			}
		},
	}))
	mux.Handle(provisioning.PathPrefix, a.provisioningHandler())
}

// closeComponents removes the registrations to carriers and ends calls
// and media before the SIP endpoint closes.
func (a *app) closeComponents() {
	if a.trunkReg != nil {
		a.trunkReg.Close()
	}
	a.closeCalls()
	a.closeEmergency()
}
