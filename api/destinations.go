package api

import (
	"errors"

	"pbx/numbering"
	"pbx/store"
)

// destinationJSON is where a number, a hunt group's overflow or a flow
// leads: id names a user, hunt group, call flow or voicemail box of the
// same tenant; number is an external number.
type destinationJSON struct {
	Type   string `json:"type" enum:"user,hunt_group,call_flow,voicemail,external"`
	ID     string `json:"id,omitempty" doc:"user, hunt_group, call_flow: its id; voicemail: the id of the full licence whose box it is"`
	Number string `json:"number,omitempty" doc:"external: a phone number, stored in E.164"`
}

var destinationTypes = []string{store.DestUser, store.DestHuntGroup, store.DestCallFlow, store.DestVoicemail, store.DestExternal}

func toDestinationJSON(d store.Destination) destinationJSON {
	return destinationJSON{Type: d.Type, ID: d.ID, Number: d.Number}
}

// destination checks d and adds an error per bad field, named
// field+".type", field+".id" or field+".number". selfGroup is the id of the
// hunt group whose overflow this is ("" otherwise): a group may not
// overflow to itself.
func (c *call) destination(fe *fieldErrors, field string, d destinationJSON, selfGroup string) (store.Destination, error) {
	out := store.Destination{Type: d.Type, ID: d.ID}
	fe.oneOf(field+".type", d.Type, true, destinationTypes...)
	if d.Type == store.DestExternal {
		if d.ID != "" {
			fe.add(field+".id", "must be empty for an external destination")
		}
		switch e164, err := numbering.Normalize(d.Number); {
		case d.Number == "":
			fe.add(field+".number", "is required for an external destination")
		case err == nil:
			if cl, _ := numbering.Classify(e164); cl == numbering.Premium {
				fe.add(field+".number", "is a premium-rate number, which cannot be a destination")
			}
			out.Number = e164
		case numbering.Short(d.Number):
			out.Number = d.Number
		default:
			fe.add(field+".number", "must be a phone number (E.164 such as +3221234567, or national such as 021234567)")
		}
		return out, nil
	}
	if d.Number != "" {
		fe.add(field+".number", "is only for an external destination")
	}
	if d.ID == "" {
		if d.Type != "" {
			fe.add(field+".id", "is required for a %s destination", d.Type)
		}
		return out, nil
	}
	ctx := c.ctx()
	var err error
	switch d.Type {
	case store.DestUser, store.DestVoicemail:
		var u store.User
		u, err = c.s.store.User(ctx, c.tenant.ID, d.ID)
		if errors.Is(err, store.ErrNotFound) && d.Type == store.DestVoicemail {
			// A hunt group has a box too (its overflow, a flow's end).
			_, err = c.s.store.HuntGroup(ctx, c.tenant.ID, d.ID)
		} else if err == nil && u.Licence != store.LicenceFull {
			fe.add(field+".id", "user %q has a light licence, which is never a destination", d.ID)
		}
	case store.DestHuntGroup:
		_, err = c.s.store.HuntGroup(ctx, c.tenant.ID, d.ID)
		if err == nil && d.ID == selfGroup {
			fe.add(field+".id", "a hunt group cannot overflow to itself")
		}
	case store.DestCallFlow:
		_, err = c.s.store.CallFlow(ctx, c.tenant.ID, d.ID)
	default:
		return out, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		fe.add(field+".id", "no %s %q in this tenant", d.Type, d.ID)
		return out, nil
	}
	return out, err
}
