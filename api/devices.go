package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pbx/store"
)

type createDeviceRequest struct {
	Kind  string `json:"kind" enum:"yealink,gigaset,grandstream,softphone,generic"`
	MAC   string `json:"mac,omitempty" doc:"desk phones: 805EC0A1B2C3, 80:5e:c0:a1:b2:c3 or 80-5E-C0-A1-B2-C3; stored as 12 lower-case hex digits"`
	Model string `json:"model,omitempty"`
	// BaseDeviceID makes the device a DECT handset of that base, or a port of
	// that analogue adapter.
	BaseDeviceID string `json:"base_device_id,omitempty" doc:"DECT handset or adapter port: the id of the DECT base or analogue adapter (a device with a MAC of this tenant) it hangs off"`
	Transport    string `json:"transport,omitempty" enum:"udp,tcp,tls" doc:"SIP transport written into the provisioning file; empty: the server default"`
	MACID        string `json:"mac_id,omitempty" doc:"Gigaset base: the MAC-ID on its label (12 letters and digits, dashes allowed); the factory-new base then fetches its file with it, no credential typed in. Kept encrypted, never shown again"`
	profileFields
}

type deviceJSON struct {
	ID                   string    `json:"id"`
	UserID               string    `json:"user_id"`
	Kind                 string    `json:"kind" enum:"yealink,gigaset,grandstream,softphone,generic"`
	Model                string    `json:"model,omitempty"`
	MAC                  string    `json:"mac,omitempty"`
	BaseDeviceID         string    `json:"base_device_id,omitempty"`
	Transport            string    `json:"transport,omitempty"`
	SIPUsername          string    `json:"sip_username"`
	SIPDomain            string    `json:"sip_domain"`
	ProvisioningUsername string    `json:"provisioning_username,omitempty"`
	MACIDSet             bool      `json:"mac_id_set,omitempty" doc:"a Gigaset base's MAC-ID is recorded"`
	HandsetModel         string    `json:"handset_model,omitempty" doc:"DECT handset model, as recorded"`
	Fax                  bool      `json:"fax,omitempty" doc:"adapter port serving a fax machine"`
	CreatedAt            time.Time `json:"created_at"`
}

// deviceCredentialsJSON is the only shape that carries secrets: the answer
// to creation and rotation, never stored or shown again.
type deviceCredentialsJSON struct {
	deviceJSON
	SIPPassword          string `json:"sip_password"`
	ProvisioningURL      string `json:"provisioning_url,omitempty"`
	ProvisioningPassword string `json:"provisioning_password,omitempty"`
}

func toDeviceJSON(d store.Device, domain string) deviceJSON {
	return deviceJSON{ID: d.ID, UserID: d.UserID, Kind: d.Kind, Model: d.Model, MAC: d.MAC, BaseDeviceID: d.BaseDeviceID, Transport: d.Transport, SIPUsername: d.SIPUsername,
		SIPDomain: domain, ProvisioningUsername: d.ProvUsername, MACIDSet: d.HasMACID, CreatedAt: d.CreatedAt}
}

// device loads the {device} of the path, which must belong to the {user}.
func (c *call) device() (store.Device, error) {
	id := c.path("device")
	d, err := c.s.store.Device(c.ctx(), c.tenant.ID, id)
	if err == nil && d.UserID != c.path("user") {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return d, notFound("device %q of user %q not found", id, c.path("user"))
	}
	return d, err
}

func (s *server) createDevice(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	var in createDeviceRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	fe.oneOf("kind", in.Kind, true, deviceKinds...)
	d := store.Device{TenantID: c.tenant.ID, UserID: u.ID, Kind: in.Kind}
	d.Model = fe.text("model", in.Model, false, 64)
	if d.Model != "" && s.validModel != nil && !s.validModel(d.Model) {
		fe.add("model", "model %q is not supported", d.Model)
	}
	if in.MAC != "" {
		mac, err := normalizeMAC(in.MAC)
		switch {
		case err != nil:
			fe.add("mac", "%v", err)
		case in.Kind == "softphone":
			fe.add("mac", "a softphone has no MAC address")
		default:
			d.MAC = mac
		}
	}
	fe.oneOf("transport", in.Transport, false, "udp", "tcp", "tls")
	d.Transport = in.Transport
	base := d
	if in.BaseDeviceID != "" {
		var err error
		base, err = s.store.Device(c.ctx(), c.tenant.ID, in.BaseDeviceID)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !s.carriesSlots(base)):
			fe.add("base_device_id", "no DECT base or adapter %q in this tenant", in.BaseDeviceID)
		case err != nil:
			return err
		case in.MAC != "":
			fe.add("mac", "a DECT handset has no MAC address: its base has")
		}
		d.BaseDeviceID = in.BaseDeviceID
	}
	if in.MACID != "" {
		id, err := normalizeMACID(in.MACID)
		switch {
		case err != nil:
			fe.add("mac_id", "%v", err)
		case in.Kind != "gigaset" || in.MAC == "" || in.BaseDeviceID != "":
			fe.add("mac_id", "only a Gigaset base (kind gigaset, with a mac) has a MAC-ID")
		default:
			d.MACID = id
		}
	}
	profile := s.checkProfile(&fe, in.profileFields, base)
	if err := fe.err(); err != nil {
		return err
	}
	if n, err := s.store.Devices(c.ctx(), c.tenant.ID, u.ID); err != nil {
		return err
	} else if len(n) >= u.MaxDevices() {
		return deviceLimit(u.Licence, u.MaxDevices())
	}
	if d.MAC != "" {
		if err := s.macTaken(c, d.MAC); err != nil {
			return err
		}
	}
	var provURL, provPassword string
	if d.MAC != "" && s.issueProv != nil {
		var err error
		provURL, d.ProvUsername, provPassword, d.ProvHA1MD5, d.ProvHA1SHA256, d.ProvPasswordHash, err = s.issueProv(c.ctx(), d.MAC, d.Model)
		if err != nil {
			return fmt.Errorf("issue provisioning credential for %s: %w", d.MAC, err)
		}
	}
	password := newSIPPassword()
	// A clash of 60-bit random usernames is all but impossible; still, a
	// conflict must not turn into a 409 the client cannot explain.
	for attempt := 0; ; attempt++ {
		d.SIPUsername = newSIPUsername()
		created, err := s.store.CreateDevice(c.ctx(), d, password)
		if err == nil {
			d = created
			break
		}
		switch {
		case errors.Is(err, store.ErrLimit):
			return deviceLimit(u.Licence, u.MaxDevices())
		case errors.Is(err, store.ErrNotFound):
			return notFound("user %q not found", u.ID)
		case errors.Is(err, store.ErrConflict) && d.MAC != "":
			if err := s.macTaken(c, d.MAC); err != nil {
				return err
			}
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 2 {
			return err
		}
	}
	if err := s.saveProfile(c.ctx(), c.tenant.ID, d.ID, profile); err != nil {
		return err
	}
	out := deviceCredentialsJSON{deviceJSON: withProfile(toDeviceJSON(d, c.tenant.Domain), profile), SIPPassword: password,
		ProvisioningURL: provURL, ProvisioningPassword: provPassword}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/users/"+u.ID+"/devices/"+d.ID, out)
}

// macTaken answers 409 when a device (of any tenant: provisioning finds a
// phone by MAC alone) already has mac.
func (s *server) macTaken(c *call, mac string) error {
	_, err := s.store.DeviceByMAC(c.ctx(), mac)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return conflictOn("mac", fmt.Sprintf("MAC %s is already registered to a device", mac))
}

func (s *server) listUserDevices(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	return s.replyDevices(c, u.ID)
}

func (s *server) listDevices(c *call) error { return s.replyDevices(c, "") }

func (s *server) replyDevices(c *call, userID string) error {
	ds, err := s.store.Devices(c.ctx(), c.tenant.ID, userID)
	if err != nil {
		return err
	}
	profiles, err := s.store.DeviceProfiles(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, withProfile(toDeviceJSON(d, c.tenant.Domain), profiles[d.ID]))
	}
	return c.reply(200, out)
}

func (s *server) getDevice(c *call) error {
	d, err := c.device()
	if err != nil {
		return err
	}
	p, err := s.store.DeviceProfile(c.ctx(), c.tenant.ID, d.ID)
	if err != nil {
		return err
	}
	return c.reply(200, withProfile(toDeviceJSON(d, c.tenant.Domain), p))
}

func (s *server) deleteDevice(c *call) error {
	d, err := c.device()
	if err != nil {
		return err
	}
	if err := s.store.DeleteDevice(c.ctx(), c.tenant.ID, d.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("device %q not found", d.ID)
		}
		return err
	}
	return c.noContent()
}

// rotateDevice replaces the SIP password; the provisioning credential stays,
// since the phone needs it to fetch its new password.
func (s *server) rotateDevice(c *call) error {
	d, err := c.device()
	if err != nil {
		return err
	}
	password := newSIPPassword()
	if err := s.store.RotateDeviceCredentials(c.ctx(), c.tenant.ID, d.ID, password); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("device %q not found", d.ID)
		}
		return err
	}
	return c.reply(200, deviceCredentialsJSON{deviceJSON: toDeviceJSON(d, c.tenant.Domain), SIPPassword: password})
}

// Registrations and call records.

type registrationJSON struct {
	DeviceID  string    `json:"device_id"`
	Contact   string    `json:"contact"`
	Source    string    `json:"source" doc:"host:port the REGISTER came from"`
	Transport string    `json:"transport" enum:"udp,tcp,tls,ws,wss"`
	UserAgent string    `json:"user_agent"`
	ExpiresAt time.Time `json:"expires_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func replyBindings(c *call, bs []store.Binding) error {
	out := make([]registrationJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, registrationJSON{DeviceID: b.DeviceID, Contact: b.Contact, Source: b.Source, Transport: b.Transport,
			UserAgent: b.UserAgent, ExpiresAt: b.ExpiresAt.UTC(), UpdatedAt: b.UpdatedAt.UTC()})
	}
	return c.reply(200, out)
}

func (s *server) listRegistrations(c *call) error {
	bs, err := s.store.TenantBindings(c.ctx(), c.tenant.ID, s.now())
	if err != nil {
		return err
	}
	return replyBindings(c, bs)
}

func (s *server) listUserRegistrations(c *call) error {
	u, err := c.user()
	if err != nil {
		return err
	}
	bs, err := s.store.UserBindings(c.ctx(), u.ID, s.now())
	if err != nil {
		return err
	}
	return replyBindings(c, bs)
}

type cdrJSON struct {
	ID              string     `json:"id"`
	CallID          string     `json:"call_id"`
	Caller          string     `json:"caller"`
	Callee          string     `json:"callee"`
	StartAt         time.Time  `json:"start_at"`
	AnswerAt        *time.Time `json:"answer_at,omitempty"`
	EndAt           time.Time  `json:"end_at"`
	BillableSeconds int        `json:"billable_seconds"`
	Disposition     string     `json:"disposition" enum:"answered,busy,no_answer,failed,cancelled"`
	HangupCause     string     `json:"hangup_cause,omitempty"`
	Origin          string     `json:"origin,omitempty" enum:"device,trunk,originate"`
}

const (
	defaultCDRLimit = 100
	maxCDRLimit     = 1000
)

func (s *server) listCDRs(c *call) error {
	limit := defaultCDRLimit
	if v := c.r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCDRLimit {
			return malformed("limit", fmt.Sprintf("must be an integer between 1 and %d", maxCDRLimit))
		}
		limit = n
	}
	cdrs, err := s.store.CDRs(c.ctx(), c.tenant.ID, limit)
	if err != nil {
		return err
	}
	out := make([]cdrJSON, 0, len(cdrs))
	for _, r := range cdrs {
		j := cdrJSON{ID: r.ID, CallID: r.CallID, Caller: r.Caller, Callee: r.Callee, StartAt: r.Start, EndAt: r.End,
			BillableSeconds: r.BillableSeconds, Disposition: r.Disposition, HangupCause: r.HangupCause, Origin: r.Origin}
		if !r.Answer.IsZero() {
			a := r.Answer
			j.AnswerAt = &a
		}
		out = append(out, j)
	}
	return c.reply(200, out)
}

// normalizeMACID checks a Gigaset MAC-ID as printed on the label ("ABCD-EFGH-
// IJKL", any case, dashes or spaces between groups) and returns its 12
// characters in upper case, the form the base authenticates with.
func normalizeMACID(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("a MAC-ID has only letters, digits and dashes, not %q", r)
		}
	}
	if b.Len() != 12 {
		return "", fmt.Errorf("a MAC-ID has 12 letters and digits, %q has %d", s, b.Len())
	}
	return b.String(), nil
}
