// Package campaign owns outbound campaigns: the scheduler that dials a
// running campaign's contacts at the pace its settings allow (concurrent
// calls, calls per minute, idle agents) and only inside its weekly
// window, retries busy, unanswered and failed attempts, and finishes the
// campaign when no contact is left; and the program of each call, one
// per mode: broadcast plays the tenant's message and offers the opt-out
// key, agents puts the answered contact through to an idle member of a
// hunt group. Calls are originated through callctl and dialled as any
// call to the public network is (the Network, the dialplan in the
// application); the do-not-call lists are read right before each dial.
package campaign

import (
	"context"
	"log/slog"
	"time"

	"pbx/callctl"
	"pbx/features/huntgroup"
	"pbx/media"
	"pbx/store"
)

// Modes of a campaign.
const (
	Broadcast = "broadcast"
	Agents    = "agents"
)

// OptOutDigit is the key that puts the contact on the tenant's
// do-not-call list during a broadcast.
const OptOutDigit = "9"

// System prompts the programs play (prompts/texts.tsv).
const (
	PromptOptOut     = "campaign-optout"      // "press 9 to never be called again"
	PromptOptedOut   = "campaign-optout-done" // the number will not be called again
	DNCSourceKeypad  = "keypad"
	DNCSourceAPI     = "api"
	EventStarted     = "campaign.started"
	EventPaused      = "campaign.paused"
	EventResumed     = "campaign.resumed"
	EventFinished    = "campaign.finished"
	EventProgress    = "campaign.progress"
	defaultPoll      = 5 * time.Second
	agentRingTimeout = 20 * time.Second
)

// Store is what campaigns read and write (*store.Store).
type Store interface {
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	HuntGroup(ctx context.Context, tenantID, id string) (store.HuntGroup, error)
	Campaign(ctx context.Context, tenantID, id string) (store.Campaign, error)
	RunningCampaigns(ctx context.Context) ([]store.Campaign, error)
	SetCampaignState(ctx context.Context, tenantID, id string, from []string, to string, cancelled bool, now time.Time) error
	CampaignProgress(ctx context.Context, campaignID string) (map[string]int, error)
	DueCampaignContacts(ctx context.Context, campaignID string, maxAttempts int, now time.Time, limit int) ([]store.CampaignContact, error)
	NextCampaignContactAt(ctx context.Context, campaignID string, maxAttempts int) (time.Time, bool, error)
	ClaimCampaignContact(ctx context.Context, campaignID string, position int, now time.Time) (bool, error)
	SkipCampaignContact(ctx context.Context, campaignID string, position int, status string) error
	FinishCampaignAttempt(ctx context.Context, c store.CampaignContact) error
	RecoverCampaignAttempts(ctx context.Context) (int64, error)
	DoNotCall(ctx context.Context, tenantID, number string) (string, error)
	AddTenantDNC(ctx context.Context, tenantID, number, source string, now time.Time) error
}

// Network dials the public network for a tenant and finds its agents:
// the dialplan's rules (billing state, barring, routes, caller id) and
// hunt group members.
type Network interface {
	// DialPublic dials number on call, presenting callerID, ringing at
	// most ring; it returns the answered leg or why it failed.
	DialPublic(ctx context.Context, call callctl.Call, tenantID, number, callerID string, ring time.Duration) (callctl.Leg, callctl.Cause)
	// Agents is the directory of the tenant's hunt group members; its
	// methods take the context it returns.
	Agents(ctx context.Context, tenantID, domain string) (context.Context, huntgroup.Directory)
}

// Audio opens a tenant's uploaded audio (see callflow.Audio).
type Audio interface {
	Open(ctx context.Context, tenantID, audioID string) (media.Source, error)
}

// Prompter gives system prompts by language and id.
type Prompter interface {
	Prompt(lang, id string) media.Source
}

// Notifier tells a tenant of an event (its webhook).
type Notifier interface {
	Send(ctx context.Context, tenantID, event string, data any) error
}

// Clock is the scheduler's time: the window, retries and pacing follow
// it, so tests move it by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Progress is a campaign's contacts counted by result, as the API and
// the webhook report it.
type Progress struct {
	Total    int `json:"total"`
	Pending  int `json:"pending" doc:"not dialled yet, or waiting for a retry"`
	Dialling int `json:"dialling"`
	Answered int `json:"answered"`
	Busy     int `json:"busy" doc:"busy at the last attempt (retried while attempts remain)"`
	NoAnswer int `json:"no_answer"`
	Failed   int `json:"failed"`
	OptedOut int `json:"opted_out"`
	Skipped  int `json:"skipped" doc:"on a do-not-call list at dial time"`
}

// ProgressOf turns the store's counts by status into a Progress.
func ProgressOf(counts map[string]int) Progress {
	p := Progress{Pending: counts[store.ContactPending], Dialling: counts[store.ContactDialling], Answered: counts[store.ContactAnswered],
		Busy: counts[store.ContactBusy], NoAnswer: counts[store.ContactNoAnswer], Failed: counts[store.ContactFailed],
		OptedOut: counts[store.ContactOptedOut], Skipped: counts[store.ContactSkipped]}
	for _, n := range counts {
		p.Total += n
	}
	return p
}

// event is the data of a campaign's webhook events.
type event struct {
	CampaignID string   `json:"campaign_id"`
	Name       string   `json:"name"`
	State      string   `json:"state"`
	Progress   Progress `json:"progress"`
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
