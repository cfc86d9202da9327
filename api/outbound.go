package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"pbx/numbering"
	"pbx/store"
)

type routeRequest struct {
	Prefix   *string  `json:"prefix" doc:"E.164 prefix of the numbers this route carries (\"+32\", \"+3290\"); \"\" is the default route"`
	Trunks   []string `json:"trunks" doc:"trunk ids, tried in this order (the next on 5xx, 408 or no response)"`
	Priority int      `json:"priority,omitempty" doc:"0-1000: among routes of the same prefix, the lowest wins; 0 when omitted"`
}

type updateRouteRequest struct {
	Prefix   *string   `json:"prefix,omitempty"`
	Trunks   *[]string `json:"trunks,omitempty"`
	Priority *int      `json:"priority,omitempty"`
}

type routeJSON struct {
	ID        string    `json:"id"`
	Prefix    string    `json:"prefix"`
	Trunks    []string  `json:"trunks"`
	Priority  int       `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toRouteJSON(r store.OutboundRoute) routeJSON {
	ts := r.Trunks
	if ts == nil {
		ts = []string{}
	}
	return routeJSON{ID: r.ID, Prefix: r.Prefix, Trunks: ts, Priority: r.Priority, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// prefixRE is an E.164 prefix: "+" and up to 15 digits.
var prefixRE = regexp.MustCompile(`^\+[1-9][0-9]{0,14}$`)

// checkRoute validates every field of r, the trunks against the store.
func (c *call) checkRoute(fe *fieldErrors, r store.OutboundRoute) error {
	if r.Prefix != "" && !prefixRE.MatchString(r.Prefix) {
		fe.add("prefix", `must be "" (the default route) or "+" and up to 15 digits, such as "+32"`)
	}
	if r.Priority < 0 || r.Priority > 1000 {
		fe.add("priority", "must be between 0 and 1000")
	}
	if len(r.Trunks) == 0 {
		fe.add("trunks", "must name at least one trunk")
	}
	seen := map[string]int{}
	for i, id := range r.Trunks {
		field := fmt.Sprintf("trunks[%d]", i)
		if j, dup := seen[id]; dup {
			fe.add(field, "is trunks[%d] again", j)
			continue
		}
		seen[id] = i
		_, err := c.s.store.Trunk(c.ctx(), id)
		if errors.Is(err, store.ErrNotFound) {
			fe.add(field, "no trunk %q", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// routeWriteErr turns a store error into the field it is about.
func routeWriteErr(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return invalid("trunks", "%v", err) // a trunk removed since it was checked
	}
	return err
}

func (s *server) createRoute(c *call) error {
	var in routeRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	r := store.OutboundRoute{Trunks: in.Trunks, Priority: in.Priority}
	if in.Prefix == nil {
		fe.add("prefix", `is required ("" for the default route)`)
	} else {
		r.Prefix = *in.Prefix
	}
	if err := c.checkRoute(&fe, r); err != nil {
		return err
	}
	if err := fe.err(); err != nil {
		return err
	}
	r, err := s.store.CreateOutboundRoute(c.ctx(), r)
	if err != nil {
		return routeWriteErr(err)
	}
	return c.created(v1+"/routes/"+r.ID, toRouteJSON(r))
}

func (s *server) listRoutes(c *call) error {
	rs, err := s.store.OutboundRoutes(c.ctx())
	if err != nil {
		return err
	}
	out := make([]routeJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRouteJSON(r))
	}
	return c.reply(200, out)
}

func (c *call) outboundRoute() (store.OutboundRoute, error) {
	id := c.path("route")
	r, err := c.s.store.OutboundRoute(c.ctx(), id)
	if errors.Is(err, store.ErrNotFound) {
		return r, notFound("route %q not found", id)
	}
	return r, err
}

func (s *server) getRoute(c *call) error {
	r, err := c.outboundRoute()
	if err != nil {
		return err
	}
	return c.reply(200, toRouteJSON(r))
}

func (s *server) updateRoute(c *call) error {
	r, err := c.outboundRoute()
	if err != nil {
		return err
	}
	var in updateRouteRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.Prefix != nil {
		r.Prefix = *in.Prefix
	}
	if in.Trunks != nil {
		r.Trunks = *in.Trunks
	}
	if in.Priority != nil {
		r.Priority = *in.Priority
	}
	var fe fieldErrors
	if err := c.checkRoute(&fe, r); err != nil {
		return err
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.UpdateOutboundRoute(c.ctx(), r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if _, gone := c.outboundRoute(); gone != nil {
				return gone // the route itself, removed meanwhile
			}
		}
		return routeWriteErr(err)
	}
	if r, err = c.outboundRoute(); err != nil {
		return err
	}
	return c.reply(200, toRouteJSON(r))
}

func (s *server) deleteRoute(c *call) error {
	id := c.path("route")
	if err := s.store.DeleteOutboundRoute(c.ctx(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("route %q not found", id)
		}
		return err
	}
	return c.noContent()
}

type callingJSON struct {
	MainNumberID     string `json:"main_number_id,omitempty" doc:"id of the tenant's number shown on calls of users who chose none"`
	MainNumber       string `json:"main_number,omitempty" doc:"read-only: that number in E.164"`
	BarPremium       bool   `json:"bar_premium" doc:"bar premium-rate numbers (090x and abroad); true unless an admin lifted it"`
	BarInternational bool   `json:"bar_international" doc:"bar every call abroad"`
}

type updateCallingRequest struct {
	MainNumberID     *string `json:"main_number_id,omitempty" doc:"one of the tenant's numbers; empty for none"`
	BarPremium       *bool   `json:"bar_premium,omitempty" doc:"false lifts the barring: admin token only, logged"`
	BarInternational *bool   `json:"bar_international,omitempty" doc:"false lifts the barring: admin token only, logged"`
}

func toCallingJSON(tc store.TenantCalling) callingJSON {
	return callingJSON{MainNumberID: tc.MainNumberID, MainNumber: tc.MainNumber, BarPremium: tc.BarPremium, BarInternational: tc.BarInternational}
}

func (s *server) getCalling(c *call) error {
	tc, err := s.store.TenantCalling(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	return c.reply(200, toCallingJSON(tc))
}

// updateCalling changes a tenant's main number and barring. A tenant's
// administrator may bar more; lifting a barring is the platform
// administrator's explicit act, and is logged.
func (s *server) updateCalling(c *call) error {
	tc, err := s.store.TenantCalling(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	var in updateCallingRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var lifted []string
	if in.BarPremium != nil {
		if tc.BarPremium && !*in.BarPremium {
			lifted = append(lifted, "premium")
		}
		tc.BarPremium = *in.BarPremium
	}
	if in.BarInternational != nil {
		if tc.BarInternational && !*in.BarInternational {
			lifted = append(lifted, "international")
		}
		tc.BarInternational = *in.BarInternational
	}
	if len(lifted) > 0 && c.token.Scope != store.ScopeAdmin {
		return httpProblem(http.StatusForbidden, "lifting a barring needs an admin token")
	}
	if in.MainNumberID != nil {
		tc.MainNumberID = *in.MainNumberID
		if tc.MainNumberID != "" {
			n, err := s.store.Number(c.ctx(), c.tenant.ID, tc.MainNumberID)
			if errors.Is(err, store.ErrNotFound) {
				return invalid("main_number_id", "no number %q in this tenant", tc.MainNumberID)
			}
			if err != nil {
				return err
			}
			if cl, _ := numbering.Classify(n.E164); cl == numbering.Freephone || cl == numbering.Premium {
				return invalid("main_number_id", "%s is a %s number, which may not be shown as a caller's", n.E164, cl)
			}
		}
	}
	if err := s.store.SetTenantCalling(c.ctx(), tc); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("main_number_id", "no number %q in this tenant", tc.MainNumberID)
		}
		return err
	}
	for _, what := range lifted {
		s.barringLifted(c, what)
	}
	if tc, err = s.store.TenantCalling(c.ctx(), c.tenant.ID); err != nil {
		return err
	}
	return c.reply(200, toCallingJSON(tc))
}

// barringLifted logs who lifted which barring of which tenant (or user).
func (s *server) barringLifted(c *call, what string, attrs ...any) {
	args := append([]any{"barring", what, "tenant_id", c.tenant.ID, "token_id", c.token.ID, "token_scope", c.token.Scope, "token_name", c.token.Name}, attrs...)
	s.log.InfoContext(c.ctx(), "barring lifted", args...)
}
