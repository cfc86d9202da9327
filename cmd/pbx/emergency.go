package main

import (
	"pbx/dialplan"
	"pbx/webhook"
)

// setupEmergency gives the dialplan what emergency calls need: the store
// (sites, registered locations, numbers, the log) and the tenants'
// webhooks, which it is told through.
func (a *app) setupEmergency(c *calls) {
	a.webhooks = &webhook.Sender{Store: a.store, Logger: a.log, Backoff: a.cfg.WebhookBackoff, AllowPrivate: a.cfg.WebhookAllowPrivate}
	a.webhooks.Init()
	c.plan.Emergency = &dialplan.EmergencyServices{Store: a.store, Notify: a.webhooks, Numbers: a.cfg.EmergencyNumbers}
}

// startWebhooks delivers the queued webhook events until the app closes,
// those a previous run left first.
func (a *app) startWebhooks() {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.webhooks.Run(a.ctx)
	}()
}

// closeEmergency waits for the reports of the emergency calls placed (the
// log in the store, the webhook queue) before the store closes.
func (a *app) closeEmergency() {
	if a.calls != nil && a.calls.plan != nil {
		a.calls.plan.Emergency.Wait()
	}
}
