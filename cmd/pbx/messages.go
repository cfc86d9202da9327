package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/features/messages"
	"pbx/sip/message"
	"pbx/store"
)

// setupMessages mounts SIP MESSAGE: messages between the users of a
// tenant (kept for a licence with no device registered, handed to the
// next it registers) and the tenants' SMS through the carrier trunk.
func (a *app) setupMessages() {
	sipMsg := &message.Service{SIP: a.sip, Auth: a.regis, Log: a.log}
	svc := &messages.Service{Store: a.store, Locator: a.regis, Sender: deviceMessages{sipMsg}, Log: a.log}
	sipMsg.Router = messageRouter{svc}
	a.sip.Handle(sip.MESSAGE, sipMsg.Handle)
	a.sms = &messages.SMS{Store: a.store, Carrier: carrierMessages{svc: sipMsg, host: a.sip.PublicHost()}}

	// A device that starts, or wakes from a push's sleep, gets the
	// messages kept for its licence. The registrar's hooks must return at
	// once: the messages go out on their own goroutine, which the app's
	// close waits for.
	deliver := func(da store.DeviceAuth, b store.Binding) {
		a.goBackground(func() {
			ctx, cancel := context.WithTimeout(a.ctx, time.Minute)
			defer cancel()
			svc.Registered(ctx, da.Tenant.Domain, da.User, b)
		})
	}
	prev := a.regis.NewBinding
	a.regis.NewBinding = func(da store.DeviceAuth, b store.Binding) {
		if prev != nil {
			prev(da, b)
		}
		deliver(da, b)
	}
	a.regis.Woken = deliver
	a.every(time.Hour, "expire kept messages", func(ctx context.Context) error {
		_, err := a.store.DeleteExpiredMessages(ctx, time.Now())
		return err
	})
}

// messageRouter hands the MESSAGEs of devices to the messages feature.
type messageRouter struct{ svc *messages.Service }

func (r messageRouter) Route(ctx context.Context, from store.DeviceAuth, m message.Message) int {
	sender := m.FromUser
	if sender == "" {
		sender = from.Device.SIPUsername // a light licence has no extension
	}
	out, err := r.svc.Send(ctx, from.Tenant.ID, messages.Message{From: sender, FromName: m.FromName, Domain: m.Domain, To: m.To,
		ContentType: m.ContentType, Body: m.Body})
	switch {
	case errors.Is(err, messages.ErrNoRecipient):
		return 404
	case err != nil:
		return 500
	case out == messages.Kept:
		return 202 // RFC 3428: accepted, not yet delivered
	}
	return 200
}

// deviceMessages sends the feature's messages to devices as SIP MESSAGE.
type deviceMessages struct{ sip *message.Service }

func (d deviceMessages) ToBinding(ctx context.Context, b store.Binding, m messages.Message) error {
	return d.sip.ToBinding(ctx, b, message.Message{FromUser: m.From, FromName: m.FromName, Domain: m.Domain, To: m.To,
		ContentType: m.ContentType, Body: m.Body})
}

// carrierMessages sends SMS to a carrier trunk as SIP MESSAGE, from the
// tenant's number at our public host.
type carrierMessages struct {
	svc  *message.Service
	host string
}

func (c carrierMessages) ToCarrier(ctx context.Context, tr store.Trunk, password, number string, m messages.Message) error {
	port := tr.Port
	if port == 0 {
		port = 5060
	}
	var auth *message.Credentials
	if tr.Username != "" {
		auth = &message.Credentials{Username: tr.Username, Password: password}
	}
	return c.svc.ToCarrier(ctx, net.JoinHostPort(tr.Host, strconv.Itoa(port)), tr.Transport, number,
		message.Message{FromUser: m.From, Domain: c.host, To: number, ContentType: m.ContentType, Body: m.Body}, auth)
}
