// Package messages owns instant messaging between the users of a tenant
// and SMS to the outside: a message to a licence goes to every device it
// has registered, or is kept (up to Keep, 7 days by default) and handed to
// the next device it registers; an SMS leaves through a carrier trunk once
// its text, its numbers and the tenant's rate allow it. It knows no SIP:
// cmd/pbx wires it to package sip/message.
package messages

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pbx/store"
)

// Message is one instant message.
type Message struct {
	// From is the sender's extension (or number), FromName its name,
	// Domain the tenant's SIP domain.
	From, FromName, Domain string
	// To is the recipient's extension.
	To          string
	ContentType string
	Body        []byte
}

// Store is what delivery needs from persistence.
type Store interface {
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
	AddPendingMessage(ctx context.Context, m store.PendingMessage) (store.PendingMessage, error)
	PendingMessages(ctx context.Context, userID string, now time.Time) ([]store.PendingMessage, error)
	DeletePendingMessage(ctx context.Context, id string) (bool, error)
}

// Locator returns the live bindings of a licence (the registrar).
type Locator interface {
	Lookup(ctx context.Context, userID string) ([]store.Binding, error)
}

// Sender sends a message to one registered device.
type Sender interface {
	ToBinding(ctx context.Context, b store.Binding, m Message) error
}

// DefaultKeep is how long an undelivered message waits for a device.
const DefaultKeep = 7 * 24 * time.Hour

// Outcome says what became of a message.
type Outcome int

const (
	Delivered Outcome = iota // at least one device took it
	Kept                     // no device took it: kept for the next registration
)

// ErrNoRecipient: no licence of the tenant has that extension.
var ErrNoRecipient = errors.New("messages: no such recipient")

// Service delivers instant messages.
type Service struct {
	Store   Store
	Locator Locator
	Sender  Sender
	Keep    time.Duration    // default DefaultKeep
	Now     func() time.Time // default time.Now
	Log     *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Send delivers m to every registered device of the tenant's licence with
// extension m.To, at once; when none takes it, it is kept.
func (s *Service) Send(ctx context.Context, tenantID string, m Message) (Outcome, error) {
	u, err := s.Store.UserByExtension(ctx, tenantID, m.To)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrNoRecipient
	}
	if err != nil {
		return 0, err
	}
	bs, err := s.Locator.Lookup(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if s.deliver(ctx, bs, m) {
		return Delivered, nil
	}
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	now := s.now()
	_, err = s.Store.AddPendingMessage(ctx, store.PendingMessage{TenantID: tenantID, UserID: u.ID, Sender: m.From, SenderName: m.FromName,
		ContentType: m.ContentType, Body: m.Body, CreatedAt: now, ExpiresAt: now.Add(keep)})
	if err != nil {
		return 0, err
	}
	return Kept, nil
}

// deliver sends m to each binding at once and reports whether one took it.
func (s *Service) deliver(ctx context.Context, bs []store.Binding, m Message) bool {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := false
	for _, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Sender.ToBinding(ctx, b, m); err != nil {
				s.log().Info("messages: a device did not take a message", "device_id", b.DeviceID, "error", err)
				return
			}
			mu.Lock()
			ok = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok
}

// Registered hands the messages kept for a licence to a device it has
// just registered, oldest first; those it takes are no longer kept.
func (s *Service) Registered(ctx context.Context, domain string, u store.User, b store.Binding) {
	ms, err := s.Store.PendingMessages(ctx, u.ID, s.now())
	if err != nil {
		s.log().Error("messages: read kept messages", "user_id", u.ID, "error", err)
		return
	}
	for _, pm := range ms {
		m := Message{From: pm.Sender, FromName: pm.SenderName, Domain: domain, To: u.Extension, ContentType: pm.ContentType, Body: pm.Body}
		if err := s.Sender.ToBinding(ctx, b, m); err != nil {
			s.log().Info("messages: a registered device did not take a kept message", "device_id", b.DeviceID, "error", err)
			return // the rest waits for the next registration, in order
		}
		if _, err := s.Store.DeletePendingMessage(ctx, pm.ID); err != nil {
			s.log().Error("messages: forget a delivered message", "error", err)
			return
		}
	}
}
