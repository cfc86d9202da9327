package api

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"pbx/numbering"
	"pbx/store"
)

type siteRequest struct {
	Name       string `json:"name"`
	Street     string `json:"street"`
	Number     string `json:"number" doc:"house number, with box or suffix if any"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country,omitempty" doc:"ISO 3166-1 alpha-2 code; BE when omitted"`
	// EmergencyNumber is for carriers that locate nomadic callers by a
	// site number (see the trunk's emergency_site_identity).
	EmergencyNumber string `json:"emergency_number,omitempty" doc:"a number of the tenant registered at this site's address with the carrier; emergency calls of the site's users present it through a trunk whose emergency_site_identity asks for it"`
}

type updateSiteRequest struct {
	Name       *string `json:"name,omitempty"`
	Street     *string `json:"street,omitempty"`
	Number     *string `json:"number,omitempty"`
	PostalCode *string `json:"postal_code,omitempty"`
	City       *string `json:"city,omitempty"`
	Country    *string `json:"country,omitempty"`
	// EmergencyNumber "" removes it.
	EmergencyNumber *string `json:"emergency_number,omitempty" doc:"empty to remove"`
}

type siteJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Street     string `json:"street"`
	Number     string `json:"number"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
	// EmergencyNumber is empty when the site has none.
	EmergencyNumber string    `json:"emergency_number"`
	CreatedAt       time.Time `json:"created_at"`
}

func toSiteJSON(st store.Site) siteJSON {
	return siteJSON{ID: st.ID, Name: st.Name, Street: st.Street, Number: st.Number, PostalCode: st.PostalCode,
		City: st.City, Country: st.Country, EmergencyNumber: st.EmergencyNumber, CreatedAt: st.CreatedAt}
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// checkSite validates every field of a site: emergency services need all of
// the civic address, so none may be empty. The emergency number, if any,
// must be one of the tenant's: the carrier's records tie it to the site.
func (s *server) checkSite(ctx context.Context, st *store.Site) error {
	var fe fieldErrors
	if st.EmergencyNumber = strings.TrimSpace(st.EmergencyNumber); st.EmergencyNumber != "" {
		if e164, err := numbering.Normalize(st.EmergencyNumber); err != nil {
			fe.add("emergency_number", "must be a phone number such as +3221234567 or 021234567")
		} else if owned, err := s.tenantOwns(ctx, st.TenantID, e164); err != nil {
			return err
		} else if !owned {
			fe.add("emergency_number", "must be one of the tenant's numbers")
		} else {
			st.EmergencyNumber = e164
		}
	}
	st.Name = fe.text("name", st.Name, true, 100)
	st.Street = fe.text("street", st.Street, true, 200)
	st.Number = fe.text("number", st.Number, true, 20)
	st.PostalCode = fe.text("postal_code", st.PostalCode, true, 20)
	st.City = fe.text("city", st.City, true, 100)
	st.Country = strings.ToUpper(strings.TrimSpace(st.Country))
	if !countryRE.MatchString(st.Country) {
		fe.add("country", "must be an ISO 3166-1 alpha-2 code such as BE")
	}
	return fe.err()
}

// tenantOwns says whether e164 is one of the tenant's numbers.
func (s *server) tenantOwns(ctx context.Context, tenantID, e164 string) (bool, error) {
	ns, err := s.store.Numbers(ctx, tenantID)
	return slices.ContainsFunc(ns, func(n store.Number) bool { return n.E164 == e164 }), err
}

func (s *server) createSite(c *call) error {
	var in siteRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	st := store.Site{TenantID: c.tenant.ID, Name: in.Name, Street: in.Street, Number: in.Number,
		PostalCode: in.PostalCode, City: in.City, Country: in.Country, EmergencyNumber: in.EmergencyNumber}
	if st.Country == "" {
		st.Country = "BE"
	}
	if err := s.checkSite(c.ctx(), &st); err != nil {
		return err
	}
	st, err := s.store.CreateSite(c.ctx(), st)
	if err != nil {
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/sites/"+st.ID, toSiteJSON(st))
}

func (s *server) listSites(c *call) error {
	sts, err := s.store.Sites(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]siteJSON, 0, len(sts))
	for _, st := range sts {
		out = append(out, toSiteJSON(st))
	}
	return c.reply(200, out)
}

// site loads the {site} of the path within the tenant.
func (c *call) site() (store.Site, error) {
	id := c.path("site")
	st, err := c.s.store.Site(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return st, notFound("site %q not found", id)
	}
	return st, err
}

func (s *server) getSite(c *call) error {
	st, err := c.site()
	if err != nil {
		return err
	}
	return c.reply(200, toSiteJSON(st))
}

func (s *server) updateSite(c *call) error {
	st, err := c.site()
	if err != nil {
		return err
	}
	var in updateSiteRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&st.Name, in.Name)
	set(&st.Street, in.Street)
	set(&st.Number, in.Number)
	set(&st.PostalCode, in.PostalCode)
	set(&st.City, in.City)
	set(&st.Country, in.Country)
	set(&st.EmergencyNumber, in.EmergencyNumber)
	if err := s.checkSite(c.ctx(), &st); err != nil {
		return err
	}
	if err := s.store.UpdateSite(c.ctx(), st); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("site %q not found", st.ID)
		}
		return err
	}
	return c.reply(200, toSiteJSON(st))
}

func (s *server) deleteSite(c *call) error {
	id := c.path("site")
	if err := s.store.DeleteSite(c.ctx(), c.tenant.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("site %q not found", id)
		}
		return err
	}
	return c.noContent()
}
