package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
	"pbx/store"
)

// fakeDevices authenticates every request as da, or challenges (ok false)
// when refuse is set; it counts its calls.
type fakeDevices struct {
	da     store.DeviceAuth
	refuse bool
	calls  int
}

func (f *fakeDevices) Authenticate(context.Context, *sip.Request, sip.ServerTransaction, bool) (store.DeviceAuth, bool) {
	f.calls++
	return f.da, !f.refuse
}

type trunkTable map[netip.Addr]string

func (t trunkTable) TrunkBySource(ap netip.AddrPort) (string, bool) {
	id, ok := t[ap.Addr()]
	return id, ok
}

func inviteFrom(src, fromUser, display string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "201", Host: "pbx.test"})
	from := &sip.FromHeader{DisplayName: display, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: "carrier.test"}, Params: sip.NewParams()}
	req.AppendHeader(from)
	req.SetSource(src)
	return req
}

func TestAdmitter(t *testing.T) {
	ten := store.Tenant{ID: "t1", Domain: "acme.example", BillingState: "suspended"}
	full := store.DeviceAuth{Tenant: ten, Device: store.Device{ID: "d1"},
		User: store.User{ID: "u1", FirstName: "An", LastName: "Peeters", Licence: store.LicenceFull, Extension: "201", Status: "suspended"}}
	light := store.DeviceAuth{Tenant: ten, Device: store.Device{ID: "d2"}, User: store.User{ID: "u2", FirstName: "Lobby", LastName: "Phone", Licence: store.LicenceLight}}
	carrier := trunkTable{netip.MustParseAddr("203.0.113.5"): "carrier-1"}

	t.Run("device of a suspended licence is admitted", func(t *testing.T) {
		devs := &fakeDevices{da: full}
		o, ok := (&admitter{devices: devs, trunks: carrier}).Admit(context.Background(), inviteFrom("192.0.2.10:5060", "dev1", ""), nil)
		want := callctl.Origin{Kind: callctl.OriginDevice, TenantID: "t1", Domain: "acme.example", UserID: "u1", DeviceID: "d1", Source: "192.0.2.10:5060",
			Caller: callctl.Party{Name: "An Peeters", Number: "201", Domain: "acme.example", UserID: "u1"}}
		if !ok || o != want {
			t.Fatalf("origin %+v %v\nwant %+v", o, ok, want)
		}
	})
	t.Run("light licence presents without a number", func(t *testing.T) {
		o, ok := (&admitter{devices: &fakeDevices{da: light}}).Admit(context.Background(), inviteFrom("192.0.2.10:5060", "dev2", ""), nil)
		if !ok || o.Caller != (callctl.Party{Name: "Lobby Phone", Domain: "acme.example", UserID: "u2"}) {
			t.Fatalf("origin %+v %v", o, ok)
		}
	})
	t.Run("challenged", func(t *testing.T) {
		if _, ok := (&admitter{devices: &fakeDevices{refuse: true}}).Admit(context.Background(), inviteFrom("192.0.2.10:5060", "x", ""), nil); ok {
			t.Fatal("admitted without credentials")
		}
	})
	t.Run("trunk by source address, unchallenged", func(t *testing.T) {
		devs := &fakeDevices{refuse: true}
		for _, src := range []string{"203.0.113.5:5060", "[::ffff:203.0.113.5]:5070"} {
			o, ok := (&admitter{devices: devs, trunks: carrier}).Admit(context.Background(), inviteFrom(src, "+3225550100", "Jan"), nil)
			want := callctl.Origin{Kind: callctl.OriginTrunk, TrunkID: "carrier-1", Source: src, Caller: callctl.Party{Name: "Jan", Number: "+3225550100"}}
			if !ok || o != want {
				t.Fatalf("origin %+v %v\nwant %+v", o, ok, want)
			}
		}
		if devs.calls != 0 {
			t.Fatal("a trunk was challenged")
		}
	})
}

// Policy is the dialplan's: a suspended licence or tenant is refused 403
// before anyone rings, but its emergency call gets past policy (and,
// with no carrier route yet, is refused 503 by the emergency branch).
func TestInvitePolicy(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	ctx := context.Background()
	expectRefused := func(t *testing.T, number string, code int) {
		t.Helper()
		if _, err := alice.dial(t, number, dialOpt{}); statusOf(err) != code {
			t.Fatalf("call to %s: want %d, got %v", number, code, err)
		}
	}
	t.Run("suspended licence", func(t *testing.T) {
		if err := a.store.SuspendUser(ctx, accs[0].tenant.ID, accs[0].user.ID, time.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, "202", 403)
		expectRefused(t, "112", 503)
		bob.noIncoming(t, 200*time.Millisecond)
		if err := a.store.ReactivateUser(ctx, accs[0].tenant.ID, accs[0].user.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("suspended tenant", func(t *testing.T) {
		if err := a.store.SetTenantBillingState(ctx, accs[0].tenant.ID, "suspended"); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, "202", 403)
		expectRefused(t, "100", 503)
		bob.noIncoming(t, 200*time.Millisecond)
		if err := a.store.SetTenantBillingState(ctx, accs[0].tenant.ID, "active"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("back in service", func(t *testing.T) {
		out, in := connect(t, alice, bob, "202", "0 101")
		endCall(t, a, out, in)
	})
}

// A light licence has no extension: its calls present its name with an
// anonymous number, and its CDR names the device's SIP username.
func TestLightLicenceCall(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "202")
	ten := accs[0].tenant
	u, err := a.store.CreateUser(context.Background(), store.User{TenantID: ten.ID, FirstName: "Lobby", LastName: "Phone", Licence: store.LicenceLight})
	if err != nil {
		t.Fatal(err)
	}
	lobby := addDevice(t, a, ten, u)
	caller, bob := newSoftphone(t, a, lobby, "udp"), newSoftphone(t, a, accs[0], "udp")
	out, in := connectWith(t, caller, bob, "202", "0 101", dialOpt{}, func(in *pcall) {
		if from := in.invite.From(); from.DisplayName != "Lobby Phone" || from.Address.User != "anonymous" || from.Address.Host != ten.Domain {
			t.Errorf("callee sees From %s", from.Value())
		}
	})
	hangupAndWait(t, out, in)
	if c := waitCDR(t, a, ten.ID, 1)[0]; c.Caller != lobby.device.SIPUsername || c.Callee != "202" || c.Disposition != "answered" {
		t.Fatalf("CDR %+v", c)
	}
	waitIdle(t, a)
}
