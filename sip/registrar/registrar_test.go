package registrar

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"pbx/sip/sipauth"
	"pbx/store"
)

// memStore is an in-memory Store with one device.
type memStore struct {
	mu       sync.Mutex
	auth     store.DeviceAuth
	bindings map[string]store.Binding
}

func newMemStore() *memStore {
	return &memStore{
		auth: store.DeviceAuth{
			Device: store.Device{ID: "dev1", TenantID: "ten1", UserID: "usr1", SIPUsername: "alice",
				HA1MD5: store.HA1("MD5", "alice", "acme.test", "pw"), HA1SHA256: store.HA1("SHA-256", "alice", "acme.test", "pw")},
			User:   store.User{ID: "usr1", Status: "active", Licence: store.LicenceFull, Extension: "201"},
			Tenant: store.Tenant{ID: "ten1", Domain: "acme.test"},
		},
		bindings: map[string]store.Binding{},
	}
}

func (m *memStore) DeviceAuthByUsername(_ context.Context, u string) (store.DeviceAuth, error) {
	if u != m.auth.Device.SIPUsername {
		return store.DeviceAuth{}, store.ErrNotFound
	}
	return m.auth, nil
}

func (m *memStore) DeviceRegistration(ctx context.Context, u string, now time.Time) (store.DeviceAuth, []store.Binding, error) {
	a, err := m.DeviceAuthByUsername(ctx, u)
	if err != nil {
		return a, nil, err
	}
	bs, _ := m.DeviceBindings(ctx, a.Device.ID, now)
	return a, bs, nil
}

func (m *memStore) ApplyBindings(_ context.Context, cs []store.BindingChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		switch {
		case c.Remove && c.Contact == "*":
			m.bindings = map[string]store.Binding{}
		case c.Remove:
			delete(m.bindings, c.Contact)
		default:
			m.bindings[c.Contact] = c.Binding
		}
	}
	return nil
}

func (m *memStore) DeviceBindings(_ context.Context, id string, now time.Time) ([]store.Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Binding
	for _, b := range m.bindings {
		if b.ExpiresAt.After(now) {
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *memStore) UserBindings(ctx context.Context, id string, now time.Time) ([]store.Binding, error) {
	return m.DeviceBindings(ctx, id, now)
}

func (m *memStore) ExpireBindings(context.Context, time.Time) ([]store.Binding, error) {
	return nil, nil
}

// recTx records the responses of a server transaction.
type recTx struct {
	responses []*sip.Response
	done      chan struct{}
}

func (t *recTx) Terminate()                         {}
func (t *recTx) OnTerminate(sip.FnTxTerminate) bool { return true }
func (t *recTx) Done() <-chan struct{}              { return t.done }
func (t *recTx) Err() error                         { return nil }
func (t *recTx) Acks() <-chan *sip.Request          { return nil }
func (t *recTx) OnCancel(sip.FnTxCancel) bool       { return true }
func (t *recTx) Respond(r *sip.Response) error      { t.responses = append(t.responses, r); return nil }

var fixedKey = []byte("0123456789abcdef0123456789abcdef")

// newTestRegistrar has no guard: banned sources get no answer by design,
// which the fuzz test would take for a missing response.
func newTestRegistrar(st Store) *Registrar {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(st, sipauth.NewAuthenticator(fixedKey), nil, Config{}, log, Metrics{})
}

const registerTmpl = "REGISTER sip:acme.test SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport\r\n" +
	"From: <sip:alice@acme.test>;tag=a1\r\n" +
	"To: <sip:alice@acme.test>\r\n" +
	"Call-ID: c1@192.0.2.10\r\n" +
	"CSeq: %d REGISTER\r\n" +
	"Contact: <sip:alice@192.0.2.10:5060>\r\n" +
	"%s" +
	"Expires: %s\r\n" +
	"Max-Forwards: 70\r\n" +
	"Content-Length: 0\r\n\r\n"

// authorized returns a REGISTER with valid credentials for a nonce of fixedKey.
func authorized(cseq int, expires string) string {
	a := sipauth.NewAuthenticator(fixedKey)
	chal, _ := digest.ParseChallenge(a.Challenges("acme.test", false)[1])
	cred, _ := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:acme.test", Username: "alice", Password: "pw"})
	return fmt.Sprintf(registerTmpl, cseq, "Authorization: "+cred.String()+"\r\n", expires)
}

func handle(t testing.TB, r *Registrar, raw string) *recTx {
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		return nil
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return nil
	}
	req.SetSource("192.0.2.10:5060")
	req.SetTransport("UDP")
	tx := &recTx{done: make(chan struct{})}
	r.HandleRegister(req, tx)
	return tx
}

func TestRegisterFlow(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	for _, tc := range []struct {
		name string
		raw  string
		code int
	}{
		{"no credentials", fmt.Sprintf(registerTmpl, 1, "", "600"), 401},
		{"registers", authorized(2, "600"), 200},
		{"too brief", authorized(3, "5"), 423},
		{"bad expires", authorized(4, "soon"), 400},
		{"out of order", authorized(1, "600"), 500},
		{"unregisters", authorized(5, "0"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := handle(t, r, tc.raw)
			if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != tc.code {
				t.Fatalf("want one %d, got %+v", tc.code, tx)
			}
		})
	}
	if len(st.bindings) != 0 {
		t.Fatalf("bindings left: %v", st.bindings)
	}
}

// FuzzRegister feeds arbitrary bytes through the parser and the REGISTER
// handler: it must never panic and must answer every request it handles
// exactly once with a final response.
func FuzzRegister(f *testing.F) {
	f.Add(fmt.Sprintf(registerTmpl, 1, "", "600"))
	f.Add(authorized(2, "600"))
	f.Add(authorized(3, "0"))
	f.Add(strings.Replace(authorized(4, "0"), "Contact: <sip:alice@192.0.2.10:5060>", "Contact: *", 1))
	f.Add(strings.Replace(authorized(5, "60"), "Contact: <sip:alice@192.0.2.10:5060>", "Contact: <sip:a@h>;expires=x, <sip:b@h>", 1))
	f.Add(strings.Replace(authorized(6, "60"), "To: <sip:alice@acme.test>", "To: <sip:bob@acme.test>", 1))
	f.Add("REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK\r\nCSeq: 1 REGISTER\r\n\r\n")
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	f.Fuzz(func(t *testing.T, raw string) {
		tx := handle(t, r, raw)
		if tx == nil {
			return
		}
		if len(tx.responses) != 1 {
			t.Fatalf("%d responses to %q", len(tx.responses), raw)
		}
		if c := tx.responses[0].StatusCode; c < 200 || c > 699 {
			t.Fatalf("status %d", c)
		}
	})
}
