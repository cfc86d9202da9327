// Package push sends the notifications that wake mobile softphones asleep
// in the background so that they register again and take a call (RFC 8599):
// VoIP pushes through Apple's APNs (HTTP/2, token-based ES256 JWT) and data
// messages through Firebase Cloud Messaging's HTTP v1 API (OAuth2 with a
// service account). It knows no SIP and no store: cmd/pbx wires it to the
// registrar's bindings and to the dialplan.
//
// Device tokens and credentials never appear in errors or logs.
package push

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// Device is where a push goes: a binding's RFC 8599 parameters.
type Device struct {
	Provider string // pn-provider: "apns" or "fcm"
	Token    string // pn-prid: the device's token at the service
	Param    string // pn-param: TeamID.BundleID.voip (APNs), the project id (FCM)
}

// Notification is what a push carries: a call to take.
type Notification struct {
	// ID pairs the push with the call the device will receive (the
	// call's id; the payload's call-id and uuid).
	ID string
	// From is the caller's number or URI; FromName its display name.
	From, FromName string
	// TTL is how long the service may hold the push for an unreachable
	// device: past the wait for the device, a late wake-up is useless.
	TTL time.Duration
}

// Sender sends pushes through one service.
type Sender interface {
	Send(ctx context.Context, d Device, n Notification) error
}

// Error is a push the service refused.
type Error struct {
	Service string // "apns" or "fcm"
	Status  int    // HTTP status
	Reason  string // the service's reason (BadDeviceToken, UNREGISTERED, ...)
	// Gone: the token is no longer valid; the binding that carries it
	// must not be pushed to again.
	Gone bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("push: %s refused the notification: HTTP %d %s", e.Service, e.Status, e.Reason)
}

// Gone reports whether err says the device's token is no longer valid.
func Gone(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Gone
}

// ErrNoService is the error of a push to a service that is not configured.
var ErrNoService = errors.New("push: no credentials for this push service")

// Senders sends each push through the service its device names.
type Senders map[string]Sender

// Send sends n to d through its provider's sender.
func (s Senders) Send(ctx context.Context, d Device, n Notification) error {
	snd, ok := s[d.Provider]
	if !ok || snd == nil {
		return ErrNoService
	}
	return snd.Send(ctx, d, n)
}

// Providers lists the services configured.
func (s Senders) Providers() []string {
	out := make([]string, 0, len(s))
	for p, snd := range s {
		if snd != nil {
			out = append(out, p)
		}
	}
	return out
}

// newUUID returns a random (version 4) UUID, the apns-id of a push.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
