package registrar

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbx/internal/pgtest"
	"pbx/sip/sipauth"
	"pbx/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// forEachEngine runs fn as one subtest per store engine: SQLite, where
// the registrar keeps registration state between REGISTERs, and
// PostgreSQL, where it reads the database each time.
func forEachEngine(t *testing.T, fn func(t *testing.T, opt store.Options)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, sqliteOptions(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, store.Options{URL: pgtest.Database(t), SecretKey: fixedKey})
	})
}

func sqliteOptions(t testing.TB) store.Options {
	return store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: fixedKey}
}

// storeRegistrar is a registrar on a real store with device "alice"
// (password "pw") of tenant acme.test, on an injected clock; other is a
// second active licence.
func storeRegistrar(t testing.TB, opt store.Options) (r *Registrar, st *store.Store, da store.DeviceAuth, other store.User, clock *time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.User{TenantID: ten.ID, FirstName: "An", LastName: "Peeters", Licence: store.LicenceFull, Extension: "201"})
	if err != nil {
		t.Fatal(err)
	}
	other, err = st.CreateUser(ctx, store.User{TenantID: ten.ID, FirstName: "Bo", LastName: "Claes", Licence: store.LicenceFull, Extension: "202"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.CreateDevice(ctx, store.Device{TenantID: ten.ID, UserID: u.ID, Kind: "softphone", SIPUsername: "alice"}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock = &now
	r = New(st, sipauth.NewAuthenticator(fixedKey), nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics{})
	r.now = func() time.Time { return *clock }
	t.Cleanup(r.Close)
	return r, st, store.DeviceAuth{Device: d, User: u, Tenant: ten}, other, clock
}

func status(t *testing.T, r *Registrar, raw string) int {
	t.Helper()
	tx := handle(t, r, raw)
	if tx == nil || len(tx.responses) != 1 {
		t.Fatalf("want one response, got %+v", tx)
	}
	return tx.responses[0].StatusCode
}

// The registrar keeps each device's registration state between its
// REGISTERs on SQLite (and nothing on PostgreSQL), and on either engine the
// very next REGISTER after a change made elsewhere sees it: a new
// password, a suspended licence or tenant, a deleted device or licence.
func TestCachedRegistrationSeesChanges(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(st *store.Store, da store.DeviceAuth, other store.User) error
		want   int
	}{
		{"new password", func(st *store.Store, da store.DeviceAuth, _ store.User) error {
			return st.RotateDeviceCredentials(ctx, da.Tenant.ID, da.Device.ID, "pw2")
		}, 401},
		{"licence suspended", func(st *store.Store, da store.DeviceAuth, _ store.User) error {
			return st.SuspendUser(ctx, da.Tenant.ID, da.User.ID, time.Now().Add(time.Hour))
		}, 403},
		{"tenant suspended", func(st *store.Store, da store.DeviceAuth, _ store.User) error {
			return st.SetTenantBillingState(ctx, da.Tenant.ID, "suspended")
		}, 403},
		{"device deleted", func(st *store.Store, da store.DeviceAuth, _ store.User) error {
			return st.DeleteDevice(ctx, da.Tenant.ID, da.Device.ID)
		}, 401},
		{"licence terminated", func(st *store.Store, da store.DeviceAuth, other store.User) error {
			return st.TerminateUser(ctx, da.Tenant.ID, da.User.ID)
		}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, opt store.Options) {
				r, st, da, other, _ := storeRegistrar(t, opt)
				for cseq := 1; cseq <= 2; cseq++ {
					if c := status(t, r, authorized(cseq, "600")); c != 200 {
						t.Fatalf("register %d: %d", cseq, c)
					}
				}
				_, allowed := st.RegistrationGeneration()
				if _, kept := r.cache.m["alice"]; kept != allowed {
					t.Fatalf("registration state kept: %v, allowed: %v", kept, allowed)
				}
				if err := tc.change(st, da, other); err != nil {
					t.Fatal(err)
				}
				if c := status(t, r, authorized(3, "600")); c != tc.want {
					t.Fatalf("REGISTER after the change: %d, want %d", c, tc.want)
				}
			})
		})
	}
}

// A binding that expired is gone for the next REGISTER, as it is from
// the database (whether or not the sweep ran): the device's contact
// registered again is a new binding, whose NewBinding hook runs; a
// refresh before that is none.
func TestCachedRegistrationExpiry(t *testing.T) {
	forEachEngine(t, testRegistrationExpiry)
}

func testRegistrationExpiry(t *testing.T, opt store.Options) {
	r, st, da, _, clock := storeRegistrar(t, opt)
	var fresh []string
	r.NewBinding = func(_ store.DeviceAuth, b store.Binding) { fresh = append(fresh, b.Contact) }
	second := strings.Replace(authorized(1, "60"), "Contact: <sip:alice@192.0.2.10:5060>", "Contact: <sip:alice@192.0.2.10:5062>;expires=600", 1)
	if c := status(t, r, second); c != 200 {
		t.Fatalf("register: %d", c)
	}
	if c := status(t, r, authorized(2, "60")); c != 200 {
		t.Fatalf("register: %d", c)
	}
	*clock = clock.Add(30 * time.Second)
	if c := status(t, r, authorized(3, "60")); c != 200 {
		t.Fatalf("refresh: %d", c)
	}
	*clock = clock.Add(61 * time.Second)
	tx := handle(t, r, authorized(4, "60"))
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
		t.Fatalf("register after the expiry: %+v", tx.responses)
	}
	want := []string{"sip:alice@192.0.2.10:5062", "sip:alice@192.0.2.10:5060", "sip:alice@192.0.2.10:5060"}
	if fmt.Sprint(fresh) != fmt.Sprint(want) {
		t.Errorf("new bindings %v, want %v", fresh, want)
	}
	if n := len(tx.responses[0].GetHeaders("Contact")); n != 2 {
		t.Errorf("200 lists %d contacts, want 2", n)
	}
	// The expired contact was refreshed after its expiry: the database
	// holds it with its new expiry, as the 200 says.
	r.writer.barrier()
	bs, err := st.DeviceBindings(context.Background(), da.Device.ID, *clock)
	if err != nil || len(bs) != 2 {
		t.Fatalf("bindings %+v, %v", bs, err)
	}
	for _, b := range bs {
		if b.Contact == "sip:alice@192.0.2.10:5060" && !b.ExpiresAt.Equal(clock.Add(60*time.Second).Truncate(time.Millisecond)) {
			t.Errorf("binding expires at %v, want %v", b.ExpiresAt, clock.Add(60*time.Second))
		}
	}
}

// A retransmitted REGISTER (the same Call-ID and CSeq), answered again,
// gets the same 200; a refresh's write reaches the database.
func TestCachedRegistrationRetransmission(t *testing.T) {
	forEachEngine(t, testRegistrationRetransmission)
}

func testRegistrationRetransmission(t *testing.T, opt store.Options) {
	r, st, da, _, clock := storeRegistrar(t, opt)
	req := authorized(1, "600")
	for i := 0; i < 3; i++ {
		tx := handle(t, r, req)
		if len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 || len(tx.responses[0].GetHeaders("Contact")) != 1 {
			t.Fatalf("REGISTER %d: %+v", i, tx.responses)
		}
	}
	*clock = clock.Add(time.Minute)
	if c := status(t, r, authorized(2, "600")); c != 200 {
		t.Fatalf("refresh: %d", c)
	}
	r.writer.barrier()
	bs, err := st.DeviceBindings(context.Background(), da.Device.ID, *clock)
	if err != nil || len(bs) != 1 || bs[0].CSeq != 2 || !bs[0].ExpiresAt.Equal(clock.Add(600*time.Second).Truncate(time.Millisecond)) {
		t.Fatalf("bindings after the refresh %+v, %v", bs, err)
	}
}
