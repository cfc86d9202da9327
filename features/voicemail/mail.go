package voicemail

import (
	"context"
	"time"

	"pbx/store"
)

// mail sends a new message to its box's owner, in the background: a slow
// mail server must not hold up the call's end.
func (s *Service) mail(box store.VoicemailBox, m store.VoicemailMessage) {
	if s.Mailer == nil || !box.EmailNotify {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	to, label := box.Email, ""
	if box.UserID != "" {
		if u, err := s.Store.User(ctx, box.TenantID, box.UserID); err == nil {
			if to == "" {
				to = u.Email
			}
			label = u.Extension
		}
	}
	if to == "" {
		cancel()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		err := s.Mailer.Send(ctx, Mail{To: to, Caller: m.Caller, CallerName: m.CallerName, Box: label,
			ReceivedAt: m.ReceivedAt, Duration: m.Duration, WAVPath: m.Path})
		if err != nil {
			s.log().Error("voicemail: e-mail", "box", box.ID, "message", m.ID, "error", err)
		}
	}()
}
