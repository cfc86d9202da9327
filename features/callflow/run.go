package callflow

import (
	"context"
	"time"

	"pbx/callctl"
	"pbx/media"
)

// Audio opens a tenant's uploaded audio for playing.
type Audio interface {
	Open(ctx context.Context, tenantID, audioID string) (media.Source, error)
}

// Run walks g for a call whose caller is leg: schedules read now(), the
// caller is answered at the first announcement or menu (not before: a flow
// that only routes leaves the answer to the destination), menus read RFC
// 4733 or SIP INFO digits through the leg's prompts. It returns the path
// and the destination the dialplan hands the call to.
func Run(ctx context.Context, leg callctl.Leg, tenantID string, g Graph, tz string, audio Audio, now func() time.Time) ([]string, Destination, error) {
	if now == nil {
		now = time.Now
	}
	return Walk(ctx, g, tz, &callEnv{leg: leg, tenant: tenantID, audio: audio, now: now})
}

type callEnv struct {
	leg    callctl.Leg
	tenant string
	audio  Audio
	now    func() time.Time
}

func (e *callEnv) Now() time.Time { return e.now() }

func (e *callEnv) open(ctx context.Context, id string) ([]media.Source, error) {
	if id == "" {
		return nil, nil
	}
	src, err := e.audio.Open(ctx, e.tenant, id)
	if err != nil {
		return nil, err
	}
	return []media.Source{src}, nil
}

func (e *callEnv) Play(ctx context.Context, audio string) error {
	if err := e.leg.Answer(ctx); err != nil {
		return err
	}
	srcs, err := e.open(ctx, audio)
	if err != nil {
		return err
	}
	return e.leg.Play(ctx, srcs...)
}

func (e *callEnv) Menu(ctx context.Context, prompt string, timeout time.Duration) (string, error) {
	if err := e.leg.Answer(ctx); err != nil {
		return "", err
	}
	srcs, err := e.open(ctx, prompt)
	if err != nil {
		return "", err
	}
	res, err := e.leg.Prompt(ctx, callctl.PromptSpec{Audio: srcs, MaxDigits: 1, FirstDigit: timeout})
	if err != nil {
		return "", err
	}
	return res.Digits, nil
}
