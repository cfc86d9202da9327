package registrar

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"pbx/sip/sipauth"
	"pbx/store"
)

func pushRegister(cseq int, contact string) string {
	return strings.Replace(authorized(cseq, "600"), "Contact: <sip:alice@192.0.2.10:5060>", "Contact: "+contact, 1)
}

func TestRegisterPushParameters(t *testing.T) {
	st := newMemStore()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := New(st, sipauth.NewAuthenticator(fixedKey), nil, Config{PushProviders: []string{"apns", "fcm"}}, log, Metrics{})
	defer r.Close()

	if tx := handle(t, r, pushRegister(1, "<sip:alice@192.0.2.10:5060;pn-provider=webpush>")); len(tx.responses) != 1 || tx.responses[0].StatusCode != 555 {
		t.Fatalf("a query of an unsupported push service: %+v", tx.responses)
	}
	// A registration naming a service we cannot use is kept without push.
	tx := handle(t, r, pushRegister(2, "<sip:alice@192.0.2.10:5060;pn-provider=webpush;pn-prid=x>"))
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 || tx.responses[0].GetHeader("Feature-Caps") != nil {
		t.Fatalf("an unsupported push service: %+v", tx.responses)
	}
	if bs, _ := st.DeviceBindings(t.Context(), "dev1", time.Now()); len(bs) != 1 || bs[0].Push.Wakeable() {
		t.Fatalf("bindings: %+v", bs)
	}
	handle(t, r, strings.Replace(authorized(3, "0"), "Contact: <sip:alice@192.0.2.10:5060>", "Contact: *", 1))
	first := `<sip:alice@192.0.2.10:40001;transport=tcp;pn-provider=apns;pn-prid=00fc13adff78;pn-param=ABCD1234.be.example.phone.voip>;+sip.instance="<urn:uuid:0001>"`
	tx = handle(t, r, pushRegister(4, first))
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
		t.Fatalf("register with push: %+v", tx.responses)
	}
	if h := tx.responses[0].GetHeader("Feature-Caps"); h == nil || h.Value() != `*;+sip.pns="apns";+sip.pnsreg="121"` {
		t.Errorf("Feature-Caps: %v", h)
	}
	bs, _ := st.DeviceBindings(t.Context(), "dev1", time.Now())
	want := store.PushParams{Provider: "apns", PRID: "00fc13adff78", Param: "ABCD1234.be.example.phone.voip"}
	if len(bs) != 1 || bs[0].Push != want || bs[0].Instance != "urn:uuid:0001" {
		t.Fatalf("bindings: %+v", bs)
	}

	// A call waits for the device; it comes back from another port (a
	// new connection): its old binding is replaced and the wait served.
	ch, stop := r.Expect(bs[0])
	defer stop()
	other, stopOther := r.Expect(store.Binding{DeviceID: "dev1", Instance: "urn:uuid:9999"})
	defer stopOther()
	again := strings.Replace(first, "40001", "40002", 1)
	if tx := handle(t, r, pushRegister(5, again)); tx.responses[0].StatusCode != 200 {
		t.Fatalf("re-register: %+v", tx.responses)
	}
	select {
	case b := <-ch:
		if !strings.Contains(b.Contact, ":40002") || b.Push != want {
			t.Errorf("woken binding %+v", b)
		}
	default:
		t.Fatal("the wait was not served by the new registration")
	}
	select {
	case b := <-other:
		t.Errorf("another instance's wait was served with %+v", b)
	default:
	}
	bs, _ = st.DeviceBindings(t.Context(), "dev1", time.Now())
	if len(bs) != 1 || !strings.Contains(bs[0].Contact, ":40002") {
		t.Errorf("after re-registering from a new port: %+v", bs)
	}

	// Without an instance, the push parameters tell the device.
	noInst := `<sip:alice@192.0.2.10:40003;transport=tcp;pn-provider=fcm;pn-prid=tok-1;pn-param=proj>`
	handle(t, r, pushRegister(6, noInst))
	bs, _ = st.DeviceBindings(t.Context(), "dev1", time.Now())
	var fcm store.Binding
	for _, b := range bs {
		if b.Push.Provider == "fcm" {
			fcm = b
		}
	}
	ch2, stop2 := r.Expect(fcm)
	defer stop2()
	handle(t, r, pushRegister(7, strings.Replace(noInst, "40003", "40004", 1)))
	select {
	case b := <-ch2:
		if !strings.Contains(b.Contact, ":40004") {
			t.Errorf("woken binding %+v", b)
		}
	default:
		t.Fatal("no wait served for a device with the same push parameters")
	}
	if bs, _ = st.DeviceBindings(t.Context(), "dev1", time.Now()); len(bs) != 2 {
		t.Errorf("bindings: %+v", bs)
	}
}

// gatedStore holds binding writes until the test opens its gate.
type gatedStore struct {
	*memStore
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedStore) ApplyBindings(ctx context.Context, cs []store.BindingChange) error {
	g.entered <- struct{}{}
	<-g.gate
	return g.memStore.ApplyBindings(ctx, cs)
}

// A wait that begins while the REGISTER of the sleeping binding is still
// being written is not served by that REGISTER's late 200 OK: only a
// REGISTER that arrives after the wait began says the device woke.
func TestExpectIgnoresEarlierRegister(t *testing.T) {
	st := &gatedStore{memStore: newMemStore(), entered: make(chan struct{}), gate: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := New(st, sipauth.NewAuthenticator(fixedKey), nil, Config{PushProviders: []string{"apns"}}, log, Metrics{})
	defer r.Close()
	contact := `<sip:alice@192.0.2.10:40001;transport=tcp;pn-provider=apns;pn-prid=00fc13adff78;pn-param=T.app.voip>`
	done := make(chan struct{})
	go func() {
		defer close(done)
		handle(t, r, pushRegister(1, contact))
	}()
	<-st.entered
	ch, stop := r.Expect(store.Binding{DeviceID: "dev1", Push: store.PushParams{Provider: "apns", PRID: "00fc13adff78", Param: "T.app.voip"}})
	defer stop()
	close(st.gate)
	<-done
	select {
	case b := <-ch:
		t.Fatalf("served by the REGISTER that was already under way: %+v", b)
	default:
	}
	go func() { <-st.entered }()
	handle(t, r, pushRegister(2, contact))
	select {
	case <-ch:
	default:
		t.Fatal("the next REGISTER did not serve the wait")
	}
}
