// Package recording owns call recording as a feature: the policy of a
// bridged call (never, always or on demand, set per user, per public
// number and per hunt group; the strongest of those that apply wins),
// the announcement both parties hear when recording starts, and the
// capture itself, a stereo bridge recording (callctl.Bridge.Record: the
// caller on the left, the callee on the right) written as the call goes
// into a file of package recordings, which keeps it afterwards.
//
// On demand, either party toggles recording with a DTMF code (default
// *1); each stretch recorded is a recording of its own.
//
// The dialplan tells the Service of each bridge it makes (Bridged); a
// call no policy records costs one store query and nothing per packet.
package recording

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/recordings"
	"pbx/store"
)

// Store is what the feature reads.
type Store interface {
	RecordingPolicies(ctx context.Context, tenantID string, keys []store.PolicyKey) (map[store.PolicyKey]string, error)
	RecordingSettings(ctx context.Context, tenantID string) (store.RecordingSettings, error)
	Tenant(ctx context.Context, id string) (store.Tenant, error)
}

// Files starts recordings' files (*recordings.Library).
type Files interface {
	Begin(ctx context.Context, m recordings.Meta) (*recordings.Writer, error)
}

// Prompter gives system prompts by language and id (package prompts).
type Prompter interface {
	Prompt(lang, id string) media.Source
}

// Prompt ids the feature plays.
const (
	PromptStarted = "call-recorded"
	PromptStopped = "call-recording-stopped"
)

// Bridged is a bridge the dialplan made and who is in it.
type Bridged struct {
	TenantID string
	// Caller is the first leg's party (recorded on the left channel),
	// Callee the second's (right). UserID is set for our licences.
	Caller, Callee callctl.Party
	NumberID       string // the public number a carrier's call came in on
	HuntGroupID    string // the hunt group whose member answered
}

// keys are the policies that may apply to b.
func (b Bridged) keys() []store.PolicyKey {
	var ks []store.PolicyKey
	for _, k := range []store.PolicyKey{{Kind: store.PolicyUser, ID: b.Caller.UserID}, {Kind: store.PolicyUser, ID: b.Callee.UserID},
		{Kind: store.PolicyNumber, ID: b.NumberID}, {Kind: store.PolicyHuntGroup, ID: b.HuntGroupID}} {
		if k.ID != "" {
			ks = append(ks, k)
		}
	}
	return ks
}

// Service records the bridged calls whose policy says so.
type Service struct {
	Store   Store
	Files   Files
	Prompts Prompter // nil: no announcement can be played
	Logger  *slog.Logger
	// DigitGap is the longest pause between the digits of the toggle
	// code (default 3 s).
	DigitGap time.Duration

	wg sync.WaitGroup
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Mode is the policy that applies to b: always if any key says always,
// else on_demand if any says so, else never.
func Mode(policies map[store.PolicyKey]string) string {
	mode := store.RecordNever
	for _, m := range policies {
		switch {
		case m == store.RecordAlways:
			return m
		case m == store.RecordOnDemand:
			mode = m
		}
	}
	return mode
}

// Bridged decides whether the bridge is recorded and, if so, records it
// on a goroutine of its own until the bridge ends. It returns at once.
func (s *Service) Bridged(ctx context.Context, call callctl.Call, br callctl.Bridge, b Bridged) {
	keys := b.keys()
	if len(keys) == 0 || b.TenantID == "" {
		return
	}
	pol, err := s.Store.RecordingPolicies(ctx, b.TenantID, keys)
	if err != nil {
		s.log().Error("recording: policies", "call_id", call.ID(), "error", err)
		return
	}
	mode := Mode(pol)
	if mode == store.RecordNever {
		return
	}
	st, err := s.Store.RecordingSettings(ctx, b.TenantID)
	if err != nil {
		s.log().Error("recording: settings", "call_id", call.ID(), "error", err)
		return
	}
	c := &capture{s: s, call: call, br: br, b: b, settings: st, log: s.log().With("call_id", call.ID(), "tenant_id", b.TenantID, "mode", mode)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if mode == store.RecordAlways {
			c.always(ctx)
		} else {
			c.onDemand(ctx)
		}
	}()
}

// Wait returns when every capture has ended (their bridges have).
func (s *Service) Wait() { s.wg.Wait() }
