package voicemail

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"pbx/media"
	"pbx/store"
)

// Messages lists a box's messages, oldest first.
func (s *Service) Messages(ctx context.Context, b store.VoicemailBox) ([]store.VoicemailMessage, error) {
	return s.Store.VoicemailMessages(ctx, b.TenantID, b.ID)
}

// Message returns one message of a box.
func (s *Service) Message(ctx context.Context, b store.VoicemailBox, id string) (store.VoicemailMessage, error) {
	return s.Store.VoicemailMessage(ctx, b.TenantID, b.ID, id)
}

// SetEmail sets where and whether a box's messages are mailed.
func (s *Service) SetEmail(ctx context.Context, b store.VoicemailBox, email string, notify bool) error {
	return s.Store.SetVoicemailEmail(ctx, b.TenantID, b.ID, email, notify)
}

var greetingKinds = []string{store.GreetingUnavailable, store.GreetingBusy, store.GreetingTemporary, store.GreetingName}

// SetGreeting stores a greeting: the file first (whole, under its final
// name only once complete), then its record.
func (s *Service) SetGreeting(ctx context.Context, b store.VoicemailBox, kind string, clip *media.Clip) error {
	if !slices.Contains(greetingKinds, kind) {
		return ErrBadKind
	}
	dir, err := s.boxDir(b)
	if err != nil {
		return err
	}
	dir = filepath.Join(dir, "greetings")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".greeting-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	bw := bufio.NewWriter(tmp)
	err = clip.WriteWAV(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	path := filepath.Join(dir, kind+".wav")
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	syncDir(dir)
	return s.Store.SetVoicemailGreeting(ctx, b.ID, kind, path)
}

// DeleteGreeting removes a greeting; store.ErrNotFound when it had none.
func (s *Service) DeleteGreeting(ctx context.Context, b store.VoicemailBox, kind string) error {
	path, err := s.Store.DeleteVoicemailGreeting(ctx, b.ID, kind)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log().Warn("voicemail: remove greeting file", "path", path, "error", err)
	}
	return nil
}
