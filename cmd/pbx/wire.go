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
		DataDir:           a.cfg.DataDir,
		Voicemail:         a.calls.voicemail,
		TenantChanged: func(ctx context.Context) {
			if err := a.loadDigestPolicies(ctx); err != nil {
				a.log.Error("reload after a tenant change", "error", err)
			}
		},
	}))
	mux.Handle(provisioning.PathPrefix, a.provisioningHandler())
}

// closeComponents ends calls and media before the SIP endpoint closes.
func (a *app) closeComponents() { a.closeCalls() }
