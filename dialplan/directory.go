package dialplan

import (
	"context"
	"errors"
	"strings"

	"pbx/callctl"
	"pbx/features/huntgroup"
	"pbx/store"
)

// directory is the hunt groups' view of their members: the licences in
// the store, their registered devices (the locator) and whether they are
// in a call (Plan.Busy, the b2bua's dialog states).
type directory struct{ p *Plan }

var _ huntgroup.Directory = directory{}

// Members reads each member afresh: DND, an inactive licence and a licence
// with no registered device are all "cannot be rung now".
func (d directory) Members(ctx context.Context, userIDs []string) ([]huntgroup.Member, error) {
	idle, err := d.p.Routes.UsersLastCallEnded(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]huntgroup.Member, 0, len(userIDs))
	for _, id := range userIDs {
		m := huntgroup.Member{UserID: id, LastCallEnded: idle[id]}
		u, err := d.user(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			out = append(out, m) // gone since the group was read: never free
			continue
		case err != nil:
			return nil, err
		}
		m.DND = u.DND
		if u.Licence == store.LicenceFull && u.Active(d.p.now()) {
			bs, err := d.p.Locator.Lookup(ctx, id)
			if err != nil {
				return nil, err
			}
			m.Registered = len(bs) > 0
		}
		m.Busy = d.p.Busy != nil && d.p.Busy(id)
		out = append(out, m)
	}
	return out, nil
}

// user reads a member by id; the group's tenant is the member's (the
// store keeps members inside their group's tenant).
func (d directory) user(ctx context.Context, id string) (store.User, error) {
	tenant, _ := ctx.Value(tenantKey{}).(string)
	return d.p.Store.User(ctx, tenant, id)
}

// Destination is all of a member's registered devices, ringing as one.
// Devices asleep behind a push service ring once woken, as for a direct
// call: the returned wake pushes them when the group's dial runs and adds
// each that registers to it. A member with nothing but sleeping devices
// gets a waiting room in their place, which keeps a ring-all dial open
// while they wake.
func (d directory) Destination(ctx context.Context, userID string) (callctl.Destination, huntgroup.Wake, error) {
	u, err := d.user(ctx, userID)
	if err != nil {
		return callctl.Destination{}, nil, err
	}
	bs, err := d.p.Locator.Lookup(ctx, userID)
	if err != nil {
		return callctl.Destination{}, nil, err
	}
	domain, _ := ctx.Value(domainKey{}).(string)
	callee := callctl.Party{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Number: u.Extension, Domain: domain, UserID: u.ID}
	dest := callctl.Destination{Callee: callee, CallerID: contactCaller(ctx), Tag: u.ID}
	awake, asleep := d.p.asleep(bs)
	if len(asleep) == 0 {
		dest.Targets = Targets(awake)
		return dest, nil, nil
	}
	wake := func(ctx context.Context, call callctl.Call, dialing callctl.Dialing) func() {
		// Never alone: the other members ring on when these pushes fail.
		r := reacher{plan: d.p, call: call, callerID: dest.CallerID}
		return r.wake(ctx, dialing, asleep, dest, false)
	}
	if len(awake) == 0 {
		return waitingRoom(callee, u.ID, d.p.pushWait(), d.p.pushWait()), wake, nil
	}
	ring := dest
	ring.Targets = Targets(awake)
	return ring, wake, nil
}

func (d directory) LastAnswered(ctx context.Context, groupID string) (string, error) {
	tenant, _ := ctx.Value(tenantKey{}).(string)
	g, err := d.p.Routes.HuntGroup(ctx, tenant, groupID)
	return g.LastAnsweredMember, err
}

func (d directory) Answered(ctx context.Context, groupID, userID string) error {
	return d.p.Routes.HuntGroupAnswered(ctx, groupID, userID)
}

// The hunt program calls its directory with the call's context; the
// tenant whose group rings travels in it (the store reads licences by
// tenant and id).
type tenantKey struct{}
type domainKey struct{}

func withTenant(ctx context.Context, t store.Tenant) context.Context {
	return context.WithValue(context.WithValue(ctx, tenantKey{}, t.ID), domainKey{}, t.Domain)
}
