package dialplan

import (
	"context"
	"testing"

	"pbx/callctl"
	"pbx/callctl/fake"
)

// A program's call to the public network leaves through the outbound
// route with the caller id it names (or the tenant's main number), and
// is refused as a user's would be: by the billing state, by barring, and
// always for an emergency number.
func TestDialPublic(t *testing.T) {
	p, _, st := outboundPlan(t)
	ctx := context.Background()
	originated := func() *fake.Call { return fake.NewOriginated(callctl.Origin{TenantID: tenantID}, "") }

	call := originated()
	leg, cause := p.DialPublic(ctx, call, PublicCall{TenantID: tenantID, Number: "050 12 34 56", CallerID: "+3221234599"})
	if leg == nil || cause != "" {
		t.Fatalf("answered call: %v %s", leg, cause)
	}
	ds := call.Dials()
	if len(ds) != 1 || len(ds[0].Destinations) != 2 || ds[0].Strategy != callctl.Sequential || ds[0].StopOn == nil {
		t.Fatalf("dials %+v", ds)
	}
	d := ds[0].Destinations[0]
	if d.Targets[0].URI != "sip:+3250123456@one.example:5060" || d.CallerID == nil || d.CallerID.Number != "+3221234599" || d.CallerID.Domain != domain {
		t.Fatalf("destination %+v, caller id %+v", d.Targets[0], d.CallerID)
	}
	if ten, _ := call.Tenant(); ten != tenantID {
		t.Fatalf("call's tenant %q", ten)
	}

	// No caller id named: the tenant's main number.
	call = originated()
	if leg, _ := p.DialPublic(ctx, call, PublicCall{TenantID: tenantID, Number: "+3250123456"}); leg == nil {
		t.Fatal("not answered")
	}
	if cid := call.Dials()[0].Destinations[0].CallerID; cid == nil || cid.Number != "+3221234500" {
		t.Fatalf("caller id %+v", cid)
	}

	// The callee's answers come back as causes.
	call = originated()
	call.ScriptDefault(fake.Busy)
	if _, cause := p.DialPublic(ctx, call, PublicCall{TenantID: tenantID, Number: "+3250123456"}); cause != callctl.CauseBusy {
		t.Fatalf("busy callee: %s", cause)
	}

	// A tenant past its credit limit places no campaign call.
	p.Credit = &fakeCredit{refuse: RefusedCredit}
	call = originated()
	if leg, cause := p.DialPublic(ctx, call, PublicCall{TenantID: tenantID, Number: "+3250123456"}); leg != nil || cause != callctl.CauseForbidden || len(call.Dials()) != 0 {
		t.Fatalf("over the credit limit: %v %s, %d dials", leg, cause, len(call.Dials()))
	}
	p.Credit = nil

	for name, c := range map[string]struct {
		number, billing string
	}{
		"premium barred":   {"0903 12 345", BillingActive},
		"emergency number": {"112", BillingActive},
		"restricted":       {"050 12 34 56", BillingRestricted},
		"service minimum":  {"050 12 34 56", BillingServiceMinimum},
	} {
		ten := st.tenants[tenantID]
		ten.BillingState = c.billing
		st.tenants[tenantID] = ten
		call := originated()
		if leg, cause := p.DialPublic(ctx, call, PublicCall{TenantID: tenantID, Number: c.number}); leg != nil || cause != callctl.CauseForbidden || len(call.Dials()) != 0 {
			t.Errorf("%s: %v %s, %d dials", name, leg, cause, len(call.Dials()))
		}
	}
}
