package main

import (
	"context"
	"time"

	"pbx/callctl"
	"pbx/dialplan"
	"pbx/features/campaign"
	"pbx/features/huntgroup"
)

// campaignNetwork is the dialplan seen from a campaign: calls to the
// public network with the tenant's rules, and the hunt groups' members.
type campaignNetwork struct{ plan *dialplan.Plan }

func (n campaignNetwork) DialPublic(ctx context.Context, call callctl.Call, tenantID, number, callerID string, ring time.Duration) (callctl.Leg, callctl.Cause) {
	return n.plan.DialPublic(ctx, call, dialplan.PublicCall{TenantID: tenantID, Number: number, CallerID: callerID, RingTimeout: ring})
}

func (n campaignNetwork) Agents(ctx context.Context, tenantID, domain string) (context.Context, huntgroup.Directory) {
	return n.plan.Agents(ctx, tenantID, domain)
}

// campaignClock is the dialplan's clock (which tests set) with real
// waits: a campaign's window follows the clock the call flows follow.
type campaignClock struct{ c *flowClock }

func (c campaignClock) Now() time.Time                       { return c.c.Now() }
func (campaignClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// startCampaigns makes the campaign scheduler and runs it until the app
// closes; the campaigns running when the node stopped go on.
func (a *app) startCampaigns() {
	c := a.calls
	a.campaigns = &campaign.Scheduler{Store: a.store, Calls: c.b2bua, Network: campaignNetwork{c.plan}, Audio: c.plan.Audio,
		Notify: a.webhooks, Clock: campaignClock{&c.clock}, Poll: a.cfg.CampaignPoll, Logger: a.log}
	if c.plan.Prompts != nil {
		a.campaigns.Prompts = c.plan.Prompts
	}
	if err := a.campaigns.Recover(a.ctx); err != nil {
		a.log.Error("campaign: recovering the previous run's attempts", "error", err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.campaigns.Run(a.ctx)
	}()
}
