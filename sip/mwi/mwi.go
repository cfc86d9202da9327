// Package mwi owns message waiting indication (RFC 3842): the
// message-summary event package that lights a phone's voicemail lamp. A
// device subscribes to its own licence's mailbox and is notified of the
// counts of new and old messages whenever they change; a registered device
// that did not subscribe gets the same NOTIFY unsolicited, as most desk
// phones expect. The counts come from whoever keeps the mailboxes (the
// voicemail feature, wired in cmd/pbx): this package knows no features.
package mwi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipserver"
	"pbx/store"
)

// Authenticator checks the digest credentials of a request; when ok is
// false it has already answered it.
type Authenticator interface {
	Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.DeviceAuth, bool)
}

// Locator returns the live bindings of a licence.
type Locator interface {
	Lookup(ctx context.Context, userID string) ([]store.Binding, error)
}

// Counter returns the counts of a licence's mailbox.
type Counter interface {
	Counts(ctx context.Context, tenantID, userID string) (newMsgs, oldMsgs int, err error)
}

// Config of a Service; every field but the bounds and Logger is required.
type Config struct {
	SIP     *sipserver.Server
	Auth    Authenticator
	Locator Locator
	Counts  Counter
	// MinExpires and MaxExpires bound a subscription's life (defaults 60 s
	// and 3600 s).
	MinExpires, MaxExpires int
	Logger                 *slog.Logger
}

// Service holds the subscriptions and sends the NOTIFYs.
type Service struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	subs   map[string]*subscription // by Call-ID "|" our tag
	closed bool
	wg     sync.WaitGroup
}

// subscription is one device's subscription to its licence's mailbox.
type subscription struct {
	key              string
	tenantID, userID string
	deviceID         string
	account          string // sip:ext@domain, the Message-Account
	callID           string
	from             *sip.FromHeader // ours, with our tag
	to               *sip.ToHeader   // the subscriber, with its tag
	target           sip.Uri
	dest, network    string
	expires          time.Time
	mu               sync.Mutex // serialises the subscription's NOTIFYs
	cseq             uint32
}

// New returns a Service; HandleSubscribe receives its SUBSCRIBEs.
func New(cfg Config) (*Service, error) {
	if cfg.SIP == nil || cfg.Auth == nil || cfg.Locator == nil || cfg.Counts == nil {
		return nil, errors.New("mwi: Config needs SIP, Auth, Locator and Counts")
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger, subs: map[string]*subscription{}}, nil
}

// Event is the event package this service serves.
const Event = "message-summary"

// IsMWI reports whether a SUBSCRIBE is for message-summary.
func IsMWI(req *sip.Request) bool {
	ev := req.GetHeader("Event")
	return ev != nil && strings.EqualFold(strings.TrimSpace(strings.Split(ev.Value(), ";")[0]), Event)
}

// Close ends every subscription (a final NOTIFY each) and waits for the
// NOTIFYs in flight.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if s.remove(sub) {
			s.notify(sub, "noresource")
		}
	}
	s.wg.Wait()
}

// Sweep ends the subscriptions whose time is up.
func (s *Service) Sweep(now time.Time) int {
	s.mu.Lock()
	var due []*subscription
	for _, sub := range s.subs {
		if !now.Before(sub.expires) {
			due = append(due, sub)
		}
	}
	s.mu.Unlock()
	for _, sub := range due {
		if s.remove(sub) {
			s.goNotify(sub, "timeout")
		}
	}
	return len(due)
}

// MessagesChanged tells a licence's devices its mailbox's counts: a NOTIFY
// in each subscription, and an unsolicited one to each registered device
// that has none. It returns at once.
func (s *Service) MessagesChanged(tenantID, userID string, newMsgs, oldMsgs int) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	subscribed := map[string]bool{}
	var subs []*subscription
	for _, sub := range s.subs {
		if sub.userID == userID {
			subs = append(subs, sub)
			subscribed[sub.deviceID] = true
		}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	for _, sub := range subs {
		s.goNotify(sub, "")
	}
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		bs, err := s.cfg.Locator.Lookup(ctx, userID)
		if err != nil {
			s.log.Error("mwi: bindings", "user", userID, "error", err)
			return
		}
		for _, b := range bs {
			if !subscribed[b.DeviceID] {
				s.unsolicited(ctx, b, newMsgs, oldMsgs)
			}
		}
	}()
}

// DeviceRegistered lights the lamp of a device that has just registered a
// new contact (a phone that started) when its licence has new messages and
// the device has no subscription of its own. It returns at once.
func (s *Service) DeviceRegistered(da store.DeviceAuth, b store.Binding) {
	if da.User.Licence != store.LicenceFull {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	for _, sub := range s.subs {
		if sub.deviceID == da.Device.ID {
			s.mu.Unlock()
			return
		}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n, o, err := s.cfg.Counts.Counts(ctx, da.Tenant.ID, da.User.ID)
		if err != nil {
			s.log.Error("mwi: counts", "user", da.User.ID, "error", err)
			return
		}
		if n == 0 {
			return // the lamp of a phone that starts is off already
		}
		s.unsolicited(ctx, b, n, o)
	}()
}

// Summary is the application/simple-message-summary body (RFC 3842).
func Summary(account string, newMsgs, oldMsgs int) []byte {
	waiting := "no"
	if newMsgs > 0 {
		waiting = "yes"
	}
	return fmt.Appendf(nil, "Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n", waiting, account, newMsgs, oldMsgs)
}

// respond is sipserver.Respond.
var respond = sipserver.Respond

// HandleSubscribe serves a SUBSCRIBE to message-summary: a device
// subscribes to its own licence's mailbox, whatever user it names.
func (s *Service) HandleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
		respond(tx, req, 400, "Bad Request - missing mandatory header")
		return
	}
	expires := s.cfg.MaxExpires
	if v, ok, err := sipserver.Expires(req); err != nil {
		respond(tx, req, 400, "Bad Request - invalid Expires")
		return
	} else if ok {
		expires = min(v, s.cfg.MaxExpires)
	}
	if expires > 0 && expires < s.cfg.MinExpires {
		respond(tx, req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.MinExpires)))
		return
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		s.refresh(req, tx, tag, expires)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	da, ok := s.cfg.Auth.Authenticate(ctx, req, tx, false)
	if !ok {
		return
	}
	if da.User.Licence != store.LicenceFull {
		respond(tx, req, 404, "Not Found - no mailbox")
		return
	}
	contact := req.Contact()
	if contact == nil {
		respond(tx, req, 400, "Bad Request - missing Contact")
		return
	}
	from := req.From()
	remoteTag, _ := from.Params.Get("tag")
	ourTag := sip.GenerateTagN(16)
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if to := res.To(); to != nil {
		to.Params.Add("tag", ourTag)
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(&sip.ContactHeader{Address: s.cfg.SIP.ContactURI(req.Transport())})
	if err := tx.Respond(res); err != nil {
		return
	}
	account := sip.Uri{Scheme: "sip", User: da.User.Extension, Host: da.Tenant.Domain}
	ourFrom := &sip.FromHeader{Address: account, Params: sip.NewParams()}
	ourFrom.Params.Add("tag", ourTag)
	theirTo := &sip.ToHeader{DisplayName: from.DisplayName, Address: from.Address, Params: sip.NewParams()}
	theirTo.Params.Add("tag", remoteTag)
	sub := &subscription{
		key: req.CallID().Value() + "|" + ourTag, tenantID: da.Tenant.ID, userID: da.User.ID, deviceID: da.Device.ID,
		account: account.String(), callID: req.CallID().Value(), from: ourFrom, to: theirTo,
		target: contact.Address, dest: req.Source(), network: strings.ToLower(req.Transport()),
		expires: time.Now().Add(time.Duration(expires) * time.Second),
	}
	if expires == 0 {
		s.goNotify(sub, "timeout") // a fetch: the counts once
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.subs[sub.key] = sub
	s.mu.Unlock()
	s.log.Info("message-summary subscription", "device", da.Device.ID, "user", da.User.ID, "expires", expires)
	s.goNotify(sub, "")
}

// refresh handles a SUBSCRIBE within a subscription: a new expiry, or its
// end with expires 0.
func (s *Service) refresh(req *sip.Request, tx sip.ServerTransaction, ourTag string, expires int) {
	s.mu.Lock()
	sub := s.subs[req.CallID().Value()+"|"+ourTag]
	s.mu.Unlock()
	remoteTag, _ := req.From().Params.Get("tag")
	if sub == nil || remoteTag != tagOf(sub.to.Params) {
		respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	s.mu.Lock()
	sub.expires = time.Now().Add(time.Duration(expires) * time.Second)
	s.mu.Unlock()
	respond(tx, req, 200, "OK", sip.NewHeader("Expires", strconv.Itoa(expires)), &sip.ContactHeader{Address: s.cfg.SIP.ContactURI(req.Transport())})
	if expires == 0 {
		if s.remove(sub) {
			s.goNotify(sub, "timeout")
		}
		return
	}
	s.goNotify(sub, "")
}

func tagOf(p sip.HeaderParams) string {
	v, _ := p.Get("tag")
	return v
}

// remove forgets a subscription; it reports whether it was live.
func (s *Service) remove(sub *subscription) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, live := s.subs[sub.key]
	delete(s.subs, sub.key)
	return live
}

func (s *Service) goNotify(sub *subscription, reason string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.notify(sub, reason)
	}()
}

// notify sends a NOTIFY in a subscription with the counts of the moment it
// is sent, so that concurrent changes cannot leave an old count last; a
// reason makes it the final one.
func (s *Service) notify(sub *subscription, reason string) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, o, err := s.cfg.Counts.Counts(ctx, sub.tenantID, sub.userID)
	if err != nil {
		s.log.Error("mwi: counts", "user", sub.userID, "error", err)
		return
	}
	sub.cseq++
	req := sip.NewRequest(sip.NOTIFY, sub.target)
	req.AppendHeader(sip.HeaderClone(sub.from))
	req.AppendHeader(sip.HeaderClone(sub.to))
	req.AppendHeader(sip.NewHeader("Call-ID", sub.callID))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	state := "terminated;reason=" + reason
	if reason == "" {
		s.mu.Lock()
		left := int(time.Until(sub.expires).Seconds())
		s.mu.Unlock()
		state = "active;expires=" + strconv.Itoa(max(left, 0))
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	res, err := s.send(ctx, req, sub.network, sub.dest, Summary(sub.account, n, o))
	switch {
	case err != nil:
		s.log.Info("mwi: NOTIFY not answered", "call_id", sub.callID, "error", err)
	case res.StatusCode == 481 || res.StatusCode >= 400 && reason == "":
		s.log.Info("mwi: NOTIFY refused, subscription ended", "call_id", sub.callID, "status", res.StatusCode)
		s.remove(sub)
	}
}

// unsolicited sends the counts to a registered device outside any
// subscription (a new Call-ID each time).
func (s *Service) unsolicited(ctx context.Context, b store.Binding, newMsgs, oldMsgs int) {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		s.log.Warn("mwi: binding contact", "device", b.DeviceID, "contact", b.Contact, "error", err)
		return
	}
	account := sip.Uri{Scheme: "sip", User: target.User, Host: target.Host}
	from := &sip.FromHeader{Address: account, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req := sip.NewRequest(sip.NOTIFY, target)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: target, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Call-ID", sip.GenerateTagN(24)))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Subscription-State", "active"))
	if b.Path != "" {
		// Through the edge proxy the device registered on (RFC 3327).
		req.AppendHeader(sip.NewHeader("Route", b.Path))
	}
	if _, err := s.send(ctx, req, strings.ToLower(b.Transport), b.Source, Summary(account.String(), newMsgs, oldMsgs)); err != nil {
		s.log.Info("mwi: unsolicited NOTIFY not answered", "device", b.DeviceID, "error", err)
	}
}

// send completes and sends a NOTIFY of message-summary to dest.
func (s *Service) send(ctx context.Context, req *sip.Request, network, dest string, body []byte) (*sip.Response, error) {
	req.AppendHeader(&sip.ContactHeader{Address: s.cfg.SIP.ContactURI(network)})
	req.AppendHeader(sip.NewHeader("Event", Event))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/simple-message-summary"))
	req.SetBody(body)
	req.SetTransport(strings.ToUpper(network))
	req.SetDestination(dest)
	if network == "udp" {
		req.Laddr = s.cfg.SIP.UDPLocal()
	}
	return sipserver.Do(ctx, s.cfg.SIP.Client, req)
}
