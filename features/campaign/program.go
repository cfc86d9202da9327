package campaign

import (
	"context"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/store"
)

// attempt is the program of one call: dial the contact as any call to the
// public network, then run the campaign's mode on the answered leg.
func (s *Scheduler) attempt(ctx context.Context, call callctl.Call, c store.Campaign, ct store.CampaignContact) {
	leg, cause := s.Network.DialPublic(ctx, call, c.TenantID, ct.Number, c.CallerID, c.RingTimeout)
	if leg == nil {
		if c.Mode == Agents {
			s.assigned(c.ID)
		}
		s.ended(c, ct, failure(cause), 0, "")
		return
	}
	status, agent := store.ContactAnswered, ""
	if c.Mode == Agents {
		status, agent = s.toAgent(ctx, call, c, leg)
	} else {
		status = s.broadcast(ctx, c, ct, leg)
	}
	leg.Hangup(callctl.CauseNormal)
	var d time.Duration
	if at := leg.AnsweredAt(); !at.IsZero() && status != store.ContactFailed {
		d = time.Since(at).Round(time.Second)
	}
	s.ended(c, ct, status, d, agent)
}

// failure is the result of an attempt that reached nobody.
func failure(cause callctl.Cause) string {
	switch cause {
	case callctl.CauseBusy:
		return store.ContactBusy
	case callctl.CauseNoAnswer:
		return store.ContactNoAnswer
	}
	return store.ContactFailed
}

// broadcast plays the message and the opt-out offer; the contact's 9 puts
// its number on the tenant's do-not-call list.
func (s *Scheduler) broadcast(ctx context.Context, c store.Campaign, ct store.CampaignContact, leg callctl.Leg) string {
	lang := ""
	if t, err := s.Store.Tenant(ctx, c.TenantID); err == nil {
		lang = t.Language
	}
	var audio []media.Source
	if src, err := s.Audio.Open(ctx, c.TenantID, c.AudioID); err == nil {
		audio = append(audio, src)
	} else {
		s.log().Error("campaign: message audio", "campaign_id", c.ID, "audio_id", c.AudioID, "error", err)
	}
	if p := s.prompt(lang, PromptOptOut); p != nil {
		audio = append(audio, p)
	}
	res, err := leg.Prompt(ctx, callctl.PromptSpec{Audio: audio, MaxDigits: 1, FirstDigit: 5 * time.Second})
	if err != nil || res.Digits != OptOutDigit {
		return store.ContactAnswered
	}
	if err := s.Store.AddTenantDNC(ctx, c.TenantID, ct.Number, DNCSourceKeypad, s.clock().Now()); err != nil {
		s.log().Error("campaign: opt-out", "campaign_id", c.ID, "error", err)
		return store.ContactAnswered
	}
	if p := s.prompt(lang, PromptOptedOut); p != nil {
		_ = leg.Play(ctx, p)
	}
	return store.ContactOptedOut
}

func (s *Scheduler) prompt(lang, id string) media.Source {
	if s.Prompts == nil {
		return nil
	}
	return s.Prompts.Prompt(lang, id)
}

// toAgent puts the answered contact through to an idle member of the
// campaign's hunt group, one after the other until one answers, and
// stays until either hangs up. Pacing made sure one was idle when the
// contact was dialled; should none answer, the attempt failed (and is
// retried) rather than leaving the contact with nobody.
func (s *Scheduler) toAgent(ctx context.Context, call callctl.Call, c store.Campaign, leg callctl.Leg) (string, string) {
	t, err := s.Store.Tenant(ctx, c.TenantID)
	if err != nil {
		s.assigned(c.ID)
		return store.ContactFailed, ""
	}
	actx, dir := s.Network.Agents(ctx, c.TenantID, t.Domain)
	idle, err := s.idleAgents(ctx, c)
	if err != nil {
		idle = nil
	}
	// The contact hears the tenant's music while an agent's phone rings.
	_ = leg.StartMusic("")
	defer leg.StopMusic()
	for _, uid := range idle {
		if !s.take(c.ID, uid) {
			continue
		}
		// An agent's devices asleep behind a push service are not woken:
		// a contact already answered waits for no push, only awake
		// devices ring.
		dest, _, err := dir.Destination(actx, uid)
		if err != nil || len(dest.Targets) == 0 {
			s.release(c.ID, uid)
			continue
		}
		dest.Timeout = agentRingTimeout
		agent := s.ring(ctx, call, leg, dest)
		if agent == nil {
			s.release(c.ID, uid)
			if leg.State() == callctl.LegEnded {
				s.assigned(c.ID)
				return store.ContactFailed, ""
			}
			continue
		}
		s.assigned(c.ID)
		_ = dir.Answered(actx, c.HuntGroupID, uid)
		if br, err := call.Bridge(leg, agent, callctl.BridgeOptions{}); err == nil {
			_, _ = br.Wait(ctx)
		}
		agent.Hangup(callctl.CauseNormal)
		s.release(c.ID, uid)
		return store.ContactAnswered, uid
	}
	s.assigned(c.ID)
	return store.ContactFailed, ""
}

// ring rings one agent while the contact waits, and gives up if the
// contact hangs up meanwhile.
func (s *Scheduler) ring(ctx context.Context, call callctl.Call, leg callctl.Leg, dest callctl.Destination) callctl.Leg {
	dialing := call.Dial(ctx, callctl.DialSpec{Destinations: []callctl.Destination{dest}, Timeout: dest.Timeout})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-leg.Done():
			dialing.Cancel(callctl.CauseCancelled)
		case <-stop:
		}
	}()
	res, err := dialing.Wait(ctx)
	if err != nil {
		return nil
	}
	if leg.State() == callctl.LegEnded {
		res.Leg.Hangup(callctl.CauseNormal)
		return nil
	}
	return res.Leg
}

// idleAgents are the campaign group's members free to take a call that
// no call of ours has taken meanwhile.
func (s *Scheduler) idleAgents(ctx context.Context, c store.Campaign) ([]string, error) {
	g, err := s.Store.HuntGroup(ctx, c.TenantID, c.HuntGroupID)
	if err != nil {
		return nil, err
	}
	t, err := s.Store.Tenant(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	actx, dir := s.Network.Agents(ctx, c.TenantID, t.Domain)
	ms, err := dir.Members(actx, g.Members)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(c.ID)
	var out []string
	for _, m := range ms {
		if m.Free() && !p.agents[m.UserID] {
			out = append(out, m.UserID)
		}
	}
	return out, nil
}

// take reserves an agent for one of the campaign's calls.
func (s *Scheduler) take(id, uid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(id)
	if p.agents[uid] {
		return false
	}
	p.agents[uid] = true
	return true
}

func (s *Scheduler) release(id, uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pace(id).agents, uid)
}

// assigned says a call of the campaign no longer waits for an agent
// (it has one, or it ended without).
func (s *Scheduler) assigned(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pace(id).unassigned--
}
