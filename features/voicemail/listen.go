package voicemail

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/store"
)

// Keys of the menus (the prompts say them).
//
//	main:    1 new messages, 2 saved messages, 0 mailbox options, * leave
//	message: 1 replay, 3 delete, 6 next, 9 save and next, * main menu
//	options: 1 unavailable greeting, 2 busy greeting, 3 name,
//	         4 temporary greeting, 5 remove the temporary one,
//	         6 change the PIN, * main menu
const maxPINTries = 3

// session is one caller listening to one box.
type session struct {
	s    *Service
	in   callctl.Leg
	box  store.VoicemailBox
	lang string
}

// Listen is the program of a caller who calls voicemail to listen to a
// box: owner's (a licence of the tenant), or the one whose extension the
// caller keys in when owner is "". With pinRequired (another phone than
// the owner's, or a call flow's entry), the box's PIN is asked; a box
// without a PIN cannot be reached that way.
func (s *Service) Listen(ctx context.Context, call callctl.Call, tenantID, owner string, pinRequired bool) {
	in := call.Inbound()
	if in == nil {
		return
	}
	defer in.Hangup(callctl.CauseNormal)
	if err := in.Answer(ctx); err != nil {
		return
	}
	ss := &session{s: s, in: in}
	if err := ss.login(ctx, tenantID, owner, pinRequired); err != nil {
		if !errors.Is(err, callctl.ErrLegEnded) {
			in.Play(ctx, s.prompts(ss.lang, "vm-goodbye")...)
		}
		return
	}
	ss.main(ctx)
}

// errLogin: the caller did not get in.
var errLogin = errors.New("voicemail: login failed")

func (ss *session) login(ctx context.Context, tenantID, owner string, pinRequired bool) error {
	s := ss.s
	for try := 0; try < maxPINTries; try++ {
		if try > 0 {
			if err := ss.in.Play(ctx, s.prompts(ss.lang, "vm-invalid-login")...); err != nil {
				return err
			}
		}
		who := owner
		if who == "" {
			res, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: s.prompts(ss.lang, "vm-enter-mailbox"), MaxDigits: 10, Terminators: "#"})
			if err != nil {
				return err
			}
			u, err := s.Store.UserByExtension(ctx, tenantID, res.Digits)
			if err != nil {
				if pinRequired {
					// Ask for the PIN anyway: a wrong mailbox and a wrong
					// PIN must sound the same.
					if _, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: s.prompts(ss.lang, "vm-enter-pin"), MaxDigits: 10, Terminators: "#"}); err != nil {
						return err
					}
				}
				continue
			}
			who = u.ID
		}
		box, err := s.Store.UserVoicemailBox(ctx, tenantID, who)
		if err != nil {
			if owner != "" {
				return err // our own caller's box: nothing to retry
			}
			continue
		}
		ss.box = box
		ss.lang, _ = s.Store.VoicemailLanguage(ctx, box)
		if !pinRequired {
			return nil
		}
		res, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: s.prompts(ss.lang, "vm-enter-pin"), MaxDigits: 10, Terminators: "#", Flush: owner != ""})
		if err != nil {
			return err
		}
		if CheckPIN(box.PINHash, res.Digits) {
			return nil
		}
		ss.box = store.VoicemailBox{}
	}
	return errLogin
}

// choose plays audio and waits for one key; "" after a time-out.
func (ss *session) choose(ctx context.Context, audio []media.Source) (string, error) {
	res, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: audio, MaxDigits: 1, FirstDigit: 8 * time.Second})
	return res.Digits, err
}

func (ss *session) main(ctx context.Context) {
	s := ss.s
	for timeouts := 0; timeouts < 3; {
		msgs, err := s.Store.VoicemailMessages(ctx, ss.box.TenantID, ss.box.ID)
		if err != nil {
			s.log().Error("voicemail: messages", "box", ss.box.ID, "error", err)
			return
		}
		var fresh, saved []store.VoicemailMessage
		for _, m := range msgs {
			if m.Read {
				saved = append(saved, m)
			} else {
				fresh = append(fresh, m)
			}
		}
		audio := s.prompts(ss.lang, "vm-you-have")
		audio = append(audio, s.number(ss.lang, len(fresh))...)
		audio = append(audio, s.prompts(ss.lang, "vm-new-messages", "vm-and")...)
		audio = append(audio, s.number(ss.lang, len(saved))...)
		audio = append(audio, s.prompts(ss.lang, "vm-saved-messages", "vm-main-menu")...)
		key, err := ss.choose(ctx, audio)
		if err != nil {
			return
		}
		switch key {
		case "1":
			err = ss.browse(ctx, fresh)
		case "2":
			err = ss.browse(ctx, saved)
		case "0":
			err = ss.options(ctx)
		case "*", "#":
			ss.in.Play(ctx, s.prompts(ss.lang, "vm-goodbye")...)
			return
		case "":
			timeouts++
		default:
			err = ss.in.Play(ctx, s.prompts(ss.lang, "vm-invalid-option")...)
		}
		if err != nil {
			return
		}
	}
}

// browse plays msgs one after the other, each followed by its menu.
func (ss *session) browse(ctx context.Context, msgs []store.VoicemailMessage) error {
	s := ss.s
	for i := 0; i < len(msgs); {
		m := msgs[i]
		clip, err := media.LoadClip(m.Path)
		if err != nil {
			s.log().Error("voicemail: message file", "message", m.ID, "error", err)
			i++
			continue
		}
		audio := s.prompts(ss.lang, "vm-message")
		audio = append(audio, s.number(ss.lang, i+1)...)
		audio = append(audio, clip.Source())
		if !m.Read {
			// Heard once, a message is saved (no longer new).
			if err := s.MarkRead(ctx, ss.box, m.ID, true); err != nil {
				return err
			}
		}
		audio = append(audio, s.prompts(ss.lang, "vm-message-menu")...)
		for replay := true; replay; {
			replay = false
			key, err := ss.choose(ctx, audio)
			if err != nil {
				return err
			}
			switch key {
			case "1":
				replay = true
			case "3":
				if err := s.DeleteMessage(ctx, ss.box, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err := ss.in.Play(ctx, s.prompts(ss.lang, "vm-deleted")...); err != nil {
					return err
				}
				i++
			case "6", "9", "":
				i++
			case "*":
				return nil
			default:
				audio = s.prompts(ss.lang, "vm-invalid-option", "vm-message-menu")
				replay = true
			}
		}
	}
	return ss.in.Play(ctx, s.prompts(ss.lang, "vm-no-more-messages")...)
}

// options: greetings and the PIN.
func (ss *session) options(ctx context.Context) error {
	s := ss.s
	for {
		key, err := ss.choose(ctx, s.prompts(ss.lang, "vm-options-menu"))
		if err != nil {
			return err
		}
		switch key {
		case "1":
			err = ss.recordGreeting(ctx, store.GreetingUnavailable)
		case "2":
			err = ss.recordGreeting(ctx, store.GreetingBusy)
		case "3":
			err = ss.recordGreeting(ctx, store.GreetingName)
		case "4":
			err = ss.recordGreeting(ctx, store.GreetingTemporary)
		case "5":
			if err = s.DeleteGreeting(ctx, ss.box, store.GreetingTemporary); err == nil || errors.Is(err, store.ErrNotFound) {
				err = ss.in.Play(ctx, s.prompts(ss.lang, "vm-temp-removed")...)
			}
		case "6":
			err = ss.changePIN(ctx)
		case "*", "":
			return nil
		default:
			err = ss.in.Play(ctx, s.prompts(ss.lang, "vm-invalid-option")...)
		}
		if err != nil {
			return err
		}
	}
}

// recordGreeting records a greeting from the phone: after the tone, until
// # or silence.
func (ss *session) recordGreeting(ctx context.Context, kind string) error {
	s := ss.s
	if err := ss.in.Play(ctx, s.prompts(ss.lang, "vm-record-greeting")...); err != nil {
		return err
	}
	dir, err := s.boxDir(ss.box)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".greeting-rec-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	res, rerr := ss.in.Record(ctx, f, callctl.RecordSpec{Max: 2 * time.Minute, Silence: 5 * time.Second, StopDigits: "#", Beep: true})
	f.Close()
	if rerr != nil {
		return rerr
	}
	if res.Stop == callctl.RecordSilence {
		if err := trimWAV(f.Name(), 5*time.Second-250*time.Millisecond); err != nil {
			return err
		}
	}
	clip, err := media.LoadClip(f.Name())
	if err != nil {
		return err
	}
	if clip.Duration() < time.Second {
		return ss.in.Play(ctx, s.prompts(ss.lang, "vm-too-short")...)
	}
	if err := s.SetGreeting(ctx, ss.box, kind, clip); err != nil {
		return err
	}
	return ss.in.Play(ctx, s.prompts(ss.lang, "vm-greeting-saved")...)
}

// changePIN asks for the new PIN twice.
func (ss *session) changePIN(ctx context.Context) error {
	s := ss.s
	first, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: s.prompts(ss.lang, "vm-new-pin"), MaxDigits: 10, Terminators: "#", FirstDigit: 10 * time.Second})
	if err != nil {
		return err
	}
	if !validPIN(first.Digits) {
		return ss.in.Play(ctx, s.prompts(ss.lang, "vm-pin-invalid")...)
	}
	again, err := ss.in.Prompt(ctx, callctl.PromptSpec{Audio: s.prompts(ss.lang, "vm-reenter-pin"), MaxDigits: 10, Terminators: "#", FirstDigit: 10 * time.Second})
	if err != nil {
		return err
	}
	if again.Digits != first.Digits {
		return ss.in.Play(ctx, s.prompts(ss.lang, "vm-pin-mismatch")...)
	}
	if err := s.SetPIN(ctx, ss.box, first.Digits); err != nil {
		return err
	}
	return ss.in.Play(ctx, s.prompts(ss.lang, "vm-pin-changed")...)
}

// number says n: a recorded number up to 99, else its digits.
func (s *Service) number(lang string, n int) []media.Source {
	if n >= 0 && n < 100 {
		if src := s.prompts(lang, "num-"+strconv.Itoa(n)); len(src) > 0 {
			return src
		}
	}
	return s.digits(lang, strconv.Itoa(n))
}
