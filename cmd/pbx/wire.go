package main

import (
	"net/http"

	"pbx/api"
)

// mountHTTP adds the REST API and the provisioning server to mux.
func (a *app) mountHTTP(mux *http.ServeMux) {
	mux.Handle("/api/", api.New(api.Options{
		Store:      a.store,
		BaseDomain: a.cfg.BaseDomain,
		Logger:     a.log,
	}))
}

// closeComponents ends calls and media before the SIP endpoint closes.
func (a *app) closeComponents() {}
