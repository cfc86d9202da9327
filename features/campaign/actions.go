package campaign

import (
	"context"

	"pbx/store"
)

// The actions on a campaign's state. Each fails with store.ErrConflict
// when the campaign is not in a state it applies to, and
// store.ErrNotFound when the tenant has no such campaign. Calls under
// way when a campaign is paused or cancelled go on to their end; no new
// one starts.

// Start moves a draft campaign to running.
func (s *Scheduler) Start(ctx context.Context, tenantID, id string) (store.Campaign, error) {
	return s.move(ctx, tenantID, id, []string{store.CampaignDraft}, store.CampaignRunning, false, EventStarted)
}

// Pause stops a running campaign's dialling.
func (s *Scheduler) Pause(ctx context.Context, tenantID, id string) (store.Campaign, error) {
	return s.move(ctx, tenantID, id, []string{store.CampaignRunning}, store.CampaignPaused, false, EventPaused)
}

// Resume runs a paused campaign again.
func (s *Scheduler) Resume(ctx context.Context, tenantID, id string) (store.Campaign, error) {
	return s.move(ctx, tenantID, id, []string{store.CampaignPaused}, store.CampaignRunning, false, EventResumed)
}

// Cancel finishes a campaign that has not finished, whatever is left.
func (s *Scheduler) Cancel(ctx context.Context, tenantID, id string) (store.Campaign, error) {
	return s.move(ctx, tenantID, id, []string{store.CampaignDraft, store.CampaignRunning, store.CampaignPaused}, store.CampaignFinished, true, EventFinished)
}

func (s *Scheduler) move(ctx context.Context, tenantID, id string, from []string, to string, cancelled bool, ev string) (store.Campaign, error) {
	if err := s.Store.SetCampaignState(ctx, tenantID, id, from, to, cancelled, s.clock().Now()); err != nil {
		return store.Campaign{}, err
	}
	c, err := s.Store.Campaign(ctx, tenantID, id)
	if err != nil {
		return store.Campaign{}, err
	}
	s.log().Info("campaign: "+to, "campaign_id", id, "tenant_id", tenantID)
	s.notify(ctx, c, ev, to)
	if to == store.CampaignRunning {
		s.Wake()
	}
	return c, nil
}
