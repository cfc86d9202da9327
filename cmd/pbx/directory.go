package main

import (
	"context"
	"strings"

	"pbx/provisioning"
	"pbx/store"
)

// deviceModels answers the API's questions about models from the
// provisioning catalogue.
type deviceModels struct{}

func (deviceModels) Slots(model string) (dect, ports bool) {
	m, ok := provisioning.LookupModel(model)
	if !ok {
		return false, false
	}
	return m.IsDECT(), m.HasPorts()
}

func (deviceModels) HandsetFits(handset, base string) bool {
	return provisioning.HandsetFits(handset, base)
}

// provPhonebook is the company directory of a tenant: every active full
// licence by extension, then the shared contacts, read afresh for each
// request so that a phone's next refresh shows an edit.
type provPhonebook struct{ st *store.Store }

func (p provPhonebook) Phonebook(ctx context.Context, tenantID string) ([]provisioning.Entry, error) {
	users, err := p.st.Users(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []provisioning.Entry
	for _, u := range users {
		if u.Licence != store.LicenceFull || u.Extension == "" || u.Status != "active" {
			continue
		}
		out = append(out, provisioning.Entry{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Numbers: []string{u.Extension}})
	}
	contacts, err := p.st.Contacts(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, c := range contacts {
		out = append(out, provisioning.Entry{Name: c.Name, Numbers: c.Numbers})
	}
	return out, nil
}
