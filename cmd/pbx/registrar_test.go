package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pbx/store"
)

func TestRegisterOverEveryTransport(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	for i, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			acc := accs[i]
			p := newPhone(t, a, acc, tr)
			res := p.register(600, acc.password)
			if res.StatusCode != 200 {
				t.Fatalf("register: %s", res.StartLine())
			}
			if c := res.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "expires=") {
				t.Fatalf("200 OK lacks the binding: %v", res)
			}
			bs, err := a.store.DeviceBindings(context.Background(), acc.device.ID, time.Now())
			if err != nil || len(bs) != 1 {
				t.Fatalf("bindings: %v %v", bs, err)
			}
			if bs[0].Transport != tr || !strings.HasPrefix(bs[0].Source, "127.0.0.1:") || bs[0].UserAgent != "testphone/1.0" {
				t.Fatalf("binding recorded %+v", bs[0])
			}
			if left := time.Until(bs[0].ExpiresAt); left < 590*time.Second || left > 601*time.Second {
				t.Fatalf("expiry %v", left)
			}
			// Refresh keeps one binding and pushes its expiry. A refresh is
			// answered before its write, which follows within a moment.
			if res := p.register(1200, acc.password); res.StatusCode != 200 {
				t.Fatalf("refresh: %s", res.StartLine())
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				bs, _ = a.store.DeviceBindings(context.Background(), acc.device.ID, time.Now())
				if len(bs) == 1 && time.Until(bs[0].ExpiresAt) >= 1190*time.Second {
					break
				}
				if len(bs) != 1 || time.Now().After(deadline) {
					t.Fatalf("after refresh: %+v", bs)
				}
			}
			// Un-register.
			if res := p.register(0, acc.password); res.StatusCode != 200 {
				t.Fatalf("unregister: %s", res.StartLine())
			}
			if bs, _ := a.store.DeviceBindings(context.Background(), acc.device.ID, time.Now()); len(bs) != 0 {
				t.Fatalf("binding left after un-register: %+v", bs)
			}
		})
	}
}

func TestRegisterExpiresAndContacts(t *testing.T) {
	a := testApp(t, t.TempDir())
	acc := seedTenant(t, a, "Acme", "201")[0]
	p := newPhone(t, a, acc, "udp")
	res := p.register(10, acc.password)
	if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("short expiry: %v", res)
	}
	res = p.register(100000, acc.password)
	if res.StatusCode != 200 || !strings.Contains(res.GetHeader("Contact").Value(), "expires=3600") {
		t.Fatalf("long expiry not shortened to the maximum: %v", res)
	}
	res = p.register(300, acc.password, "<sip:a@127.0.0.1:5071>", "<sip:b@127.0.0.1:5072>;expires=120")
	if res.StatusCode != 200 {
		t.Fatal(res.StartLine())
	}
	if n := len(res.GetHeaders("Contact")); n != 3 {
		t.Fatalf("want 3 contacts in 200 OK, got %d: %v", n, res)
	}
	if res := p.register(0, acc.password, "*"); res.StatusCode != 200 {
		t.Fatalf("Contact: *: %v", res)
	}
	if bs, _ := a.store.DeviceBindings(context.Background(), acc.device.ID, time.Now()); len(bs) != 0 {
		t.Fatalf("Contact: * left %d bindings", len(bs))
	}
	if res := p.register(300, acc.password, "*"); res.StatusCode != 400 {
		t.Fatalf("Contact: * with non-zero expiry: %v", res.StartLine())
	}
}

func TestRegisterRefusals(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	acc := accs[0]

	t.Run("wrong password gets the same challenge as an unknown account", func(t *testing.T) {
		p := newPhone(t, a, acc, "udp")
		res := p.register(600, "not-the-password")
		ghost := acc
		ghost.device.SIPUsername = "nobody" + randomString(5)
		q := newPhone(t, a, ghost, "udp")
		res2 := q.register(600, "whatever")
		if res.StatusCode != 401 || res2.StatusCode != 401 {
			t.Fatalf("want 401 for both, got %d and %d", res.StatusCode, res2.StatusCode)
		}
		shape := func(v string) string { // the challenge without its nonce
			i := strings.Index(v, "nonce=")
			j := strings.Index(v[i:], ",")
			return v[:i] + v[i+j:]
		}
		h1, h2 := res.GetHeaders("WWW-Authenticate"), res2.GetHeaders("WWW-Authenticate")
		if len(h1) != 1 || len(h2) != 1 {
			t.Fatalf("want the default's one challenge (MD5): %v / %v", h1, h2)
		}
		for i := range h1 {
			if shape(h1[i].Value()) != shape(h2[i].Value()) {
				t.Fatalf("challenges differ: %q vs %q", h1[i].Value(), h2[i].Value())
			}
		}
		if !strings.Contains(h1[0].Value(), "MD5") {
			t.Fatalf("default algorithm: %v", h1)
		}
	})

	t.Run("stale nonce", func(t *testing.T) {
		p := newPhone(t, a, acc, "udp")
		req := p.newRegister(600)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := p.client.Do(ctx, req)
		if err != nil || res.StatusCode != 401 {
			t.Fatalf("challenge: %v %v", res, err)
		}
		a.auth.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		defer a.auth.SetClock(time.Now)
		res, err = p.client.DoDigestAuth(ctx, req, res, digestAuth(acc))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 401 || !strings.Contains(strings.ToLower(res.GetHeader("WWW-Authenticate").Value()), "stale=true") {
			t.Fatalf("want 401 stale=true, got %v", res)
		}
	})

	t.Run("suspended licence", func(t *testing.T) {
		if err := a.store.SuspendUser(context.Background(), acc.tenant.ID, accs[1].user.ID, time.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		p := newPhone(t, a, accs[1], "tcp")
		if res := p.register(600, accs[1].password); res.StatusCode != 403 {
			t.Fatalf("suspended: %v", res.StartLine())
		}
		if err := a.store.ReactivateUser(context.Background(), acc.tenant.ID, accs[1].user.ID); err != nil {
			t.Fatal(err)
		}
		if res := p.register(600, accs[1].password); res.StatusCode != 200 {
			t.Fatalf("reactivated: %v", res.StartLine())
		}
	})

	t.Run("another device's address of record", func(t *testing.T) {
		p := newPhone(t, a, acc, "udp")
		// Credentials of device 0 but To of device 1.
		impostor := accs[1]
		impostor.device.SIPUsername = accs[1].device.SIPUsername
		q := newPhone(t, a, impostor, "udp")
		req := q.newRegister(600)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := p.client.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		res, err = p.client.DoDigestAuth(ctx, req, res, digestAuth(acc))
		if err != nil || res.StatusCode != 403 {
			t.Fatalf("want 403, got %v %v", res, err)
		}
	})
}

func TestFiveDevicesOfOneLicence(t *testing.T) {
	a := testApp(t, t.TempDir())
	first := seedTenant(t, a, "Acme", "201")[0]
	accs := []account{first}
	for i := 0; i < 4; i++ {
		accs = append(accs, addDevice(t, a, first.tenant, first.user))
	}
	_, err := a.store.CreateDevice(context.Background(), store.Device{TenantID: first.tenant.ID, UserID: first.user.ID, Kind: "generic", SIPUsername: "sixth" + randomString(6)}, "pw")
	if !errors.Is(err, store.ErrLimit) {
		t.Fatalf("sixth device: %v", err)
	}
	// The sixth, never provisioned, cannot register.
	ghost := first
	ghost.device.SIPUsername = "sixth-never-created"
	if res := newPhone(t, a, ghost, "udp").register(600, "pw"); res.StatusCode != 401 {
		t.Fatalf("unprovisioned device: %v", res.StartLine())
	}
	done := make(chan int, len(accs))
	trs := []string{"udp", "tcp", "tls", "udp", "tcp"}
	for i, acc := range accs {
		p := newPhone(t, a, acc, trs[i])
		go func() { done <- p.register(600, acc.password).StatusCode }()
	}
	for range accs {
		if code := <-done; code != 200 {
			t.Fatalf("register: %d", code)
		}
	}
	bs, err := a.store.UserBindings(context.Background(), first.user.ID, time.Now())
	if err != nil || len(bs) != 5 {
		t.Fatalf("want 5 bindings for the licence, got %d (%v)", len(bs), err)
	}
}

func TestBindingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir)
	acc := seedTenant(t, a, "Acme", "201")[0]
	if res := newPhone(t, a, acc, "tcp").register(900, acc.password); res.StatusCode != 200 {
		t.Fatal(res.StartLine())
	}
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	b := testApp(t, dir)
	bs, err := b.store.DeviceBindings(context.Background(), acc.device.ID, time.Now())
	if err != nil || len(bs) != 1 || bs[0].Transport != "tcp" {
		t.Fatalf("after restart: %+v %v", bs, err)
	}
}

func TestPasswordGuessingBan(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.BanAccount = 3; c.BanSource = 6 })
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	p := newPhone(t, a, accs[0], "udp")
	for i := 0; i < 3; i++ {
		p.register(600, "guess")
	}
	// The account is banned: even the right password is refused.
	if res := p.register(600, accs[0].password); res.StatusCode != 403 {
		t.Fatalf("banned account: %v", res.StartLine())
	}
	q := newPhone(t, a, accs[1], "udp")
	for i := 0; i < 3; i++ {
		q.register(600, "guess")
	}
	// Six failures from 127.0.0.1: the source is banned, answers stop.
	r := newPhone(t, a, accs[2], "udp")
	if _, err := r.tryRegister(600, accs[2].password); err == nil {
		t.Fatal("banned source still answered")
	}
	if got := metricValue(t, a, "pbx_sip_bans_total"); got < 3 {
		t.Fatalf("bans metric %v", got)
	}
}

// TestNATKeepalive: a device whose Contact names a private address (it is
// behind a NAT) receives keepalives from the SIP port; one whose Contact is
// its real address does not.
func TestNATKeepalive(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.NATPing = 50 * time.Millisecond })
	accs := seedTenant(t, a, "Acme", "201", "202")
	natted, direct := newPhone(t, a, accs[0], "udp"), newPhone(t, a, accs[1], "udp")
	if res := natted.register(600, accs[0].password, "<sip:201@192.168.1.20:5060>"); res.StatusCode != 200 {
		t.Fatal(res.StartLine())
	}
	if res := direct.register(600, accs[1].password); res.StatusCode != 200 {
		t.Fatal(res.StartLine())
	}
	deadline := time.Now().Add(10 * time.Second)
	for natted.keepalives.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := natted.keepalives.Load(); n < 3 {
		t.Fatalf("device behind NAT got %d keepalives", n)
	}
	if n := direct.keepalives.Load(); n != 0 {
		t.Fatalf("device with a public contact got %d keepalives", n)
	}
}

// A device registered over TCP is still reachable after a restart of the
// pbx: its connection is gone with the old process, so the call goes to the
// port its Contact names.
func TestCallReachesTCPDeviceAfterRestart(t *testing.T) {
	dir := t.TempDir()
	a := testApp(t, dir)
	accs := seedTenant(t, a, "Acme", "201", "202")
	bob := softphoneOn(t, newPhoneAt(t, a, accs[1], "tcp", true))
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	b := testApp(t, dir)
	alice := newSoftphone(t, b, accs[0], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	requireRelayBoth(t, out, in, 20, 15, "callee received %d of 20 frames", "caller received %d of 20 frames")
	endCall(t, b, out, in)
}
