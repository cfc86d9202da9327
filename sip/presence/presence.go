// Package presence owns the SIP event subscriptions of the softswitch: the
// dialog event package (RFC 4235, RFC 6665) that the busy-lamp-field keys of
// desk phones subscribe to. A device subscribes to a colleague's extension
// of its own tenant and is notified of that user's state (idle, ringing or
// dialling, in a call) whenever it changes, until the subscription expires
// or is withdrawn.
package presence

import (
	"context"
	"encoding/xml"
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

// Users finds a tenant's licence by extension.
type Users interface {
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
}

// Config of a Service. SIP, Auth, Users and State are required.
type Config struct {
	SIP   *sipserver.Server
	Auth  Authenticator
	Users Users
	// State returns a user's current dialog state ("terminated", "early"
	// or "confirmed").
	State func(userID string) string
	// MinExpires and MaxExpires bound a subscription's life (defaults 60 s
	// and 3600 s).
	MinExpires, MaxExpires int
	Logger                 *slog.Logger
}

// Service holds the subscriptions.
type Service struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	subs   map[string]*subscription              // by Call-ID "|" our tag
	byUser map[string]map[*subscription]struct{} // watched user -> subscriptions
	closed bool
	wg     sync.WaitGroup
}

type subscription struct {
	key      string
	userID   string
	entity   string // sip:ext@domain of the watched user
	callID   string
	ourTag   string
	from     *sip.FromHeader // ours, with our tag (the subscriber's To)
	to       *sip.ToHeader   // the subscriber, with its tag
	target   sip.Uri         // the subscriber's Contact
	dest     string          // host:port it subscribed from (NAT)
	network  string
	expires  time.Time
	mu       sync.Mutex // serialises the NOTIFYs of the subscription
	cseq     uint32
	version  int
	lastSent string
}

// New returns a Service; call Mount to receive SUBSCRIBE requests.
func New(cfg Config) (*Service, error) {
	if cfg.SIP == nil || cfg.Auth == nil || cfg.Users == nil || cfg.State == nil {
		return nil, errors.New("presence: Config needs SIP, Auth, Users and State")
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
	return &Service{cfg: cfg, log: cfg.Logger, subs: map[string]*subscription{}, byUser: map[string]map[*subscription]struct{}{}}, nil
}

// Mount registers the SUBSCRIBE handler.
func (s *Service) Mount(srv *sipserver.Server) { srv.Handle(sip.SUBSCRIBE, s.handleSubscribe) }

// HandleSubscribe serves a SUBSCRIBE, for a server that dispatches the
// SUBSCRIBEs of several event packages itself instead of Mount.
func (s *Service) HandleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	s.handleSubscribe(req, tx)
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
		s.terminate(sub, "noresource")
	}
	s.wg.Wait()
}

// Count returns the number of live subscriptions.
func (s *Service) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// UserChanged notifies the watchers of a user that its state changed. It
// returns at once; the NOTIFYs leave in the background, each with the state
// of the moment it is sent.
func (s *Service) UserChanged(userID, _ string) {
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.byUser[userID]))
	for sub := range s.byUser[userID] {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		s.notifyAsync(sub, "")
	}
}

// Sweep ends the subscriptions whose time is up (a final NOTIFY with
// reason=timeout) and returns how many it ended.
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
		s.terminate(sub, "timeout")
	}
	return len(due)
}

// respond is sipserver.Respond.
var respond = sipserver.Respond

func (s *Service) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
		respond(tx, req, 400, "Bad Request - missing mandatory header")
		return
	}
	if ev := req.GetHeader("Event"); ev == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ev.Value(), ";")[0]), "dialog") {
		respond(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", "dialog"))
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
	if !da.User.Active(time.Now()) {
		respond(tx, req, 403, "Forbidden - licence suspended")
		return
	}
	ext := req.Recipient.User
	u, err := s.cfg.Users.UserByExtension(ctx, da.Tenant.ID, ext)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Licence != store.LicenceFull) {
		respond(tx, req, 404, "Not Found")
		return
	}
	if err != nil {
		s.log.Error("presence: user lookup", "error", err)
		respond(tx, req, 500, "Server Internal Error")
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
	res.AppendHeader(s.contact(req.Transport()))
	if err := tx.Respond(res); err != nil {
		return
	}
	entity := sip.Uri{Scheme: "sip", User: u.Extension, Host: da.Tenant.Domain}
	ourFrom := &sip.FromHeader{Address: entity, Params: sip.NewParams()}
	ourFrom.Params.Add("tag", ourTag)
	theirTo := &sip.ToHeader{DisplayName: from.DisplayName, Address: from.Address, Params: sip.NewParams()}
	theirTo.Params.Add("tag", remoteTag)
	sub := &subscription{
		key: subKey(req.CallID().Value(), ourTag), userID: u.ID, entity: entity.String(),
		callID: req.CallID().Value(), ourTag: ourTag, from: ourFrom, to: theirTo,
		target: contact.Address, dest: req.Source(), network: strings.ToLower(req.Transport()),
		expires: time.Now().Add(time.Duration(expires) * time.Second),
	}
	if expires == 0 {
		// A fetch: one NOTIFY of the current state, then nothing.
		s.notifyAsync(sub, "timeout")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.subs[sub.key] = sub
	if s.byUser[u.ID] == nil {
		s.byUser[u.ID] = map[*subscription]struct{}{}
	}
	s.byUser[u.ID][sub] = struct{}{}
	s.mu.Unlock()
	s.log.Info("dialog subscription", "watcher", da.Device.ID, "user", u.ID, "expires", expires)
	s.notifyAsync(sub, "")
}

// refresh handles a SUBSCRIBE within an existing subscription: new expiry,
// or its end when expires is 0.
func (s *Service) refresh(req *sip.Request, tx sip.ServerTransaction, ourTag string, expires int) {
	s.mu.Lock()
	sub := s.subs[subKey(req.CallID().Value(), ourTag)]
	s.mu.Unlock()
	if sub == nil {
		respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	if remoteTag, _ := req.From().Params.Get("tag"); remoteTag != mustTag(sub.to.Params) {
		respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	s.mu.Lock()
	sub.expires = time.Now().Add(time.Duration(expires) * time.Second)
	s.mu.Unlock()
	respond(tx, req, 200, "OK", sip.NewHeader("Expires", strconv.Itoa(expires)), s.contact(req.Transport()))
	if expires == 0 {
		s.terminate(sub, "timeout")
		return
	}
	s.notifyGo(sub, "", true)
}

func mustTag(p sip.HeaderParams) string {
	v, _ := p.Get("tag")
	return v
}

func subKey(callID, tag string) string { return callID + "|" + tag }

// terminate removes a subscription and sends its final NOTIFY.
func (s *Service) terminate(sub *subscription, reason string) {
	if s.remove(sub) {
		s.notifyAsync(sub, reason)
	}
}

// remove forgets a subscription; it reports whether it was live.
func (s *Service) remove(sub *subscription) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, live := s.subs[sub.key]
	delete(s.subs, sub.key)
	if m := s.byUser[sub.userID]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(s.byUser, sub.userID)
		}
	}
	return live
}

func (s *Service) contact(transport string) *sip.ContactHeader {
	return &sip.ContactHeader{Address: s.cfg.SIP.ContactURI(transport)}
}

// notifyAsync sends a NOTIFY of the watched user's state; a non-empty
// reason makes it the final one (Subscription-State: terminated).
func (s *Service) notifyAsync(sub *subscription, reason string) { s.notifyGo(sub, reason, false) }

// notifyGo is notifyAsync; always sends even when the state is the one last
// sent (the NOTIFY that answers every SUBSCRIBE, RFC 6665 §4.2.1).
func (s *Service) notifyGo(sub *subscription, reason string, always bool) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.notify(sub, reason, always)
	}()
}

// notify reads the state when it sends, under the subscription's lock: the
// NOTIFYs of concurrent changes may run in any order, each one still sends
// the latest state, and one with nothing new is skipped.
func (s *Service) notify(sub *subscription, reason string, always bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	state := s.cfg.State(sub.userID)
	if reason == "" && !always && state == sub.lastSent {
		return // nothing new since the last NOTIFY
	}
	sub.cseq++
	sub.lastSent = state
	body := dialogInfo(sub.entity, sub.version, state)
	sub.version++
	req := sip.NewRequest(sip.NOTIFY, sub.target)
	req.AppendHeader(sip.HeaderClone(sub.from))
	req.AppendHeader(sip.HeaderClone(sub.to))
	req.AppendHeader(sip.NewHeader("Call-ID", sub.callID))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(s.contact(sub.network))
	req.AppendHeader(sip.NewHeader("Event", "dialog"))
	subState := "terminated;reason=" + reason
	if reason == "" {
		s.mu.Lock()
		left := int(time.Until(sub.expires).Seconds())
		s.mu.Unlock()
		subState = "active;expires=" + strconv.Itoa(max(left, 0))
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", subState))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dialog-info+xml"))
	req.SetBody(body)
	req.SetTransport(strings.ToUpper(sub.network))
	req.SetDestination(sub.dest)
	if sub.network == "udp" {
		req.Laddr = s.cfg.SIP.UDPLocal()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := sipserver.Do(ctx, s.cfg.SIP.Client, req)
	switch {
	case err != nil:
		s.log.Info("presence: NOTIFY not answered", "call_id", sub.callID, "error", err)
	case res.StatusCode == 481 || res.StatusCode >= 400 && reason == "":
		// The subscriber forgot the subscription (or refuses its NOTIFYs).
		s.log.Info("presence: NOTIFY refused, subscription ended", "call_id", sub.callID, "status", res.StatusCode)
		s.remove(sub)
	}
}

// dialogInfo is the application/dialog-info+xml body (RFC 4235) of a user
// in state: no dialog element when idle, one dialog in the early or
// confirmed state otherwise.
func dialogInfo(entity string, version int, state string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="%d" state="full" entity="%s">`, version, xmlEscape(entity))
	if state == "early" || state == "confirmed" {
		fmt.Fprintf(&b, "\n"+`  <dialog id="%s"><state>%s</state></dialog>`, xmlEscape(entity), state)
	}
	b.WriteString("\n</dialog-info>\n")
	return []byte(b.String())
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
