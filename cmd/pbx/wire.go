package main

import "net/http"

// mountHTTP adds the REST API and the provisioning server to mux.
func (a *app) mountHTTP(mux *http.ServeMux) {}

// closeComponents ends calls and media before the SIP endpoint closes.
func (a *app) closeComponents() {}
