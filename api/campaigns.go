package api

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"time"

	"pbx/features/campaign"
	"pbx/numbering"
	"pbx/store"
)

// Outbound campaigns: a list of contacts called in the tenant's name, who
// hear a message or are put through to an agent; and the do-not-call
// lists they are checked against.

// CampaignStore is what the campaigns and do-not-call lists need from
// the store.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error)
	Campaign(ctx context.Context, tenantID, id string) (store.Campaign, error)
	Campaigns(ctx context.Context, tenantID string) ([]store.Campaign, error)
	CampaignProgress(ctx context.Context, campaignID string) (map[string]int, error)
	CampaignContacts(ctx context.Context, campaignID string) ([]store.CampaignContact, error)
	AddCampaignContacts(ctx context.Context, campaignID string, cs []store.CampaignContact) error
	DoNotCall(ctx context.Context, tenantID, number string) (string, error)
	AddTenantDNC(ctx context.Context, tenantID, number, source string, now time.Time) error
	RemoveTenantDNC(ctx context.Context, tenantID, number string) error
	ReplacePlatformDNC(ctx context.Context, numbers []string, now time.Time) error
}

// Campaigns moves campaigns between their states (campaign.Scheduler):
// each fails with store.ErrConflict out of turn.
type Campaigns interface {
	Start(ctx context.Context, tenantID, id string) (store.Campaign, error)
	Pause(ctx context.Context, tenantID, id string) (store.Campaign, error)
	Resume(ctx context.Context, tenantID, id string) (store.Campaign, error)
	Cancel(ctx context.Context, tenantID, id string) (store.Campaign, error)
}

type campaignRequest struct {
	Name           string          `json:"name"`
	Mode           string          `json:"mode" doc:"broadcast (a message, with 9 to opt out) or agents (put through to an idle member of a hunt group)"`
	Audio          string          `json:"audio,omitempty" doc:"broadcast: the id of the tenant's audio played"`
	HuntGroup      string          `json:"hunt_group,omitempty" doc:"agents: the id of the hunt group whose members take the calls"`
	CallerID       string          `json:"caller_id" doc:"a public number of the tenant, presented to the contacts"`
	Window         campaign.Window `json:"window" doc:"the weekly hours calls may be placed in"`
	MaxConcurrent  int             `json:"max_concurrent" doc:"calls up at once, 1-100"`
	CallsPerMinute int             `json:"calls_per_minute" doc:"calls started per minute, 1-600"`
	MaxAttempts    int             `json:"max_attempts" doc:"attempts per contact (busy, no answer and failures are retried), 1-10"`
	RetryAfter     int             `json:"retry_after" doc:"seconds before a contact is tried again, 60-604800"`
	RingTimeout    int             `json:"ring_timeout,omitempty" doc:"seconds a contact's phone rings before the attempt counts as no answer, 10-120; default 30"`
}

type campaignJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Mode           string            `json:"mode"`
	Audio          string            `json:"audio,omitempty"`
	HuntGroup      string            `json:"hunt_group,omitempty"`
	CallerID       string            `json:"caller_id"`
	Window         campaign.Window   `json:"window"`
	MaxConcurrent  int               `json:"max_concurrent"`
	CallsPerMinute int               `json:"calls_per_minute"`
	MaxAttempts    int               `json:"max_attempts"`
	RetryAfter     int               `json:"retry_after"`
	RingTimeout    int               `json:"ring_timeout"`
	State          string            `json:"state" doc:"draft, running, paused or finished"`
	Cancelled      bool              `json:"cancelled" doc:"finished by a cancel"`
	Progress       campaign.Progress `json:"progress"`
	CreatedAt      time.Time         `json:"created_at"`
	StartedAt      *time.Time        `json:"started_at,omitempty"`
	FinishedAt     *time.Time        `json:"finished_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *server) campaignRoutes() []route {
	const (
		tenant   = v1 + "/tenants/{tenant}"
		cmp      = tenant + "/campaigns/{campaign}"
		conflict = http.StatusConflict
		unavail  = http.StatusServiceUnavailable
	)
	action := func(name, op, summary string, h func(*call) error) route {
		return route{method: "POST", path: cmp + "/" + name, op: op, summary: summary, access: tenantScope, out: campaignJSON{}, status: 200, errs: []int{conflict, unavail}, h: h}
	}
	return []route{
		{method: "POST", path: tenant + "/campaigns", op: "createCampaign", summary: "Create an outbound campaign (draft): its mode, caller id, window and pace", access: tenantScope, in: campaignRequest{}, out: campaignJSON{}, status: 201, h: s.createCampaign},
		{method: "GET", path: tenant + "/campaigns", op: "listCampaigns", summary: "List the tenant's campaigns, oldest first, with their progress", access: tenantScope, out: []campaignJSON{}, status: 200, h: s.listCampaigns},
		{method: "GET", path: cmp, op: "getCampaign", summary: "Get a campaign with its contacts counted by result", access: tenantScope, out: campaignJSON{}, status: 200, h: s.getCampaign},
		{method: "POST", path: cmp + "/contacts", op: "uploadCampaignContacts", summary: "Add contacts from CSV (number[,name[,custom fields...]], a header line naming the columns); bad numbers, duplicates and do-not-call hits are reported line by line and then nothing is added", access: tenantScope, rawIn: []string{"text/csv"}, out: contactUploadJSON{}, status: 201, errs: []int{conflict}, h: s.uploadCampaignContacts},
		{method: "GET", path: cmp + "/results", op: "getCampaignResults", summary: "Each contact's result as CSV: number, name, status (pending, dialling, answered, busy, no_answer, failed, opted_out, skipped), attempts, last attempt, duration in seconds, agent", access: tenantScope, rawOut: "text/csv", status: 200, h: s.getCampaignResults},
		action("start", "startCampaign", "Start a draft campaign", s.campaignAction(Campaigns.Start)),
		action("pause", "pauseCampaign", "Pause a running campaign (calls under way end normally)", s.campaignAction(Campaigns.Pause)),
		action("resume", "resumeCampaign", "Resume a paused campaign", s.campaignAction(Campaigns.Resume)),
		action("cancel", "cancelCampaign", "Finish a campaign now, whatever contacts are left", s.campaignAction(Campaigns.Cancel)),
		{method: "POST", path: tenant + "/do_not_call", op: "addDoNotCall", summary: "Put a number on the tenant's own do-not-call list", access: tenantScope, in: dncRequest{}, out: dncJSON{}, status: 201, h: s.addDoNotCall},
		{method: "DELETE", path: tenant + "/do_not_call/{dnc_number}", op: "removeDoNotCall", summary: "Take a number (E.164) off the tenant's own do-not-call list", access: tenantScope, status: 204, h: s.removeDoNotCall},
		{method: "PUT", path: v1 + "/do_not_call", op: "importPlatformDoNotCall", summary: platformDNCFormat, access: adminOnly, rawIn: []string{"text/plain", "text/csv"}, out: dncImportJSON{}, status: 200, errs: []int{http.StatusForbidden}, h: s.importPlatformDNC},
	}
}

func (s *server) createCampaign(c *call) error {
	var in campaignRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	cmp := store.Campaign{TenantID: c.tenant.ID, Name: fe.text("name", in.Name, true, 100), Mode: in.Mode}
	fe.oneOf("mode", in.Mode, true, campaign.Broadcast, campaign.Agents)
	switch in.Mode {
	case campaign.Broadcast:
		if _, err := s.store.Audio(c.ctx(), c.tenant.ID, in.Audio); err != nil {
			fe.add("audio", "must be the id of an audio of the tenant")
		}
		cmp.AudioID = in.Audio
	case campaign.Agents:
		if _, err := s.store.HuntGroup(c.ctx(), c.tenant.ID, in.HuntGroup); err != nil {
			fe.add("hunt_group", "must be the id of a hunt group of the tenant")
		}
		cmp.HuntGroupID = in.HuntGroup
	}
	cmp.CallerID = s.tenantNumber(c, &fe, in.CallerID)
	for f, d := range in.Window.Problems() {
		fe.add(f, "%s", d)
	}
	cmp.TimeZone, cmp.Hours = in.Window.TimeZone, in.Window.EncodeHours()
	if cmp.TimeZone == "" {
		cmp.TimeZone = campaign.DefaultTimeZone
	}
	if in.RingTimeout == 0 {
		in.RingTimeout = 30
	}
	for _, r := range []struct {
		field    string
		v        int
		min, max int
	}{{"max_concurrent", in.MaxConcurrent, 1, 100}, {"calls_per_minute", in.CallsPerMinute, 1, 600}, {"max_attempts", in.MaxAttempts, 1, 10},
		{"retry_after", in.RetryAfter, 60, 7 * 24 * 3600}, {"ring_timeout", in.RingTimeout, 10, 120}} {
		if r.v < r.min || r.v > r.max {
			fe.add(r.field, "must be between %d and %d", r.min, r.max)
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	cmp.MaxConcurrent, cmp.CallsPerMinute, cmp.MaxAttempts = in.MaxConcurrent, in.CallsPerMinute, in.MaxAttempts
	cmp.RetryAfter, cmp.RingTimeout = time.Duration(in.RetryAfter)*time.Second, time.Duration(in.RingTimeout)*time.Second
	created, err := s.store.CreateCampaign(c.ctx(), cmp)
	if err != nil {
		return err
	}
	return s.replyCampaign(c, 201, created)
}

// tenantNumber checks that n is one of the tenant's public numbers and
// returns it in E.164.
func (s *server) tenantNumber(c *call, fe *fieldErrors, n string) string {
	e164, err := numbering.Normalize(n)
	if err != nil {
		fe.add("caller_id", "must be a public number of the tenant")
		return ""
	}
	nums, err := s.store.Numbers(c.ctx(), c.tenant.ID)
	if err == nil {
		for _, x := range nums {
			if x.E164 == e164 {
				return e164
			}
		}
	}
	fe.add("caller_id", "must be a public number of the tenant")
	return ""
}

func (c *call) campaign() (store.Campaign, error) {
	cmp, err := c.s.store.Campaign(c.ctx(), c.tenant.ID, c.path("campaign"))
	if errors.Is(err, store.ErrNotFound) {
		return cmp, notFound("campaign %q not found", c.path("campaign"))
	}
	return cmp, err
}

func (s *server) replyCampaign(c *call, status int, cmp store.Campaign) error {
	out, err := s.campaignJSON(c.ctx(), cmp)
	if err != nil {
		return err
	}
	return c.reply(status, out)
}

func (s *server) listCampaigns(c *call) error {
	cs, err := s.store.Campaigns(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]campaignJSON, 0, len(cs))
	for _, cmp := range cs {
		j, err := s.campaignJSON(c.ctx(), cmp)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	return c.reply(200, out)
}

func (s *server) campaignJSON(ctx context.Context, cmp store.Campaign) (campaignJSON, error) {
	counts, err := s.store.CampaignProgress(ctx, cmp.ID)
	if err != nil {
		return campaignJSON{}, err
	}
	w, err := campaign.DecodeWindow(cmp.TimeZone, cmp.Hours)
	if err != nil {
		return campaignJSON{}, err
	}
	return campaignJSON{ID: cmp.ID, Name: cmp.Name, Mode: cmp.Mode, Audio: cmp.AudioID, HuntGroup: cmp.HuntGroupID, CallerID: cmp.CallerID,
		Window: w, MaxConcurrent: cmp.MaxConcurrent, CallsPerMinute: cmp.CallsPerMinute, MaxAttempts: cmp.MaxAttempts,
		RetryAfter: int(cmp.RetryAfter / time.Second), RingTimeout: int(cmp.RingTimeout / time.Second), State: cmp.State, Cancelled: cmp.Cancelled,
		Progress: campaign.ProgressOf(counts), CreatedAt: cmp.CreatedAt, StartedAt: timePtr(cmp.StartedAt), FinishedAt: timePtr(cmp.FinishedAt)}, nil
}

func (s *server) getCampaign(c *call) error {
	cmp, err := c.campaign()
	if err != nil {
		return err
	}
	return s.replyCampaign(c, 200, cmp)
}

func (s *server) campaignAction(act func(Campaigns, context.Context, string, string) (store.Campaign, error)) func(*call) error {
	return func(c *call) error {
		cmp, err := c.campaign()
		if err != nil {
			return err
		}
		if s.campaigns == nil {
			return httpProblem(http.StatusServiceUnavailable, "campaigns are not served here")
		}
		cmp, err = act(s.campaigns, c.ctx(), c.tenant.ID, cmp.ID)
		if errors.Is(err, store.ErrConflict) {
			return conflictOn("state", "the campaign's state does not allow this")
		}
		if err != nil {
			return err
		}
		return s.replyCampaign(c, 200, cmp)
	}
}

func (s *server) getCampaignResults(c *call) error {
	cmp, err := c.campaign()
	if err != nil {
		return err
	}
	cs, err := s.store.CampaignContacts(c.ctx(), cmp.ID)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.w.Header().Set("Content-Disposition", `attachment; filename="`+cmp.ID+`-results.csv"`)
	c.w.WriteHeader(200)
	w := csv.NewWriter(c.w)
	w.Write([]string{"number", "name", "status", "attempts", "last_attempt", "duration", "agent"})
	for _, ct := range cs {
		last := ""
		if !ct.LastAt.IsZero() {
			last = ct.LastAt.Format(time.RFC3339)
		}
		w.Write([]string{ct.Number, ct.Name, ct.Status, strconv.Itoa(ct.Attempts), last, strconv.Itoa(int(ct.Duration / time.Second)), ct.Agent})
	}
	w.Flush()
	return nil
}
