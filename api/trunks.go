package api

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"pbx/store"
)

type trunkRequest struct {
	Name                  string   `json:"name"`
	Host                  string   `json:"host" doc:"the carrier's SIP server: a host name or an IP address"`
	Port                  int      `json:"port,omitempty" doc:"1-65535; 5060 (5061 for tls) when omitted"`
	Transport             string   `json:"transport" enum:"udp,tcp,tls"`
	InboundSources        []string `json:"inbound_sources" doc:"addresses the carrier's calls come from: \"ip\", \"ip:port\" or \"CIDR\"; a call from one of them is a carrier call (the most specific source wins)"`
	Username              string   `json:"username,omitempty"`
	Password              string   `json:"password,omitempty" doc:"kept encrypted, never returned"`
	Register              bool     `json:"register,omitempty" doc:"register to the carrier (needs username and password)"`
	ForwardIdentity       string   `json:"forward_identity,omitempty" enum:"diversion,pai" doc:"how a forwarded call presents its original caller: diversion (From, with the forwarding line in P-Asserted-Identity and Diversion; the default) or pai (P-Asserted-Identity)"`
	ResponseTimeoutMS     int      `json:"response_timeout_ms,omitempty" doc:"0 or 100-60000: how long the carrier may leave an INVITE unanswered (not even 100 Trying) before the route's next trunk is tried; 0 for the platform's default"`
	EmergencySiteIdentity string   `json:"emergency_site_identity,omitempty" enum:",pai,phone_context" doc:"how an emergency call tells this carrier the caller's site (nomadic use): empty (the PIDF-LO location only; the default), pai (P-Asserted-Identity is the emergency_number of the caller's site) or phone_context (also the Request-URI sip:112;phone-context=<site number>@carrier;user=phone)"`
}

type updateTrunkRequest struct {
	Name                  *string   `json:"name,omitempty"`
	Host                  *string   `json:"host,omitempty"`
	Port                  *int      `json:"port,omitempty"`
	Transport             *string   `json:"transport,omitempty" enum:"udp,tcp,tls"`
	InboundSources        *[]string `json:"inbound_sources,omitempty"`
	Username              *string   `json:"username,omitempty"`
	Password              *string   `json:"password,omitempty" doc:"empty to remove"`
	Register              *bool     `json:"register,omitempty"`
	ForwardIdentity       *string   `json:"forward_identity,omitempty" enum:"diversion,pai"`
	ResponseTimeoutMS     *int      `json:"response_timeout_ms,omitempty"`
	EmergencySiteIdentity *string   `json:"emergency_site_identity,omitempty" enum:",pai,phone_context" doc:"empty for the default"`
}

type trunkJSON struct {
	ID                    string    `json:"id"`
	Name                  string    `json:"name"`
	Host                  string    `json:"host"`
	Port                  int       `json:"port"`
	Transport             string    `json:"transport" enum:"udp,tcp,tls"`
	InboundSources        []string  `json:"inbound_sources"`
	Username              string    `json:"username"`
	PasswordSet           bool      `json:"password_set" doc:"whether a password is stored (it is never returned)"`
	Register              bool      `json:"register"`
	ForwardIdentity       string    `json:"forward_identity" enum:"diversion,pai"`
	ResponseTimeoutMS     int       `json:"response_timeout_ms"`
	EmergencySiteIdentity string    `json:"emergency_site_identity" enum:",pai,phone_context"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
	// Registration is read-only; absent when the trunk does not register.
	Registration *trunkRegistrationJSON `json:"registration,omitempty" doc:"read-only: the pbx's registration to the carrier, when register is true"`
}

// TrunkRegistration is a trunk's registration to its carrier as the SIP
// layer last saw it.
type TrunkRegistration struct {
	State     string // registering, registered or failed
	Status    int    // the last final response's status (0: none)
	Error     string
	ExpiresAt time.Time
}

type trunkRegistrationJSON struct {
	State     string     `json:"state" enum:"registering,registered,failed"`
	Status    int        `json:"status,omitempty" doc:"the carrier's last final response to REGISTER"`
	Error     string     `json:"error,omitempty" doc:"why the last attempt failed (it is retried)"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"when the binding ends unless refreshed"`
}

// withRegistration adds the trunk's registration state, when known.
func (s *server) withRegistration(j trunkJSON) trunkJSON {
	if s.trunkReg == nil {
		return j
	}
	if r, ok := s.trunkReg(j.ID); ok {
		out := &trunkRegistrationJSON{State: r.State, Status: r.Status, Error: r.Error}
		if !r.ExpiresAt.IsZero() {
			e := r.ExpiresAt.UTC().Truncate(time.Second)
			out.ExpiresAt = &e
		}
		j.Registration = out
	}
	return j
}

// trunkChanged tells the registrations of a trunk change.
func (s *server) trunkChanged() {
	if s.trunkChg != nil {
		s.trunkChg()
	}
}

func toTrunkJSON(t store.Trunk) trunkJSON {
	srcs := t.InboundSources
	if srcs == nil {
		srcs = []string{}
	}
	return trunkJSON{ID: t.ID, Name: t.Name, Host: t.Host, Port: t.Port, Transport: t.Transport, InboundSources: srcs,
		Username: t.Username, PasswordSet: t.PasswordSet, Register: t.Register, ForwardIdentity: t.ForwardIdentity,
		ResponseTimeoutMS: int(t.ResponseTimeout.Milliseconds()), EmergencySiteIdentity: t.EmergencySiteIdentity, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// checkTrunk validates every field of t and puts the sources in canonical
// form; the password's value is checked, never echoed in a problem.
func checkTrunk(fe *fieldErrors, t *store.Trunk) {
	t.Name = fe.text("name", t.Name, true, 100)
	t.Host = strings.TrimSpace(t.Host)
	if _, err := netip.ParseAddr(t.Host); err != nil && (t.Host == "" || len(t.Host) > 253 || !hostRE.MatchString(t.Host)) {
		fe.add("host", "must be a host name or an IP address")
	}
	fe.oneOf("transport", t.Transport, true, "udp", "tcp", "tls")
	if t.Port == 0 {
		t.Port = 5060
		if t.Transport == "tls" {
			t.Port = 5061
		}
	}
	if t.Port < 1 || t.Port > 65535 {
		fe.add("port", "must be between 1 and 65535")
	}
	seen := map[string]int{}
	for i, src := range t.InboundSources {
		field := fmt.Sprintf("inbound_sources[%d]", i)
		canon, err := store.ParseTrunkSource(strings.TrimSpace(src))
		if err != nil {
			fe.add(field, "must be an IP address, IP address:port or CIDR prefix such as 192.0.2.0/24")
			continue
		}
		if j, dup := seen[canon]; dup {
			fe.add(field, "is inbound_sources[%d] again", j)
		}
		seen[canon] = i
		t.InboundSources[i] = canon
	}
	t.Username = fe.text("username", t.Username, false, 100)
	if t.ForwardIdentity == "" {
		t.ForwardIdentity = store.ForwardDiversion
	}
	fe.oneOf("forward_identity", t.ForwardIdentity, true, store.ForwardDiversion, store.ForwardPAI)
	fe.oneOf("emergency_site_identity", t.EmergencySiteIdentity, false, store.EmergencySitePAI, store.EmergencySitePhoneContext)
	if ms := t.ResponseTimeout.Milliseconds(); ms != 0 && (ms < 100 || ms > 60000) {
		fe.add("response_timeout_ms", "must be 0 (the default) or between 100 and 60000")
	}
	if len(t.Password) > 128 || strings.ContainsFunc(t.Password, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		fe.add("password", "must be at most 128 characters, without control characters")
	}
}

func (s *server) createTrunk(c *call) error {
	var in trunkRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	t := store.Trunk{Name: in.Name, Host: in.Host, Port: in.Port, Transport: in.Transport, InboundSources: in.InboundSources,
		Username: in.Username, Password: in.Password, SetPassword: in.Password != "", Register: in.Register,
		ForwardIdentity: in.ForwardIdentity, ResponseTimeout: time.Duration(in.ResponseTimeoutMS) * time.Millisecond,
		EmergencySiteIdentity: in.EmergencySiteIdentity}
	if t.InboundSources == nil {
		t.InboundSources = []string{}
	}
	var fe fieldErrors
	checkTrunk(&fe, &t)
	if t.Register && (t.Username == "" || t.Password == "") {
		fe.add("register", "needs a username and a password")
	}
	if err := fe.err(); err != nil {
		return err
	}
	t, err := s.store.CreateTrunk(c.ctx(), t)
	if err != nil {
		return trunkConflict(err)
	}
	s.trunkChanged()
	return c.created(v1+"/trunks/"+t.ID, toTrunkJSON(t))
}

// trunkConflict names the field a store conflict is about.
func trunkConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		field := "name"
		if strings.Contains(err.Error(), "inbound source") {
			field = "inbound_sources"
		}
		return conflictOn(field, err.Error())
	}
	return err
}

func (c *call) trunk() (store.Trunk, error) {
	id := c.path("trunk")
	t, err := c.s.store.Trunk(c.ctx(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("trunk %q not found", id)
	}
	return t, err
}

func (s *server) listTrunks(c *call) error {
	ts, err := s.store.Trunks(c.ctx())
	if err != nil {
		return err
	}
	out := make([]trunkJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.withRegistration(toTrunkJSON(t)))
	}
	return c.reply(200, out)
}

func (s *server) getTrunk(c *call) error {
	t, err := c.trunk()
	if err != nil {
		return err
	}
	return c.reply(200, s.withRegistration(toTrunkJSON(t)))
}

func (s *server) updateTrunk(c *call) error {
	t, err := c.trunk()
	if err != nil {
		return err
	}
	var in updateTrunkRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.Name, in.Name)
	set(&t.Host, in.Host)
	set(&t.Transport, in.Transport)
	set(&t.Username, in.Username)
	if in.Port != nil {
		t.Port = *in.Port
		if t.Port == 0 {
			t.Port = -1 // explicit 0 is invalid, not "default"
		}
	}
	if in.InboundSources != nil {
		t.InboundSources = *in.InboundSources
	}
	if in.Password != nil {
		t.Password, t.SetPassword = *in.Password, true
	}
	if in.Register != nil {
		t.Register = *in.Register
	}
	if in.ForwardIdentity != nil {
		t.ForwardIdentity = *in.ForwardIdentity
		if t.ForwardIdentity == "" {
			t.ForwardIdentity = "-" // explicit empty is invalid, not "default"
		}
	}
	if in.ResponseTimeoutMS != nil {
		t.ResponseTimeout = time.Duration(*in.ResponseTimeoutMS) * time.Millisecond
	}
	set(&t.EmergencySiteIdentity, in.EmergencySiteIdentity)
	var fe fieldErrors
	checkTrunk(&fe, &t)
	hasPassword := t.PasswordSet
	if t.SetPassword {
		hasPassword = t.Password != ""
	}
	if t.Register && (t.Username == "" || !hasPassword) {
		fe.add("register", "needs a username and a password")
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.UpdateTrunk(c.ctx(), t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("trunk %q not found", t.ID)
		}
		return trunkConflict(err)
	}
	s.trunkChanged()
	t, err = c.trunk()
	if err != nil {
		return err
	}
	return c.reply(200, s.withRegistration(toTrunkJSON(t)))
}

func (s *server) deleteTrunk(c *call) error {
	id := c.path("trunk")
	if err := s.store.DeleteTrunk(c.ctx(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("trunk %q not found", id)
		}
		return err
	}
	s.trunkChanged()
	return c.noContent()
}
