package trunkreg

import (
	"context"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// fakeStore holds trunks and their passwords in memory.
type fakeStore struct {
	mu     sync.Mutex
	trunks []store.Trunk
	pw     map[string]string
}

func (f *fakeStore) Trunks(context.Context) ([]store.Trunk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Trunk(nil), f.trunks...), nil
}

func (f *fakeStore) TrunkPassword(_ context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pw[id], nil
}

func (f *fakeStore) set(ts ...store.Trunk) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trunks = ts
}

// quiet is a UA whose transport layer logs nothing.
func quiet(t *testing.T) *sipgo.UserAgent {
	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	return ua
}

// TestFollowsTrunksAndLeavesNothing: trunks added after a Notify register,
// a removed trunk un-registers, Close un-registers the rest, and no
// goroutine of the package outlives Close.
func TestFollowsTrunksAndLeavesNothing(t *testing.T) {
	// The carrier: grants every REGISTER, keeping user and Expires.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	cua := quiet(t)
	defer cua.Close()
	srv, _ := sipgo.NewServer(cua)
	got := make(chan string, 64)
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		got <- req.From().Address.User + " " + req.GetHeader("Expires").Value()
	})
	go srv.ServeUDP(conn)

	pua := quiet(t)
	defer pua.Close()
	client, err := sipgo.NewClient(pua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	trunk := func(id string, register bool) store.Trunk {
		return store.Trunk{ID: id, Host: "127.0.0.1", Port: port, Transport: "udp", Username: id, PasswordSet: true, Register: register}
	}
	st := &fakeStore{pw: map[string]string{"a": "pa", "b": "pb", "c": "pc"}}
	st.set(trunk("a", true), trunk("c", false))
	r := New(Config{Store: st, Client: client, Reload: time.Hour, Expires: 60 * time.Second,
		Contact: func(string) sip.Uri { return sip.Uri{Scheme: "sip", User: "pbx", Host: "127.0.0.1", Port: 5060} },
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil))})
	closed := false
	defer func() {
		if !closed {
			r.Close()
		}
	}()
	want := func(s string) {
		t.Helper()
		select {
		case g := <-got:
			if g != s {
				t.Fatalf("carrier got REGISTER %q, want %q", g, s)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("carrier got no REGISTER %q", s)
		}
	}
	want("a 60")
	if _, ok := r.State("c"); ok {
		t.Fatal("a trunk that does not register has a state")
	}
	st.set(trunk("a", true), trunk("b", true))
	r.Notify()
	want("b 60")
	st.set(trunk("b", true))
	r.Notify()
	want("a 0")
	// The carrier has b's REGISTER; its 200 reaches the worker a moment
	// later.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s, ok := r.State("b")
		if ok && s.State == StateRegistered && s.Status == 200 && time.Until(s.ExpiresAt) >= 30*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state of b: %+v %v", s, ok)
		}
	}
	r.Close()
	closed = true
	want("b 0")

	// Close has waited for every worker to be done; a goroutine that
	// closed its done channel may still be returning for a moment.
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := runtime.Stack(buf, true)
		if !strings.Contains(string(buf[:n]), "pbx/sip/trunkreg.(*") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of trunkreg left after Close:\n%s", buf[:n])
		}
	}
}
