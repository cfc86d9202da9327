package message

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

type okAuth struct{ calls int }

func (a *okAuth) Authenticate(context.Context, *sip.Request, sip.ServerTransaction, bool) (store.DeviceAuth, bool) {
	a.calls++
	return store.DeviceAuth{User: store.User{Extension: "201", FirstName: "Ann", LastName: "Peeters"}, Tenant: store.Tenant{ID: "t1", Domain: "acme.test"}}, true
}

type recRouter struct {
	got  []Message
	code int
}

func (r *recRouter) Route(_ context.Context, _ store.DeviceAuth, m Message) int {
	r.got = append(r.got, m)
	return r.code
}

type recTx struct {
	sip.ServerTransaction
	res []*sip.Response
}

func (t *recTx) Respond(r *sip.Response) error { t.res = append(t.res, r); return nil }

func request(t *testing.T, body string) *sip.Request {
	raw := "MESSAGE sip:202@acme.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-m1\r\n" +
		"From: <sip:dev201@acme.test>;tag=a\r\n" +
		"To: <sip:202@acme.test>\r\n" +
		"Call-ID: m1@192.0.2.10\r\n" +
		"CSeq: 1 MESSAGE\r\n" +
		"Content-Type: text/plain;charset=UTF-8\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

func TestHandleMessage(t *testing.T) {
	auth, router := &okAuth{}, &recRouter{code: 202}
	s := &Service{Auth: auth, Router: router}
	tx := &recTx{}
	s.Handle(request(t, "Koffie?"), tx)
	if len(tx.res) != 1 || tx.res[0].StatusCode != 202 || tx.res[0].Reason != "Accepted" {
		t.Fatalf("responses %+v", tx.res)
	}
	m := router.got[0]
	if m.FromUser != "201" || m.FromName != "Ann Peeters" || m.Domain != "acme.test" || m.To != "202" || string(m.Body) != "Koffie?" || m.ContentType != "text/plain;charset=UTF-8" {
		t.Errorf("routed %+v", m)
	}
	tx = &recTx{}
	s.Handle(request(t, strings.Repeat("x", MaxBody+1)), tx)
	if len(tx.res) != 1 || tx.res[0].StatusCode != 413 || len(router.got) != 1 || auth.calls != 1 {
		t.Errorf("a body over %d bytes: %+v", MaxBody, tx.res)
	}
}
