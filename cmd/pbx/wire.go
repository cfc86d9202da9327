package main

import (
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
	}))
	mux.Handle(provisioning.PathPrefix, a.provisioningHandler())
}

// closeComponents ends calls and media before the SIP endpoint closes.
func (a *app) closeComponents() { a.closeCalls() }
