package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"pbx/provisioning"
	"pbx/store"
)

// provDirectory adapts the store to provisioning.Directory: the device with a
// MAC, the accounts it carries (its own, plus its handsets for a DECT base)
// with their SIP passwords decrypted for this file only, and its licence's
// BLF keys.
type provDirectory struct{ st *store.Store }

func (d provDirectory) DeviceByMAC(ctx context.Context, mac string) (*provisioning.Device, error) {
	dev, err := d.st.DeviceByMAC(ctx, mac)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("mac %s: %w", mac, provisioning.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	tenant, err := d.st.Tenant(ctx, dev.TenantID)
	if err != nil {
		return nil, err
	}
	owner, err := d.st.User(ctx, dev.TenantID, dev.UserID)
	if err != nil {
		return nil, err
	}
	out := &provisioning.Device{ID: dev.ID, TenantID: dev.TenantID, MAC: dev.MAC, Model: dev.Model,
		ProvUsername: dev.ProvUsername, ProvHA1MD5: dev.ProvHA1MD5, ProvHA1SHA256: dev.ProvHA1SHA256, ProvPasswordHash: dev.ProvPasswordHash,
		Language: owner.Language, Transport: dev.Transport}
	if dev.HasMACID {
		if out.MACID, err = d.st.DeviceMACID(ctx, dev.ID); err != nil {
			return nil, err
		}
	}
	handsets, err := d.st.Handsets(ctx, dev.TenantID, dev.ID)
	if err != nil {
		return nil, err
	}
	for i, h := range append([]store.Device{dev}, handsets...) {
		u := owner
		if h.UserID != owner.ID {
			if u, err = d.st.User(ctx, h.TenantID, h.UserID); err != nil {
				return nil, err
			}
		}
		pw, err := d.st.DevicePassword(ctx, h.ID)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSpace(u.FirstName + " " + u.LastName)
		prof, err := d.st.DeviceProfile(ctx, h.TenantID, h.ID)
		if err != nil {
			return nil, err
		}
		out.Accounts = append(out.Accounts, provisioning.Account{DisplayName: name, Extension: u.Extension, SIPUsername: h.SIPUsername,
			SIPPassword: pw, SIPDomain: tenant.Domain, Light: u.Licence == store.LicenceLight, Handset: i + 1,
			HandsetModel: prof.HandsetModel, Fax: prof.Fax})
	}
	keys, err := d.st.BLFKeys(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		target, err := d.st.User(ctx, dev.TenantID, k.TargetUserID)
		if err != nil {
			continue // a colleague who left: the key disappears
		}
		label := k.Label
		if label == "" {
			label = target.FirstName
		}
		// REST positions order the BLF keys; they fill the programmable keys
		// after the line keys, so Position stays automatic here.
		out.BLF = append(out.BLF, provisioning.BLFKey{Line: 1, Target: target.Extension, Label: label})
	}
	return out, nil
}

// provisioningBaseURL is the URL devices are told to fetch their files from.
func (a *app) provisioningBaseURL() string {
	if a.cfg.ProvURL != "" {
		return a.cfg.ProvURL
	}
	scheme, ln := "http", a.httpLn
	if a.httpsLn != nil {
		scheme, ln = "https", a.httpsLn
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return scheme + "://" + net.JoinHostPort(a.sip.PublicHost(), port) + provisioning.PathPrefix
}

func portOf(addr net.Addr) int {
	if addr == nil {
		return 0
	}
	_, p, _ := net.SplitHostPort(addr.String())
	var n int
	fmt.Sscan(p, &n)
	return n
}

// provisioningHandler serves /prov/ once the listeners are bound.
func (a *app) provisioningHandler() http.Handler {
	return provisioning.NewHandler(provisioning.Options{
		Directory: provDirectory{a.store},
		Server: provisioning.Server{Host: a.sip.PublicHost(), UDPPort: portOf(a.sip.Addr("udp")), TCPPort: portOf(a.sip.Addr("tcp")),
			TLSPort: portOf(a.sip.Addr("tls")), ProvisioningURL: a.provisioningBaseURL()},
		Logger:    a.log,
		NonceKey:  a.nonceKey,
		Phonebook: provPhonebook{a.store},
	})
}

// issueProvisioning creates the provisioning credential of a new desk phone.
func (a *app) issueProvisioning(ctx context.Context, mac, model string) (url, username, password, ha1md5, ha1sha256 string, hash []byte, err error) {
	c, err := provisioning.NewCredentials(mac)
	if err != nil {
		return
	}
	m, ok := provisioning.LookupModel(model)
	if !ok {
		m = provisioning.Model{Vendor: provisioning.Yealink}
	}
	url, err = provisioning.ProvisioningURL(a.provisioningBaseURL(), m, mac)
	return url, c.Username, c.Password, c.HA1MD5, c.HA1SHA256, c.PasswordHash, err
}

func validModel(model string) bool {
	_, ok := provisioning.LookupModel(model)
	return ok
}
