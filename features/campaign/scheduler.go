package campaign

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/store"
)

// Scheduler dials the running campaigns. Its state is the store's: a
// campaign running when the node stopped runs again when it starts, and
// the attempts it left under way count as failed (and are retried).
type Scheduler struct {
	Store   Store
	Calls   callctl.Controller
	Network Network
	Audio   Audio
	Prompts Prompter // nil: the opt-out offer is not announced
	Notify  Notifier // nil: no webhook events
	Clock   Clock    // default: the real clock
	// Poll is how often the running campaigns are looked at when nothing
	// wakes the scheduler (a window opening, a retry falling due);
	// default 5 s.
	Poll   time.Duration
	Logger *slog.Logger

	mu     sync.Mutex
	active map[string]*pace // by campaign id
	wake   chan struct{}
	calls  sync.WaitGroup
}

// pace is what the scheduler knows of a campaign's calls on this node.
type pace struct {
	up         int             // calls originated and not yet over
	unassigned int             // agents mode: calls no agent has taken yet
	agents     map[string]bool // agents mode: members in (or ringing for) our calls
	launches   []time.Time     // originations in the last minute
}

func (s *Scheduler) clock() Clock {
	if s.Clock != nil {
		return s.Clock
	}
	return realClock{}
}

func (s *Scheduler) log() *slog.Logger { return logger(s.Logger) }

func (s *Scheduler) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		s.active = map[string]*pace{}
		s.wake = make(chan struct{}, 1)
	}
}

func (s *Scheduler) pace(id string) *pace {
	p := s.active[id]
	if p == nil {
		p = &pace{agents: map[string]bool{}}
		s.active[id] = p
	}
	return p
}

// Wake makes the scheduler look at the campaigns now (a campaign
// started or resumed, a call ended).
func (s *Scheduler) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Recover counts the attempts a previous run left under way as failed;
// call it once before Run.
func (s *Scheduler) Recover(ctx context.Context) error {
	n, err := s.Store.RecoverCampaignAttempts(ctx)
	if n > 0 {
		s.log().Info("campaign: attempts of the previous run counted as failed", "count", n)
	}
	return err
}

// Run dials until ctx ends, then waits for the calls it placed to end.
func (s *Scheduler) Run(ctx context.Context) {
	s.init()
	defer s.calls.Wait()
	poll := s.Poll
	if poll <= 0 {
		poll = defaultPoll
	}
	for {
		if err := s.Step(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("campaign: scheduling", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.clock().After(poll):
		}
	}
}

// Step looks at every running campaign once: it dials what the pace
// allows and finishes the campaigns that have nothing left.
func (s *Scheduler) Step(ctx context.Context) error {
	s.init()
	cs, err := s.Store.RunningCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if err := s.step(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) step(ctx context.Context, c store.Campaign) error {
	now := s.clock().Now()
	w, err := DecodeWindow(c.TimeZone, c.Hours)
	if err != nil {
		return err
	}
	s.mu.Lock()
	up := s.pace(c.ID).up
	s.mu.Unlock()
	// Outside the window nothing is dialled, but a campaign with nothing
	// left still finishes.
	room := 0
	if w.Open(now) {
		if room, err = s.room(ctx, c, now); err != nil {
			return err
		}
		room = max(room, 0) // agents mode: calls waiting for more agents than are idle
	}
	due, err := s.Store.DueCampaignContacts(ctx, c.ID, c.MaxAttempts, now, max(room, 1))
	if err != nil {
		return err
	}
	if len(due) == 0 {
		if up > 0 {
			return nil
		}
		if _, left, err := s.Store.NextCampaignContactAt(ctx, c.ID, c.MaxAttempts); err != nil || left {
			return err
		}
		return s.finish(ctx, c, false)
	}
	for _, ct := range due[:min(room, len(due))] {
		if err := s.launch(ctx, c, ct, now); err != nil {
			return err
		}
	}
	return nil
}

// room is how many calls the campaign may start now: below
// max_concurrent, calls_per_minute over the last minute and, in agents
// mode, the idle agents no call of ours waits for (progressive: a call
// is only placed when an agent is free to take it).
func (s *Scheduler) room(ctx context.Context, c store.Campaign, now time.Time) (int, error) {
	s.mu.Lock()
	p := s.pace(c.ID)
	kept := p.launches[:0]
	for _, t := range p.launches {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	p.launches = kept
	room := min(c.MaxConcurrent-p.up, c.CallsPerMinute-len(p.launches))
	s.mu.Unlock()
	if c.Mode != Agents || room <= 0 {
		return room, nil
	}
	idle, err := s.idleAgents(ctx, c)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return min(room, len(idle)-p.unassigned), nil
}

// launch dials one contact unless a do-not-call list now holds it.
func (s *Scheduler) launch(ctx context.Context, c store.Campaign, ct store.CampaignContact, now time.Time) error {
	list, err := s.Store.DoNotCall(ctx, c.TenantID, ct.Number)
	if err != nil {
		return err
	}
	if list != "" {
		s.log().Info("campaign: contact on a do-not-call list, skipped", "campaign_id", c.ID, "list", list)
		return s.Store.SkipCampaignContact(ctx, c.ID, ct.Position, store.ContactSkipped)
	}
	if ok, err := s.Store.ClaimCampaignContact(ctx, c.ID, ct.Position, now); err != nil || !ok {
		return err
	}
	s.mu.Lock()
	p := s.pace(c.ID)
	p.up++
	if c.Mode == Agents {
		p.unassigned++
	}
	p.launches = append(p.launches, now)
	s.mu.Unlock()
	s.calls.Add(1)
	spec := callctl.OriginateSpec{Origin: callctl.Origin{TenantID: c.TenantID, Caller: callctl.Party{Number: c.CallerID}}, Dialled: ct.Number}
	_, err = s.Calls.Originate(spec, func(ctx context.Context, call callctl.Call) {
		defer s.calls.Done()
		s.attempt(ctx, call, c, ct)
	})
	if err != nil {
		s.calls.Done()
		s.log().Warn("campaign: originate", "campaign_id", c.ID, "error", err)
		s.ended(c, ct, store.ContactFailed, 0, "")
	}
	return nil
}

// ended records an attempt's result, frees its place and tells the
// tenant how far the campaign is.
func (s *Scheduler) ended(c store.Campaign, ct store.CampaignContact, status string, d time.Duration, agent string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ct.Status, ct.Duration, ct.Agent, ct.NextAt = status, d, agent, time.Time{}
	switch status {
	case store.ContactBusy, store.ContactNoAnswer, store.ContactFailed:
		ct.NextAt = s.clock().Now().Add(c.RetryAfter)
	}
	if err := s.Store.FinishCampaignAttempt(ctx, ct); err != nil {
		s.log().Error("campaign: attempt result", "campaign_id", c.ID, "error", err)
	}
	s.mu.Lock()
	p := s.pace(c.ID)
	p.up--
	s.mu.Unlock()
	s.notify(ctx, c, EventProgress, c.State)
	s.Wake()
}

// finish ends a campaign with nothing left to dial.
func (s *Scheduler) finish(ctx context.Context, c store.Campaign, cancelled bool) error {
	err := s.Store.SetCampaignState(ctx, c.TenantID, c.ID, []string{store.CampaignRunning}, store.CampaignFinished, cancelled, s.clock().Now())
	if errors.Is(err, store.ErrConflict) {
		return nil // paused or cancelled meanwhile
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.active, c.ID)
	s.mu.Unlock()
	s.log().Info("campaign: finished", "campaign_id", c.ID)
	s.notify(ctx, c, EventFinished, store.CampaignFinished)
	return nil
}

func (s *Scheduler) notify(ctx context.Context, c store.Campaign, ev, state string) {
	if s.Notify == nil {
		return
	}
	counts, err := s.Store.CampaignProgress(ctx, c.ID)
	if err == nil {
		err = s.Notify.Send(ctx, c.TenantID, ev, event{CampaignID: c.ID, Name: c.Name, State: state, Progress: ProgressOf(counts)})
	}
	if err != nil {
		s.log().Warn("campaign: webhook event", "campaign_id", c.ID, "event", ev, "error", err)
	}
}
