// Package message owns SIP MESSAGE (RFC 3428), the instant messages of
// devices and the SMS of carriers: it authenticates the MESSAGEs devices
// send and hands them to a router (cmd/pbx wires the messages feature),
// and it sends MESSAGEs to a device's binding or to a carrier. What a
// message means and where it goes is the router's business.
package message

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipserver"
	"pbx/store"
)

// MaxBody bounds a message's body: RFC 3428 keeps a MESSAGE within 1300
// bytes unless a congestion-controlled transport carries it all the way.
const MaxBody = 1300

// Message is one instant message.
type Message struct {
	// FromUser, FromName and Domain make the sender's identity
	// (sip:FromUser@Domain).
	FromUser, FromName, Domain string
	// To is whom the sender addressed (the Request-URI's user).
	To          string
	ContentType string
	Body        []byte
}

// Authenticator checks a request's digest credentials; when ok is false it
// has already answered.
type Authenticator interface {
	Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.DeviceAuth, bool)
}

// Router takes the messages devices send and says how it went, as a SIP
// status: 200 delivered, 202 kept for later delivery, 404 no such
// recipient, 5xx a failure.
type Router interface {
	Route(ctx context.Context, from store.DeviceAuth, m Message) int
}

// Service receives and sends MESSAGEs.
type Service struct {
	SIP    *sipserver.Server
	Auth   Authenticator
	Router Router
	Log    *slog.Logger
}

// Handle is the handler of out-of-dialog MESSAGE requests from devices.
func (s *Service) Handle(req *sip.Request, tx sip.ServerTransaction) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if req.From() == nil || req.To() == nil || req.CallID() == nil {
		sipserver.Respond(tx, req, 400, "Bad Request - missing mandatory header")
		return
	}
	if len(req.Body()) > MaxBody {
		sipserver.Respond(tx, req, 413, "Request Entity Too Large")
		return
	}
	da, ok := s.Auth.Authenticate(ctx, req, tx, true)
	if !ok {
		return
	}
	ct := "text/plain"
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	name := ""
	if from := req.From(); from != nil {
		name = from.DisplayName
	}
	m := Message{FromUser: da.User.Extension, FromName: name, Domain: da.Tenant.Domain, To: req.Recipient.User, ContentType: ct, Body: req.Body()}
	if m.FromName == "" {
		m.FromName = strings.TrimSpace(da.User.FirstName + " " + da.User.LastName)
	}
	code := s.Router.Route(ctx, da, m)
	sipserver.Respond(tx, req, code, reasons[code])
}

var reasons = map[int]string{200: "OK", 202: "Accepted", 403: "Forbidden", 404: "Not Found", 480: "Temporarily Unavailable", 500: "Server Internal Error"}

// ToBinding sends m to a registered device, where it registered from.
func (s *Service) ToBinding(ctx context.Context, b store.Binding, m Message) error {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		return fmt.Errorf("message: binding contact: %w", err)
	}
	aor := sip.Uri{Scheme: "sip", User: m.To, Host: m.Domain}
	req := s.newRequest(target, aor, m)
	res, err := s.send(ctx, req, strings.ToLower(b.Transport), b.Source, nil)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("message: device answered %d", res.StatusCode)
	}
	return nil
}

// Credentials answer a carrier's digest challenge.
type Credentials struct{ Username, Password string }

// ToCarrier sends m to number at a carrier's hostport over transport,
// answering its challenge with auth (nil: none).
func (s *Service) ToCarrier(ctx context.Context, hostport, transport, number string, m Message, auth *Credentials) error {
	host, port := hostport, 0
	if h, p, ok := strings.Cut(hostport, ":"); ok {
		host = h
		fmt.Sscan(p, &port)
	}
	target := sip.Uri{Scheme: "sip", User: number, Host: host, Port: port}
	req := s.newRequest(target, target, m)
	res, err := s.send(ctx, req, transport, hostport, auth)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("message: carrier answered %d", res.StatusCode)
	}
	return nil
}

func (s *Service) newRequest(target, to sip.Uri, m Message) *sip.Request {
	req := sip.NewRequest(sip.MESSAGE, target)
	from := &sip.FromHeader{DisplayName: m.FromName, Address: sip.Uri{Scheme: "sip", User: m.FromUser, Host: m.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Call-ID", sip.GenerateTagN(24)))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	ct := m.ContentType
	if ct == "" {
		ct = "text/plain;charset=UTF-8"
	}
	req.AppendHeader(sip.NewHeader("Content-Type", ct))
	req.SetBody(m.Body)
	return req
}

func (s *Service) send(ctx context.Context, req *sip.Request, network, dest string, auth *Credentials) (*sip.Response, error) {
	if network == "" {
		network = "udp"
	}
	req.SetTransport(strings.ToUpper(network))
	req.SetDestination(dest)
	if network == "udp" {
		req.Laddr = s.SIP.UDPLocal()
	}
	res, err := sipserver.Do(ctx, s.SIP.Client, req)
	if err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	if (res.StatusCode == 401 || res.StatusCode == 407) && auth != nil {
		res, err = sipserver.DoDigestAuth(ctx, s.SIP.Client, req, res, sipgo.DigestAuth{Username: auth.Username, Password: auth.Password})
		if err != nil {
			return nil, fmt.Errorf("message: %w", err)
		}
	}
	return res, nil
}
