package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/store"
)

// Why a caller reaches a box; it chooses the greeting.
const (
	ReasonNoAnswer    = "no_answer"
	ReasonBusy        = "busy"
	ReasonUnavailable = "unavailable" // no device registered, or sent here directly
)

// Longest message when the box does not say.
const defaultMax = 3 * time.Minute

// pending is what the .json beside a recording says: enough to make it a
// message after a crash.
type pending struct {
	ID         string    `json:"id"`
	TenantID   string    `json:"tenant_id"`
	BoxID      string    `json:"box_id"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	ReceivedAt time.Time `json:"received_at"`
}

// Deposit is the program of a caller who reaches owner's box (a full
// licence or a hunt group of the tenant): answer, greeting, beep, record
// until the caller hangs up, presses #, stays silent or reaches the
// maximum length. It implements the dialplan's voicemail hook.
func (s *Service) Deposit(ctx context.Context, call callctl.Call, tenantID, owner, reason string) {
	in := call.Inbound()
	if in == nil {
		return
	}
	log := s.log().With("call_id", call.ID(), "owner", owner)
	box, err := s.Box(ctx, tenantID, owner)
	if err != nil {
		log.Warn("voicemail: no box", "error", err)
		in.Hangup(callctl.CauseUnavailable)
		return
	}
	dir, err := s.boxDir(box)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		log.Error("voicemail: box directory", "box", box.ID, "error", err)
		in.Hangup(callctl.CauseFailure)
		return
	}
	if err := in.Answer(ctx); err != nil {
		return
	}
	lang, _ := s.Store.VoicemailLanguage(ctx, box)
	if err := in.Play(ctx, s.greeting(ctx, box, reason, lang)...); err != nil {
		return // the caller left during the greeting: no message
	}
	caller := in.Remote()
	p := pending{ID: store.NewVoicemailMessageID(), TenantID: box.TenantID, BoxID: box.ID,
		Caller: caller.Number, CallerName: caller.Name, ReceivedAt: s.now().UTC()}
	res, err := s.record(ctx, in, dir, p, box)
	if err != nil {
		log.Error("voicemail: recording", "box", box.ID, "error", err)
	}
	if res.Stop != callctl.RecordHangup {
		in.Play(ctx, s.prompts(lang, "vm-goodbye")...)
		in.Hangup(callctl.CauseNormal)
	}
}

// record writes the message from in to its temporary file, then finishes
// it (however the recording ended: a hang-up is the usual end).
func (s *Service) record(ctx context.Context, in callctl.Leg, dir string, p pending, box store.VoicemailBox) (callctl.RecordResult, error) {
	meta, err := json.Marshal(p)
	if err != nil {
		return callctl.RecordResult{}, err
	}
	if err := writeSynced(filepath.Join(dir, ".rec-"+p.ID+".json"), meta); err != nil {
		return callctl.RecordResult{}, err
	}
	tmp := filepath.Join(dir, ".rec-"+p.ID+".wav")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.Remove(filepath.Join(dir, ".rec-"+p.ID+".json"))
		return callctl.RecordResult{}, err
	}
	max := defaultMax
	if box.MaxSeconds > 0 {
		max = time.Duration(box.MaxSeconds) * time.Second
	}
	silence := s.Silence
	if silence <= 0 {
		silence = 5 * time.Second
	}
	// The recording outlives the program's context: a node shutting down
	// still completes the file (and the hang-up ends the recording anyway).
	res, rerr := in.Record(context.WithoutCancel(ctx), f, callctl.RecordSpec{Max: max, Silence: silence, StopDigits: "#", Beep: true})
	if errors.Is(rerr, callctl.ErrLegEnded) {
		// The caller hung up: the usual end of a message, and the file
		// is complete.
		res.Stop, rerr = callctl.RecordHangup, nil
	}
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(rerr, serr, cerr); err != nil {
		// Keep the files: Recover makes what was written a message.
		return res, err
	}
	if res.Stop == callctl.RecordSilence {
		// Keep a little of the silence: the end of a word is quiet.
		if err := trimWAV(tmp, silence-250*time.Millisecond); err != nil {
			return res, err
		}
	}
	return res, s.finish(context.WithoutCancel(ctx), dir, p)
}

// finish turns a complete temporary recording into a message: too short
// is discarded; else renamed, recorded in the store, announced.
func (s *Service) finish(ctx context.Context, dir string, p pending) error {
	tmp := filepath.Join(dir, ".rec-"+p.ID+".wav")
	meta := filepath.Join(dir, ".rec-"+p.ID+".json")
	final := filepath.Join(dir, p.ID+".wav")
	if st, err := os.Stat(tmp); err == nil {
		if st.Size() < wavHeader {
			// The caller left during the beep: nothing was recorded.
			os.Remove(tmp)
			os.Remove(meta)
			return nil
		}
		d, err := repairWAV(tmp)
		if err != nil {
			return fmt.Errorf("message %s: %w", p.ID, err)
		}
		min := s.MinMessage
		if min <= 0 {
			min = time.Second
		}
		if d < min {
			os.Remove(tmp)
			os.Remove(meta)
			return nil
		}
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
		syncDir(dir)
	}
	d, err := wavDuration(final)
	if err != nil {
		return fmt.Errorf("message %s: %w", p.ID, err)
	}
	m := store.VoicemailMessage{ID: p.ID, TenantID: p.TenantID, BoxID: p.BoxID, Caller: p.Caller, CallerName: p.CallerName,
		ReceivedAt: p.ReceivedAt, Duration: d, Path: final}
	created, err := s.Store.CreateVoicemailMessage(ctx, m)
	if err != nil {
		return err
	}
	os.Remove(meta)
	if !created {
		return nil
	}
	s.log().Info("voicemail: message left", "box", p.BoxID, "message", p.ID, "caller", p.Caller, "duration", d)
	box, err := s.Store.VoicemailBoxByID(ctx, p.TenantID, p.BoxID)
	if err != nil {
		return err
	}
	s.MessageChanged(ctx, box)
	s.mail(box, m)
	return nil
}

// greeting is what a caller hears before the beep: the temporary greeting
// while set, else the busy or unavailable one, else the default, which
// says the recorded name or the extension.
func (s *Service) greeting(ctx context.Context, box store.VoicemailBox, reason, lang string) []media.Source {
	gs, err := s.Store.VoicemailGreetings(ctx, box.ID)
	if err != nil {
		s.log().Error("voicemail: greetings", "box", box.ID, "error", err)
	}
	kind := store.GreetingUnavailable
	if reason == ReasonBusy {
		kind = store.GreetingBusy
	}
	for _, k := range []string{store.GreetingTemporary, kind} {
		if c := loadClip(gs[k]); c != nil {
			return []media.Source{c.Source()}
		}
	}
	var out []media.Source
	if c := loadClip(gs[store.GreetingName]); c != nil {
		out = append(out, c.Source())
	} else if box.UserID != "" {
		if u, err := s.Store.User(ctx, box.TenantID, box.UserID); err == nil && u.Extension != "" {
			out = append(out, s.prompts(lang, "vm-person")...)
			out = append(out, s.digits(lang, u.Extension)...)
		}
	}
	status := "vm-unavailable"
	if reason == ReasonBusy {
		status = "vm-busy"
	}
	out = append(out, s.prompts(lang, status, "vm-leave-message")...)
	return out
}

// loadClip reads a greeting's file; nil when there is none.
func loadClip(path string) *media.Clip {
	if path == "" {
		return nil
	}
	c, err := media.LoadClip(path)
	if err != nil {
		return nil
	}
	return c
}

// prompts returns the system prompts ids in lang, skipping missing ones.
func (s *Service) prompts(lang string, ids ...string) []media.Source {
	if s.Prompts == nil {
		return nil
	}
	out := make([]media.Source, 0, len(ids))
	for _, id := range ids {
		if src := s.Prompts.Prompt(lang, id); src != nil {
			out = append(out, src)
		}
	}
	return out
}

// digits says a string of digits one by one.
func (s *Service) digits(lang, ds string) []media.Source {
	var ids []string
	for _, d := range ds {
		if d >= '0' && d <= '9' {
			ids = append(ids, "digit-"+string(d))
		}
	}
	return s.prompts(lang, ids...)
}

// writeSynced writes a small file durably.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
