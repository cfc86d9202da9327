package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbx/push/pushtest"
)

// End-to-end tests of softphones woken by push (RFC 8599): the pbx talks to
// stand-ins of APNs and FCM (package pushtest), which check each request as
// the real services do.

const pushPatience = 20 * time.Second

// apnsApp starts a pbx whose APNs credentials are the stand-in's: the key
// id, team and bundle by flags, the .p8 key as a file in the data
// directory.
func apnsApp(t *testing.T, apns *pushtest.APNs, wait time.Duration) *app {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "push"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "push", "apns.p8"), apns.P8(), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := apns.CAFile(t.TempDir())
	return testApp(t, dir, noVoicemail, func(c *config) {
		c.Push.APNsKeyID, c.Push.APNsTeamID, c.Push.APNsBundle = apns.KeyID, apns.TeamID, apns.BundleID
		c.Push.APNsURL, c.Push.CA, c.Push.Wait = apns.URL(), ca, wait
	})
}

// pushParams are a mobile's RFC 8599 Contact parameters.
type pushParams struct{ provider, prid, param string }

// mobile registers acc over TCP with push parameters, as a softphone app
// does; asleep, it closes its connection.
func mobile(t *testing.T, a *app, acc account, pp pushParams) *softphone {
	t.Helper()
	ph := newPhone(t, a, acc, "tcp")
	ph.contact.UriParams.Add("pn-provider", pp.provider)
	ph.contact.UriParams.Add("pn-prid", pp.prid)
	ph.contact.UriParams.Add("pn-param", pp.param)
	sp := softphoneOn(t, ph)
	return sp
}

// sleepMobile registers a mobile and puts it to sleep: its app is
// suspended and its connection closed.
func sleepMobile(t *testing.T, a *app, acc account, pp pushParams) {
	t.Helper()
	m := mobile(t, a, acc, pp)
	bs, err := a.store.UserBindings(context.Background(), acc.user.ID, time.Now())
	if err != nil || len(bs) != 1 || bs[0].Push.PRID != pp.prid || bs[0].Push.Provider != pp.provider {
		t.Fatalf("the mobile's binding: %+v %v", bs, err)
	}
	m.close()
}

// wokenCall dials ext from caller, waits for the push on pushes, wakes
// the mobile (it registers again on a new connection) and answers the
// call on it; it reports the time from the INVITE to the woken mobile's
// ringing.
func wokenCall(t *testing.T, a *app, caller *softphone, acc account, pp pushParams, pushes <-chan pushtest.Push, check func(pushtest.Push)) {
	t.Helper()
	start := time.Now()
	call := startDial(t, caller, acc.user.Extension, dialOpt{})
	var p pushtest.Push
	select {
	case p = <-pushes:
	case <-time.After(pushPatience):
		t.Fatal("no push for the call")
	}
	if p.Token != pp.prid {
		t.Errorf("push to %q, want %q", p.Token, pp.prid)
	}
	check(p)
	pushed := time.Since(start)
	woken := mobile(t, a, acc, pp)
	in := woken.nextIncoming(t)
	rang := time.Since(start)
	t.Logf("%s: INVITE to push %v, to the woken mobile's ringing %v", pp.provider, pushed.Round(time.Millisecond), rang.Round(time.Millisecond))
	if v := metricValue(t, a, `pbx_push_woken_total{provider="`+pp.provider+`"}`); v != 1 {
		t.Errorf("woken devices counted %v", v)
	}
	if from := in.invite.From(); from == nil || from.Address.User != caller.acc.user.Extension {
		t.Errorf("the woken mobile's INVITE is from %v", from)
	}
	in.answer(t, "0 8 101")
	out := call.wait(t)
	endCall(t, a, out, in)
	bs, err := a.store.UserBindings(context.Background(), acc.user.ID, time.Now())
	if err != nil || len(bs) != 1 {
		t.Errorf("after waking, the mobile has one binding, not %+v (%v)", bs, err)
	}
}

func TestPushAPNsWakesSoftphone(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, 10*time.Second)
	accs := seedTenant(t, a, "PushA", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "7d1c2f3e4a5b6c7d8e9f", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)

	// The registrations API shows the push service, the token masked.
	var regs []map[string]any
	apiGet(t, a, "/api/v1/tenants/"+accs[1].tenant.ID+"/users/"+accs[1].user.ID+"/registrations", &regs)
	if len(regs) != 1 || regs[0]["push_provider"] != "apns" || strings.Contains(regsText(regs), pp.prid) {
		t.Errorf("registrations: %v", regs)
	}

	wokenCall(t, a, caller, accs[1], pp, apns.Pushes(), func(p pushtest.Push) {
		if p.Body["from"] != "201" || p.Body["call-id"] == "" || p.Header.Get("apns-topic") != "be.example.phone.voip" {
			t.Errorf("push %v %v", p.Header, p.Body)
		}
	})
}

func TestPushFCMWakesSoftphone(t *testing.T) {
	fcm := pushtest.NewFCM(t, "pbx-push-test")
	dir := t.TempDir()
	sa := filepath.Join(t.TempDir(), "service-account.json")
	if err := os.WriteFile(sa, fcm.ServiceAccount(), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := fcm.CAFile(t.TempDir())
	a := testApp(t, dir, noVoicemail, func(c *config) {
		c.Push.FCMServiceAccount, c.Push.FCMURL, c.Push.CA = sa, fcm.URL(), ca
	})
	accs := seedTenant(t, a, "PushF", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"fcm", "fcm-registration-token-1", "pbx-push-test"}
	sleepMobile(t, a, accs[1], pp)
	wokenCall(t, a, caller, accs[1], pp, fcm.Pushes(), func(p pushtest.Push) {
		data, _ := p.Body["data"].(map[string]any)
		if data["from"] != "201" || data["call-id"] == "" || p.Body["priority"] != "high" {
			t.Errorf("push %v", p.Body)
		}
	})
	if fcm.Minted() != 1 {
		t.Errorf("%d OAuth2 access tokens minted, want 1", fcm.Minted())
	}
}

// A token the service refuses with 410 loses its binding; the user's desk
// phone rings meanwhile.
func TestPushUnregisteredTokenRemoved(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, 10*time.Second)
	accs := seedTenant(t, a, "PushG", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "00aa11bb22cc", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)
	desk := newSoftphone(t, a, addDevice(t, a, accs[1].tenant, accs[1].user), "udp")
	apns.Refuse(pp.prid, 410, "Unregistered")

	call := startDial(t, caller, "202", dialOpt{})
	in := desk.nextIncoming(t)
	deadline := time.Now().Add(pushPatience)
	for {
		bs, err := a.store.UserBindings(context.Background(), accs[1].user.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 1 && !bs[0].Push.Wakeable() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused token's binding is still there: %+v", bs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := apns.Tried(pp.prid); n != 1 {
		t.Errorf("%d pushes to the refused token", n)
	}
	if v := metricValue(t, a, `pbx_push_notifications_total{outcome="gone",provider="apns"}`); v != 1 {
		t.Errorf("gone pushes counted %v", v)
	}
	in.answer(t, "0 8 101")
	endCall(t, a, call.wait(t), in)
}

// A push service that never answers does not hold up the desk phone: it
// rings while the push is still pending, long before the wait for the
// mobile is over.
func TestPushSlowServiceDoesNotDelayDeskPhone(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, time.Minute)
	accs := seedTenant(t, a, "PushS", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "deadbeef0011", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)
	desk := newSoftphone(t, a, addDevice(t, a, accs[1].tenant, accs[1].user), "udp")
	apns.Hang(pp.prid)

	start := time.Now()
	call := startDial(t, caller, "202", dialOpt{})
	in := desk.nextIncoming(t) // 20 s at most, a third of the push wait
	t.Logf("desk phone rang %v after the INVITE", time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(pushPatience)
	for apns.Tried(pp.prid) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no push was attempted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.answer(t, "0 8 101")
	endCall(t, a, call.wait(t), in)
	// The push binding stays: a slow service says nothing of the token.
	bs, _ := a.store.UserBindings(context.Background(), accs[1].user.ID, time.Now())
	if len(bs) != 2 {
		t.Errorf("bindings after a hanging push: %+v", bs)
	}
}

// apiGet reads path with the admin token into out.
func apiGet(t *testing.T, a *app, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.httpLn.Addr().String()+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func regsText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A message to a user whose only device sleeps is kept, and handed to the
// device when it wakes and registers again with the Contact it had.
func TestPushMessageKeptUntilWoken(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, 10*time.Second)
	accs := seedTenant(t, a, "PushM", "201", "202")
	sender := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "feedface0099", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)
	if code := sendMessage(t, sender.phone, "202", "Bel me terug"); code != 202 {
		t.Fatalf("MESSAGE to a sleeping mobile: %d, want 202 Accepted", code)
	}
	ph := newPhone(t, a, accs[1], "tcp")
	ph.contact.UriParams.Add("pn-provider", pp.provider)
	ph.contact.UriParams.Add("pn-prid", pp.prid)
	ph.contact.UriParams.Add("pn-param", pp.param)
	in := inbox(ph)
	softphoneOn(t, ph)
	if m := nextMessage(t, in); string(m.Body()) != "Bel me terug" {
		t.Errorf("woken mobile got %q", m.Body())
	}
}

// A user whose only device's token is refused is unavailable at once, not
// at the end of the wait for the device.
func TestPushRefusedOnlyDeviceFailsFast(t *testing.T) {
	apns := pushtest.NewAPNs(t, "be.example.phone")
	a := apnsApp(t, apns, 2*time.Minute)
	accs := seedTenant(t, a, "PushR", "201", "202")
	caller := newSoftphone(t, a, accs[0], "udp")
	pp := pushParams{"apns", "0badbadbad00", apns.TeamID + ".be.example.phone.voip"}
	sleepMobile(t, a, accs[1], pp)
	apns.Refuse(pp.prid, 400, "BadDeviceToken")
	call := startDial(t, caller, "202", dialOpt{})
	select {
	case r := <-call.ch:
		if statusOf(r.err) != 480 {
			t.Errorf("call to a user whose only push token is refused: %v, want 480", r.err)
		}
	case <-time.After(pushPatience): // far less than the two-minute wait
		t.Fatal("the call waited for a device whose push failed")
	}
	if bs, _ := a.store.UserBindings(context.Background(), accs[1].user.ID, time.Now()); len(bs) != 0 {
		t.Errorf("bindings left: %+v", bs)
	}
}
