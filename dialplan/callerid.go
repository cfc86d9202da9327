package dialplan

import (
	"context"
	"errors"
	"strings"

	"pbx/callctl"
	"pbx/numbering"
	"pbx/store"
)

// forwarding is the user whose forwarding a reacher follows, and why it
// forwarded (a Diversion reason, RFC 5806).
type forwarding struct {
	user   store.User
	reason string
}

// diversionReason is the Diversion reason of a forward for cause.
func diversionReason(cause callctl.Cause) string {
	switch cause {
	case callctl.CauseBusy:
		return "user-busy"
	case callctl.CauseNoAnswer:
		return "no-answer"
	case callctl.CauseUnavailable:
		return "unavailable"
	}
	return "unknown"
}

// anonymous is the From of a caller who withholds their number (RFC 3323).
var anonymous = callctl.Party{Name: "Anonymous", Number: "anonymous", Domain: "anonymous.invalid"}

// withheld reports whether a caller presents no number.
func withheld(p callctl.Party) bool {
	return p.Number == "" || strings.EqualFold(p.Number, "anonymous") || strings.EqualFold(p.Domain, "anonymous.invalid")
}

// outboundIdentity is who a call to the public network presents.
type outboundIdentity struct {
	domain string
	// line is the number of the line that places or forwards the call
	// (its user's chosen number, else the tenant's main number; always
	// one the tenant holds), "" when it has none; lineName its name.
	line, lineName string
	// withhold: CLIR, for the user or for this call (*31*).
	withhold bool
	// forwarded: the call is someone else's (a forward or a transfer);
	// original is that caller, with an E.164 Number or none if withheld.
	forwarded bool
	original  callctl.Party
	reason    string
}

// identity works out who the reacher's call presents; payer is the user
// placing or forwarding it.
func (r reacher) identity(ctx context.Context, tc store.TenantCalling, payer store.User) (outboundIdentity, error) {
	id := outboundIdentity{domain: r.domain}
	var err error
	id.line, err = r.lineNumber(ctx, tc, payer.ID)
	if err != nil {
		return id, err
	}
	id.lineName = strings.TrimSpace(payer.FirstName + " " + payer.LastName)
	id.withhold = r.withhold || payer.CLIR
	if r.forwardedBy == nil && r.callerID == nil {
		return id, nil
	}
	id.forwarded, id.reason = true, "deflection"
	if r.forwardedBy != nil {
		id.reason = r.forwardedBy.reason
	}
	orig := r.call.Origin().Caller
	if r.callerID != nil {
		orig = *r.callerID
	}
	id.original = callctl.Party{Name: orig.Name}
	switch {
	case orig.UserID != "":
		// A colleague's call presents the colleague's own public number.
		u, err := r.plan.Store.User(ctx, r.tenantID, orig.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return id, err
		}
		if err == nil && !u.CLIR {
			if id.original.Number, err = r.lineNumber(ctx, tc, u.ID); err != nil {
				return id, err
			}
		}
	case !withheld(orig):
		if e, err := numbering.Normalize(orig.Number); err == nil {
			id.original.Number = e
		}
	}
	return id, nil
}

// lineNumber is the number a user presents: the one they chose, else the
// tenant's main number; "" when neither is set (or neither may be shown).
func (r reacher) lineNumber(ctx context.Context, tc store.TenantCalling, userID string) (string, error) {
	if userID != "" && r.plan.Routes != nil {
		n, err := r.plan.Routes.UserCallerID(ctx, r.tenantID, userID)
		switch {
		case err == nil && n.TenantID == r.tenantID && presentable(n.E164):
			return n.E164, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return "", err
		}
	}
	if presentable(tc.MainNumber) {
		return tc.MainNumber, nil
	}
	return "", nil
}

// presentable reports whether a number may be shown as a caller's:
// freephone and premium-rate numbers may not (KB-NUM art. 19).
func presentable(e164 string) bool {
	c, err := numbering.Classify(e164)
	return err == nil && c != numbering.Freephone && c != numbering.Premium
}

// forTrunk is the From (CallerID) and the headers of the INVITE to trunk
// tr. A call of our own presents its line's number in From and
// P-Asserted-Identity; withheld, From is anonymous with Privacy: id and
// the carrier still gets the number in P-Asserted-Identity. A forwarded
// call presents its original caller: in From and P-Asserted-Identity for
// a trunk that takes that (store.ForwardPAI); in From only, with our
// line's number in P-Asserted-Identity and a Diversion header naming it,
// for the others.
func (id outboundIdentity) forTrunk(tr store.Trunk) (*callctl.Party, []callctl.Header) {
	anon := anonymous
	privacy := callctl.Header{Name: "Privacy", Value: "id"}
	pai := func(n string) callctl.Header {
		return callctl.Header{Name: "P-Asserted-Identity", Value: "<sip:" + n + "@" + id.domain + ">"}
	}
	if !id.forwarded {
		switch {
		case id.line == "":
			return &anon, []callctl.Header{privacy}
		case id.withhold:
			return &anon, []callctl.Header{pai(id.line), privacy}
		}
		return &callctl.Party{Name: id.lineName, Number: id.line, Domain: id.domain}, nil
	}
	from := &anon
	if id.original.Number != "" {
		from = &callctl.Party{Name: id.original.Name, Number: id.original.Number, Domain: id.domain}
	}
	if tr.ForwardIdentity == store.ForwardPAI && id.original.Number != "" {
		return from, nil
	}
	var hs []callctl.Header
	if id.line != "" {
		hs = append(hs, pai(id.line))
		if tr.ForwardIdentity != store.ForwardPAI {
			hs = append(hs, callctl.Header{Name: "Diversion", Value: "<sip:" + id.line + "@" + id.domain + ">;reason=" + id.reason + ";counter=1"})
		}
	}
	if id.original.Number == "" {
		hs = append(hs, privacy)
	}
	return from, hs
}

// anonymousCaller reports whether the reacher's caller is someone from
// outside who withholds their number (a colleague is always known).
func (r reacher) anonymousCaller() bool {
	if r.callerID != nil {
		return r.callerID.UserID == "" && withheld(*r.callerID)
	}
	o := r.call.Origin()
	return o.Kind == callctl.OriginTrunk && withheld(o.Caller)
}
