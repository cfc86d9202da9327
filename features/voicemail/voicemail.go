// Package voicemail owns the voicemail boxes' behaviour: leaving a message
// (greeting, beep, recording to a file that survives a hang-up or a crash),
// listening to messages by phone, greetings and PINs, and telling the
// owner's phones (message waiting) and mailbox (e-mail) that something
// arrived. It is a program on the call-control primitives of package
// callctl; the store keeps the boxes and messages, the files live under
// Dir.
//
// Files: Dir/<tenant>/<box>/<message>.wav for messages, written first as
// .rec-<message>.wav beside a .rec-<message>.json that says who called; a
// message is renamed to its final name when complete, then recorded in
// the store, then its .json removed. Recover finishes what a crash left at
// any of these steps, so a message is never lost and never counted twice.
package voicemail

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"pbx/media"
	"pbx/store"
)

// Store is what voicemail reads and writes.
type Store interface {
	UserVoicemailBox(ctx context.Context, tenantID, userID string) (store.VoicemailBox, error)
	GroupVoicemailBox(ctx context.Context, tenantID, groupID string) (store.VoicemailBox, error)
	VoicemailBoxByID(ctx context.Context, tenantID, id string) (store.VoicemailBox, error)
	VoicemailLanguage(ctx context.Context, b store.VoicemailBox) (string, error)
	VoicemailGreetings(ctx context.Context, boxID string) (map[string]string, error)
	SetVoicemailGreeting(ctx context.Context, boxID, kind, path string) error
	SetVoicemailPIN(ctx context.Context, tenantID, boxID, hash string) error
	CreateVoicemailMessage(ctx context.Context, m store.VoicemailMessage) (bool, error)
	VoicemailMessages(ctx context.Context, tenantID, boxID string) ([]store.VoicemailMessage, error)
	VoicemailMessage(ctx context.Context, tenantID, boxID, id string) (store.VoicemailMessage, error)
	DeleteVoicemailGreeting(ctx context.Context, boxID, kind string) (string, error)
	SetVoicemailEmail(ctx context.Context, tenantID, boxID, email string, notify bool) error
	MarkVoicemailRead(ctx context.Context, tenantID, boxID, id string, read bool) error
	DeleteVoicemailMessage(ctx context.Context, tenantID, boxID, id string) (string, error)
	VoicemailCounts(ctx context.Context, tenantID, boxID string) (newMsgs, oldMsgs int, err error)
	UserVoicemailCounts(ctx context.Context, tenantID, userID string) (newMsgs, oldMsgs int, err error)
	User(ctx context.Context, tenantID, id string) (store.User, error)
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
}

// Prompts gives the system prompts in a language; a prompt that does not
// exist is nil (and skipped).
type Prompts interface {
	Prompt(lang, id string) media.Source
}

// Notifier is told a box's counts whenever they change (message waiting
// lamps).
type Notifier interface {
	MessagesChanged(tenantID, userID string, newMsgs, oldMsgs int)
}

// Mailer sends a message to its box's owner by e-mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail is one e-mail notification.
type Mail struct {
	To                 string
	Caller, CallerName string
	Box                string // the box's extension or name, for the subject
	ReceivedAt         time.Time
	Duration           time.Duration
	WAVPath            string
}

// Service is the voicemail of a node.
type Service struct {
	Store Store
	// Dir holds the message and greeting files (in the data directory).
	Dir     string
	Prompts Prompts  // nil: no spoken prompts (beep only)
	MWI     Notifier // nil: no message waiting indication
	Mailer  Mailer   // nil: no e-mail
	// Silence ends a message after that much silence (default 5 s);
	// MinMessage is the shortest message kept (default 1 s).
	Silence, MinMessage time.Duration
	Now                 func() time.Time
	Logger              *slog.Logger

	wg sync.WaitGroup // mails being sent
}

// Errors of the service.
var (
	ErrNoBox    = errors.New("voicemail: no such box")
	ErrBadPIN   = errors.New("voicemail: a PIN is 4 to 10 digits")
	ErrBadKind  = errors.New("voicemail: unknown greeting kind")
	errBadOwner = errors.New("voicemail: unsafe id")
)

// Close waits for the e-mails being sent.
func (s *Service) Close() { s.wg.Wait() }

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// safeID: ids that become file names are ours, but a path is never built
// from anything else.
var safeID = regexp.MustCompile(`^[a-z]+_[0-9a-f]+$`)

// Box returns the box of owner, a full licence or a hunt group of the
// tenant.
func (s *Service) Box(ctx context.Context, tenantID, owner string) (store.VoicemailBox, error) {
	b, err := s.Store.UserVoicemailBox(ctx, tenantID, owner)
	if errors.Is(err, store.ErrNotFound) {
		b, err = s.Store.GroupVoicemailBox(ctx, tenantID, owner)
	}
	if errors.Is(err, store.ErrNotFound) {
		return b, ErrNoBox
	}
	return b, err
}

// boxDir is where a box's files live.
func (s *Service) boxDir(b store.VoicemailBox) (string, error) {
	if !safeID.MatchString(b.TenantID) || !safeID.MatchString(b.ID) {
		return "", errBadOwner
	}
	return filepath.Join(s.Dir, b.TenantID, b.ID), nil
}

// MessageChanged recomputes a box's counts and tells the MWI notifier; the
// API calls it after a read or delete.
func (s *Service) MessageChanged(ctx context.Context, b store.VoicemailBox) {
	if s.MWI == nil || b.UserID == "" {
		return
	}
	n, o, err := s.Store.VoicemailCounts(ctx, b.TenantID, b.ID)
	if err != nil {
		s.log().Error("voicemail: counts", "box", b.ID, "error", err)
		return
	}
	s.MWI.MessagesChanged(b.TenantID, b.UserID, n, o)
}

// Counts returns the counts of a user's box (the MWI service asks when a
// phone subscribes or registers); it writes nothing.
func (s *Service) Counts(ctx context.Context, tenantID, userID string) (newMsgs, oldMsgs int, err error) {
	return s.Store.UserVoicemailCounts(ctx, tenantID, userID)
}

// DeleteMessage removes a message and its file.
func (s *Service) DeleteMessage(ctx context.Context, b store.VoicemailBox, id string) error {
	path, err := s.Store.DeleteVoicemailMessage(ctx, b.TenantID, b.ID, id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log().Warn("voicemail: remove message file", "path", path, "error", err)
	}
	s.MessageChanged(ctx, b)
	return nil
}

// MarkRead marks a message read or new.
func (s *Service) MarkRead(ctx context.Context, b store.VoicemailBox, id string, read bool) error {
	if err := s.Store.MarkVoicemailRead(ctx, b.TenantID, b.ID, id, read); err != nil {
		return err
	}
	s.MessageChanged(ctx, b)
	return nil
}
