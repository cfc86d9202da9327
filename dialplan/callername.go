package dialplan

import (
	"context"
	"errors"

	"pbx/callctl"
	"pbx/numbering"
	"pbx/store"
)

// CallerNames names a carrier's caller from the tenant's shared contacts.
// A Plan whose Store also implements it shows that name to the users a
// carrier call rings (From display name); *store.Store does.
type CallerNames interface {
	// ContactNameByNumber is the name of the tenant's contact with this
	// E.164 number, or store.ErrNotFound.
	ContactNameByNumber(ctx context.Context, tenantID, number string) (string, error)
}

type contactCallerKey struct{}

// withContactName looks the caller of a carrier call up among the tenant's
// contacts once, when the call is routed; a match names the caller for
// every callee dialled under the returned context. The contact's name
// replaces what the carrier sent: the tenant's directory knows its callers
// better than a network display name does.
func (p *Plan) withContactName(ctx context.Context, call callctl.Call, tenantID string) context.Context {
	names, ok := p.Store.(CallerNames)
	if !ok {
		return ctx
	}
	caller := call.Origin().Caller
	e164, err := numbering.Normalize(caller.Number)
	if err != nil {
		return ctx // withheld or not a telephone number
	}
	name, err := names.ContactNameByNumber(ctx, tenantID, e164)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.log().Warn("dialplan: caller name lookup", "error", err, "tenant_id", tenantID)
		}
		return ctx
	}
	caller.Name = name
	return context.WithValue(ctx, contactCallerKey{}, &caller)
}

// contactCaller is the contact-named caller of the call ctx belongs to, or
// nil (callees then see the call's caller as it came).
func contactCaller(ctx context.Context) *callctl.Party {
	p, _ := ctx.Value(contactCallerKey{}).(*callctl.Party)
	return p
}

// presented is the identity r's callee is shown: the one r was given (a
// transfer's), else the contact-named caller, else nil.
func (r reacher) presented(ctx context.Context) *callctl.Party {
	if r.callerID != nil {
		return r.callerID
	}
	return contactCaller(ctx)
}
