package provisioning

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// testServer is the platform every test file is generated for.
var testServer = Server{
	Host:            "sip.pbx.example.be",
	ProvisioningURL: "https://prov.pbx.example.be/prov/",
	NTP:             "be.pool.ntp.org",
	VoicemailNumber: "*97",
	RepeatMinutes:   1440,
	ProviderName:    "PBX",
}

// fixture is a device with the User-Agent it really sends.
type fixture struct {
	name string // golden file stem
	ua   string
	dev  Device
}

// fixtures covers every family. Tenant A: ten_a (server domain); tenant B:
// ten_b (its own SIP domain, reached through the server as outbound proxy).
func fixtures() []fixture {
	return append([]fixture{
		{
			name: "yealink-t4x-t46s",
			ua:   "Yealink SIP-T46S 66.86.0.15 80:5e:c0:00:00:01",
			dev: Device{
				ID: "dev_t46s", TenantID: "ten_a", MAC: "805ec0000001", Model: "T46S",
				Language: "nl-BE", Transport: "tls",
				Accounts: []Account{
					{Label: "201 Alice", DisplayName: "Alice Peeters", Extension: "201", SIPUsername: "201", SIPPassword: "pw-alice-T46S-01"},
					{Label: "200 Reception", DisplayName: "Reception", Extension: "200", SIPUsername: "200", AuthName: "200-alice", SIPPassword: "pw-reception-T46S-02"},
				},
				BLF: []BLFKey{
					{Target: "202", Label: "Bob"},
					{Position: 10, Line: 2, Target: "203", Label: "Chloé"},
				},
			},
		},
		{
			name: "yealink-t5x-t54w",
			ua:   "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3",
			dev: Device{
				ID: "dev_t54w", TenantID: "ten_a", MAC: "805ec0a1b2c3", Model: "T54W",
				Language: "fr",
				Accounts: []Account{
					{DisplayName: "Benoît Dupont", Extension: "204", SIPUsername: "204", SIPPassword: "pw-benoit-T54W-01"},
				},
				BLF: []BLFKey{{Target: "201", Label: "Alice"}, {Target: "202"}},
			},
		},
		{
			name: "yealink-t5x-t53w-light",
			// Some T5x firmware sends the MAC without colons, after two spaces.
			ua: "Yealink SIP-T53W  96.86.0.100 805ec0000003",
			dev: Device{
				ID: "dev_t53w", TenantID: "ten_b", MAC: "805ec0000003", Model: "T53W",
				Language: "de",
				Accounts: []Account{
					{DisplayName: "Lager", SIPUsername: "l-7731", SIPPassword: "pw-light-T53W-01", SIPDomain: "acme.pbx.example.be", Light: true},
				},
				// A light licence has no keys, whatever the directory says.
				BLF: []BLFKey{{Target: "301", Label: "Should not appear"}},
			},
		},
		{
			name: "yealink-cp9xx-cp965",
			ua:   "Yealink CP965 143.86.0.10 80:5e:c0:00:00:04",
			dev: Device{
				ID: "dev_cp965", TenantID: "ten_b", MAC: "805ec0000004", Model: "CP965",
				Language: "en",
				Accounts: []Account{
					{Label: "Boardroom", DisplayName: "Boardroom", Extension: "300", SIPUsername: "300", SIPPassword: "pw-board-CP965-01", SIPDomain: "acme.pbx.example.be"},
				},
			},
		},
		{
			name: "gigaset-n510",
			ua:   "N510 IP PRO/42.262.00.000.000;7C2F80A1B2C3",
			dev: Device{
				ID: "dev_n510", TenantID: "ten_a", MAC: "7c2f80a1b2c3", Model: "N510 IP PRO",
				Language: "nl", DECTPIN: "4711",
				Accounts: []Account{
					{Label: "210 Warehouse", DisplayName: "Warehouse", Extension: "210", SIPUsername: "210", SIPPassword: "pw-warehouse-N510-01", Handset: 1},
					{Label: "211 Jan", DisplayName: `Jan D'Hondt & "Zoë"`, Extension: "211", SIPUsername: "211", SIPPassword: "pw-jan-N510-03", Handset: 3},
				},
			},
		},
		{
			name: "gigaset-nx70-n870",
			ua:   "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605;Handset=2",
			dev: Device{
				ID: "dev_n870", TenantID: "ten_b", MAC: "7c2f80e0d605", Model: "N870",
				Language: "fr", Transport: "tls", DECTPIN: "1234",
				Accounts: []Account{
					{Label: "310 Hall", DisplayName: "Hall", Extension: "310", SIPUsername: "310", SIPPassword: "pw-hall-N870-01", SIPDomain: "acme.pbx.example.be"},
					{Label: "311 Atelier", DisplayName: "Atelier", Extension: "311", SIPUsername: "311", SIPPassword: "pw-atelier-N870-02", SIPDomain: "acme.pbx.example.be"},
				},
			},
		},
		{
			name: "gigaset-n720",
			ua:   "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4",
			dev: Device{
				ID: "dev_n720", TenantID: "ten_b", MAC: "7c2f80ca21e4", Model: "N720",
				Language: "de",
				Accounts: []Account{
					{Label: "320 Lager 1", DisplayName: "Lager 1", Extension: "320", SIPUsername: "320", SIPPassword: "pw-lager1-N720-01", SIPDomain: "acme.pbx.example.be"},
					{Label: "321 Lager 2", DisplayName: "Lager 2", Extension: "321", SIPUsername: "321", SIPPassword: "pw-lager2-N720-02", SIPDomain: "acme.pbx.example.be"},
				},
			},
		},
	}, catalogueFixtures()...)
}

// fakeDir is an in-memory Directory. It hands out copies, like a store would.
type fakeDir struct {
	mu    sync.Mutex
	devs  map[string]*Device
	err   error // returned for every lookup when set
	calls int
}

func newFakeDir() *fakeDir { return &fakeDir{devs: map[string]*Device{}} }

func (f *fakeDir) DeviceByMAC(_ context.Context, mac string) (*Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	d, ok := f.devs[mac]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneDevice(d), nil
}

func (f *fakeDir) put(d Device) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devs[d.MAC] = cloneDevice(&d)
}

func (f *fakeDir) update(mac string, fn func(*Device)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.devs[mac])
}

func (f *fakeDir) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func cloneDevice(d *Device) *Device {
	c := *d
	c.Accounts = slices.Clone(d.Accounts)
	c.BLF = slices.Clone(d.BLF)
	c.ProvPasswordHash = slices.Clone(d.ProvPasswordHash)
	return &c
}

// provisioned is a fixture with issued credentials, as stored.
type provisioned struct {
	fixture
	password string
}

// withCredentials issues credentials for every fixture and loads them into a
// fake directory.
func withCredentials(t testing.TB, fs []fixture) (*fakeDir, map[string]provisioned) {
	t.Helper()
	dir := newFakeDir()
	out := map[string]provisioned{}
	for _, f := range fs {
		c, err := NewCredentials(f.dev.MAC)
		if err != nil {
			t.Fatal(err)
		}
		f.dev.ProvUsername, f.dev.ProvHA1MD5, f.dev.ProvHA1SHA256, f.dev.ProvPasswordHash = c.Username, c.HA1MD5, c.HA1SHA256, c.PasswordHash
		dir.put(f.dev)
		out[f.name] = provisioned{f, c.Password}
	}
	return dir, out
}

var errBroken = errors.New("database is locked")
