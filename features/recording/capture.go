package recording

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/recordings"
	"pbx/store"
)

// capture records one bridge.
type capture struct {
	s        *Service
	call     callctl.Call
	br       callctl.Bridge
	b        Bridged
	settings store.RecordingSettings
	log      *slog.Logger
}

// running is one stretch being recorded.
type running struct {
	w   *recordings.Writer
	rec callctl.Recording
}

// always records the whole bridge.
func (c *capture) always(ctx context.Context) {
	c.announce(ctx, PromptStarted)
	r := c.start(ctx)
	if r == nil {
		return
	}
	select {
	case <-r.rec.Done():
	case <-c.br.Done():
	}
	c.finish(r)
}

// onDemand watches both parties' digits for the toggle code and records
// while it is on.
func (c *capture) onDemand(ctx context.Context) {
	code := c.settings.ToggleCode
	if code == "" {
		code = "*1"
	}
	gap := c.s.DigitGap
	if gap <= 0 {
		gap = 3 * time.Second
	}
	a, b := c.br.Legs()
	legs := [2]callctl.Leg{a, b}
	ev := [2]<-chan callctl.Event{a.Events(), b.Events()}
	var typed [2]digits
	var r *running
	defer func() {
		if r != nil {
			c.finish(r)
		}
	}()
	for ev[0] != nil || ev[1] != nil {
		var e callctl.Event
		var ok bool
		var side int
		select {
		case <-c.br.Done():
			return
		case <-ctx.Done():
			return
		case e, ok = <-ev[0]:
		case e, ok = <-ev[1]:
			side = 1
		}
		if !ok {
			// The party left: a transfer may have put another in its
			// place, whose digits count from now on.
			ev[side] = nil
			a, b := c.br.Legs()
			if now := [2]callctl.Leg{a, b}[side]; now != nil && now != legs[side] {
				legs[side], ev[side], typed[side] = now, now.Events(), digits{}
			}
			continue
		}
		if e.Kind != callctl.EventDTMF || !typed[side].add(e.Digit, e.At, gap, code) {
			continue
		}
		if r == nil {
			c.log.Info("recording: started on demand", "by", side)
			c.announce(ctx, PromptStarted)
			r = c.start(ctx)
		} else {
			c.log.Info("recording: stopped on demand", "by", side)
			c.finish(r)
			r = nil
			c.announce(ctx, PromptStopped)
		}
	}
	// Both event streams ended: the legs are gone.
}

// digits is what one party typed lately.
type digits struct {
	buf  []rune
	last time.Time
}

// add notes a digit and reports whether the code was just completed.
func (d *digits) add(r rune, at time.Time, gap time.Duration, code string) bool {
	if !d.last.IsZero() && at.Sub(d.last) > gap {
		d.buf = d.buf[:0]
	}
	d.last = at
	d.buf = append(d.buf, r)
	if n := len([]rune(code)); len(d.buf) > n {
		d.buf = d.buf[len(d.buf)-n:]
	}
	if string(d.buf) == code {
		d.buf = d.buf[:0]
		return true
	}
	return false
}

// announce plays a prompt to both parties at once, if the tenant wants
// announcements, and returns when both have heard it.
func (c *capture) announce(ctx context.Context, id string) {
	if !c.settings.Announce {
		return
	}
	if c.s.Prompts == nil {
		c.log.Warn("recording: announcement wanted but no prompts are installed")
		return
	}
	lang := ""
	if t, err := c.s.Store.Tenant(ctx, c.b.TenantID); err == nil {
		lang = t.Language
	}
	a, b := c.br.Legs()
	var wg sync.WaitGroup
	for _, l := range []callctl.Leg{a, b} {
		src := c.s.Prompts.Prompt(lang, id)
		if src == nil {
			c.log.Warn("recording: prompt missing", "prompt", id, "lang", lang)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Play(ctx, src); err != nil && !errors.Is(err, context.Canceled) {
				c.log.Info("recording: announcement not played", "error", err)
			}
		}()
	}
	wg.Wait()
}

// start begins a recording of the bridge; nil if it could not.
func (c *capture) start(ctx context.Context) *running {
	select {
	case <-c.br.Done():
		return nil // ended during the announcement
	default:
	}
	a, b := c.br.Legs()
	w, err := c.s.Files.Begin(ctx, recordings.Meta{TenantID: c.b.TenantID, CallID: c.call.ID(),
		Parties: []store.RecordingParty{party(c.b.Caller, a), party(c.b.Callee, b)}})
	if err != nil {
		c.log.Error("recording: file", "error", err)
		return nil
	}
	rec, err := c.br.Record(ctx, w, callctl.RecordSpec{})
	if err != nil {
		c.log.Info("recording: not started", "error", err)
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Discard(dctx); err != nil {
			c.log.Error("recording: discard", "recording", w.Recording().ID, "error", err)
		}
		return nil
	}
	c.log.Info("recording started", "recording", w.Recording().ID)
	return &running{w: w, rec: rec}
}

// party names who is on a channel: the dialplan's view, else the leg's.
func party(p callctl.Party, l callctl.Leg) store.RecordingParty {
	if p.Number == "" && p.Name == "" && l != nil {
		p = l.Remote()
	}
	return store.RecordingParty{Name: strings.TrimSpace(p.Name), Number: p.Number, UserID: p.UserID}
}

// finish stops a recording (its file is then complete) and completes its
// row.
func (c *capture) finish(r *running) {
	res := r.rec.Stop()
	if res.Err != nil {
		c.log.Error("recording: write", "recording", r.w.Recording().ID, "error", res.Err)
	}
	c.complete(r.w)
}

// complete closes the file and records its size and checksum; the call's
// context may be over by then, so it has its own.
func (c *capture) complete(w *recordings.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Finish(ctx); err != nil {
		// The row stays unfinished: the next start-up repairs it.
		c.log.Error("recording: finish", "recording", w.Recording().ID, "error", err)
		return
	}
	c.log.Info("recording finished", "recording", w.Recording().ID)
}
