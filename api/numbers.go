package api

import (
	"errors"
	"fmt"
	"time"

	"pbx/numbering"
	"pbx/store"
)

type createNumberRequest struct {
	Number      string          `json:"number" doc:"Belgian geographic, mobile or non-geographic (0800, 070, 078) number, or a foreign E.164 number, in any usual form; stored in E.164"`
	Destination destinationJSON `json:"destination"`
}

type updateNumberRequest struct {
	Destination *destinationJSON `json:"destination,omitempty"`
	Recording   *string          `json:"recording,omitempty" enum:"never,always,on_demand" doc:"whether calls to the number are recorded"`
}

type numberJSON struct {
	ID          string          `json:"id"`
	Number      string          `json:"number" doc:"E.164"`
	Class       string          `json:"class" enum:"geographic,mobile,freephone,shared_cost,non_geographic,foreign"`
	Destination destinationJSON `json:"destination"`
	Recording   string          `json:"recording,omitempty" enum:"never,always,on_demand" doc:"call recording policy (absent when recording is not configured)"`
	CreatedAt   time.Time       `json:"created_at"`
}

func toNumberJSON(n store.Number) numberJSON {
	cl, _ := numbering.Classify(n.E164)
	return numberJSON{ID: n.ID, Number: n.E164, Class: string(cl), Destination: toDestinationJSON(n.Destination), CreatedAt: n.CreatedAt}
}

// acceptedClasses are the numbers a tenant may hold: premium-rate ranges
// are the carriers' business, short numbers have no E.164 form.
var acceptedClasses = map[numbering.Class]bool{numbering.Geographic: true, numbering.Mobile: true, numbering.Freephone: true,
	numbering.SharedCost: true, numbering.NonGeo: true, numbering.Foreign: true}

func publicNumber(fe *fieldErrors, field, v string) string {
	if v == "" {
		fe.add(field, "is required")
		return ""
	}
	e164, err := numbering.Normalize(v)
	if err != nil {
		fe.add(field, "must be a Belgian or foreign phone number such as +3221234567 or 021234567")
		return ""
	}
	if cl, err := numbering.Classify(e164); err != nil || !acceptedClasses[cl] {
		fe.add(field, "is a %s number; only geographic, mobile, non-geographic (0800, 070, 078) and foreign numbers can be assigned", cl)
	}
	return e164
}

func (s *server) createNumber(c *call) error {
	var in createNumberRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	n := store.Number{TenantID: c.tenant.ID, E164: publicNumber(&fe, "number", in.Number)}
	d, err := c.destination(&fe, "destination", in.Destination, "")
	if err != nil {
		return err
	}
	n.Destination = d
	if err := fe.err(); err != nil {
		return err
	}
	n, err = s.store.CreateNumber(c.ctx(), n)
	if errors.Is(err, store.ErrConflict) {
		return conflictOn("number", fmt.Sprintf("number %s is already assigned", n.E164))
	}
	if err != nil {
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/numbers/"+n.ID, toNumberJSON(n))
}

func (c *call) number() (store.Number, error) {
	id := c.path("number")
	n, err := c.s.store.Number(c.ctx(), c.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return n, notFound("number %q not found", id)
	}
	return n, err
}

func (s *server) listNumbers(c *call) error {
	ns, err := s.store.Numbers(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]numberJSON, 0, len(ns))
	for _, n := range ns {
		out = append(out, toNumberJSON(n))
	}
	return c.reply(200, out)
}

func (s *server) getNumber(c *call) error {
	n, err := c.number()
	if err != nil {
		return err
	}
	return c.replyNumber(n)
}

// replyNumber answers with a number and its recording policy.
func (c *call) replyNumber(n store.Number) error {
	j := toNumberJSON(n)
	var err error
	if j.Recording, err = c.recordingPolicy(store.PolicyNumber, n.ID); err != nil {
		return err
	}
	return c.reply(200, j)
}

func (s *server) updateNumber(c *call) error {
	n, err := c.number()
	if err != nil {
		return err
	}
	var in updateNumberRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	if in.Destination == nil && in.Recording == nil {
		fe.add("destination", "is required")
	}
	c.checkRecording(&fe, in.Recording)
	d := n.Destination
	if in.Destination != nil {
		if d, err = c.destination(&fe, "destination", *in.Destination, ""); err != nil {
			return err
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	if in.Destination != nil {
		if err := s.store.SetNumberDestination(c.ctx(), c.tenant.ID, n.ID, d); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return notFound("number %q not found", n.ID)
			}
			return err
		}
		n.Destination = d
	}
	if err := c.setRecording(store.PolicyNumber, n.ID, in.Recording); err != nil {
		return err
	}
	return c.replyNumber(n)
}

func (s *server) deleteNumber(c *call) error {
	id := c.path("number")
	if err := s.store.DeleteNumber(c.ctx(), c.tenant.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("number %q not found", id)
		}
		return err
	}
	return c.noContent()
}
