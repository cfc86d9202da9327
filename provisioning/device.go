package provisioning

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is what a Directory returns when no device has the MAC.
var ErrNotFound = errors.New("provisioning: device not found")

// Directory is what provisioning needs from the store. cmd/pbx adapts the store
// to it.
type Directory interface {
	// DeviceByMAC returns the provisioning view of the device with this MAC
	// (12 lower-case hex digits, no separators), or an error wrapping
	// ErrNotFound. It is called on every request: the result must reflect the
	// current state (users, licences, BLF keys, credentials), must contain only
	// accounts and BLF targets of the device's own tenant, and must carry SIP
	// passwords decrypted for this device only.
	DeviceByMAC(ctx context.Context, mac string) (*Device, error)
}

// Device is the provisioning view of one device.
type Device struct {
	ID       string
	TenantID string
	MAC      string // 12 lower-case hex digits
	Model    string // a catalogue name, see LookupModel

	// Provisioning credential, as issued by NewCredentials. Only hashes are
	// kept: ProvHA1MD5 = hex(MD5(username ":" Realm ":" password)),
	// ProvHA1SHA256 = hex(SHA-256(username ":" Realm ":" password)), and
	// ProvPasswordHash is the PBKDF2 hash used for basic authentication over
	// TLS (format documented at NewCredentials; when empty, basic
	// authentication is checked against ProvHA1SHA256).
	ProvUsername     string
	ProvHA1MD5       string
	ProvHA1SHA256    string
	ProvPasswordHash []byte
	// MACID is a Gigaset base's MAC-ID (12 characters, upper case, no
	// separators), decrypted for this request only, or empty. A factory-new
	// base answers a challenge with digest(username = its MAC, password =
	// its MAC-ID) before any credential is configured in it, which is what
	// makes it zero-touch; it is accepted for Gigaset models only.
	// [U] The vendor documentation gives the password as the 12-character
	// MAC-ID; that the base sends it without the label's dashes and in
	// upper case was not tried on hardware.
	MACID string

	// Language is the user's language code (nl, fr, de, en; "nl-BE" is
	// accepted). Anything else falls back to English.
	Language string
	// Transport chosen for this device: "udp", "tcp" or "tls"; empty means
	// Server.Transport.
	Transport string
	// DECTPIN is the optional 4-digit code for registering handsets to a
	// Gigaset base (system PIN on N510/N720, per-handset code on N670/N870).
	// Empty leaves the base's own PIN alone.
	DECTPIN string

	// Accounts are the SIP identities of the device's licence(s), in the order
	// they appear on the phone (account 1 first). For a DECT base, one account
	// per handset.
	Accounts []Account
	// BLF are the busy-lamp keys chosen over REST (Yealink only).
	BLF []BLFKey

	// PhonebookToken, when set, makes the file point the device at its
	// company directory (PhonebookPath). The handler sets it; files
	// generated without it carry no directory.
	PhonebookToken string
}

// Account is one SIP identity configured on the device.
type Account struct {
	Label       string // shown on the phone or handset; default: extension, else display name
	DisplayName string // caller name
	Extension   string // empty for a light licence
	SIPUsername string // user part of the address of record
	AuthName    string // digest user name; empty means SIPUsername
	SIPPassword string // decrypted for this device's file only
	SIPDomain   string // domain of the address of record; empty means Server.Host
	// Light marks a light licence: the device then gets this single account
	// and no BLF or extension keys, whatever else the directory returned.
	Light bool
	// Handset is the DECT handset slot (1-based) of this account on a DECT
	// base, or the FXS port on an analogue adapter; 0 means its position in
	// Accounts plus one. Ignored for desk phones.
	Handset int
	// HandsetModel is the DECT handset's model (a LookupHandset name), or
	// empty when not recorded.
	HandsetModel string
	// Fax marks an adapter port with a fax machine: T.38 off, G.711
	// pass-through, echo cancellation off.
	Fax bool
}

// BLFKey is a busy-lamp-field key watching a colleague.
type BLFKey struct {
	// Position is the 1-based programmable key; 0 means the next free key
	// after the line keys.
	Position int
	// Line is the 1-based account the subscription goes through; 0 means 1.
	Line   int
	Target string // extension (or SIP user) to watch
	Label  string // text on the key; default Target
}

// Server is what every device needs to know about the platform.
type Server struct {
	Host      string // SIP server (or SBC) name every device sends to
	UDPPort   int    // default 5060
	TCPPort   int    // default 5060
	TLSPort   int    // default 5061
	Transport string // default transport: udp (default), tcp or tls
	// SRTP applies only to TLS accounts: "" (off, default), "optional" or
	// "mandatory". Over UDP/TCP the SDES keys would travel in clear, so SRTP
	// is never switched on there.
	SRTP            string
	RegisterExpires int    // registration expiry in seconds, default 600
	VoicemailNumber string // default "*97"
	NTP             string // NTP server, default "be.pool.ntp.org"
	// ProvisioningURL is the base URL the devices fetch from, ending with
	// "/prov/", e.g. "https://prov.example.be/prov/". Written into the files
	// so that later cycles come back here.
	ProvisioningURL string
	RepeatMinutes   int    // provisioning repeat interval, default 1440 (daily)
	ProviderName    string // name shown in Gigaset web UIs, default "PBX"
}

func (s Server) withDefaults() Server {
	if s.UDPPort == 0 {
		s.UDPPort = 5060
	}
	if s.TCPPort == 0 {
		s.TCPPort = 5060
	}
	if s.TLSPort == 0 {
		s.TLSPort = 5061
	}
	if s.Transport == "" {
		s.Transport = "udp"
	}
	if s.RegisterExpires == 0 {
		s.RegisterExpires = 600
	}
	if s.VoicemailNumber == "" {
		s.VoicemailNumber = "*97"
	}
	if s.NTP == "" {
		s.NTP = "be.pool.ntp.org"
	}
	if s.RepeatMinutes == 0 {
		s.RepeatMinutes = 1440
	}
	if s.ProviderName == "" {
		s.ProviderName = "PBX"
	}
	return s
}

// port returns the server port for a transport.
func (s Server) port(transport string) int {
	switch transport {
	case "tcp":
		return s.TCPPort
	case "tls":
		return s.TLSPort
	}
	return s.UDPPort
}

// NormalizeMAC returns the MAC as 12 lower-case hex digits. It accepts any case
// and ':', '-' or '.' separators ("80:5E:C0:A1:B2:C3", "805ec0a1b2c3").
func NormalizeMAC(s string) (string, error) {
	var b strings.Builder
	b.Grow(12)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteByte(c)
		case c >= 'A' && c <= 'F':
			b.WriteByte(c + 'a' - 'A')
		case c == ':' || c == '-' || c == '.':
			continue
		default:
			return "", fmt.Errorf("provisioning: invalid MAC %q", s)
		}
		if b.Len() > 12 {
			return "", fmt.Errorf("provisioning: invalid MAC %q", s)
		}
	}
	if b.Len() != 12 {
		return "", fmt.Errorf("provisioning: invalid MAC %q", s)
	}
	return b.String(), nil
}

// language is a user's language mapped to what each vendor understands.
type language struct {
	code    string // nl, fr, de, en
	yealink string // lang.gui / lang.wui value
	gigaset int    // ucI_HTTPLANGUAGE (web UI language of N510/N720)
}

// languageOf maps a user language code to vendor values. [U] Yealink "Dutch" is
// not in the verified value list (English, French, German, Italian, Spanish);
// an unknown value is expected to be ignored by the phone, which then keeps its
// current language, so writing "Dutch" is no worse than writing nothing.
// Gigaset web UI codes 0x1 EN, 0x2 DE, 0x9 FR, 0xa NL come from wazo's template.
func languageOf(code string) language {
	c := strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(c, "-_"); i >= 0 {
		c = c[:i]
	}
	switch c {
	case "nl":
		return language{"nl", "Dutch", 0xa}
	case "fr":
		return language{"fr", "French", 0x9}
	case "de":
		return language{"de", "German", 0x2}
	}
	return language{"en", "English", 0x1}
}

// effectiveAccounts applies the licence rule: a device holding a light licence
// gets its single (light) account and no BLF keys. On an analogue adapter
// each port is its own device: a light licence's port carries its one
// account, the other ports keep theirs, and there are no keys.
func effectiveAccounts(d *Device, m Model) (accounts []Account, blf []BLFKey, light bool) {
	if m.HasPorts() {
		light = len(d.Accounts) > 0 && d.Accounts[0].Light
		return d.Accounts, nil, light
	}
	for _, a := range d.Accounts {
		if a.Light {
			return []Account{a}, nil, true
		}
	}
	return d.Accounts, d.BLF, false
}

func (a Account) authName() string {
	if a.AuthName != "" {
		return a.AuthName
	}
	return a.SIPUsername
}

func (a Account) label() string {
	switch {
	case a.Label != "":
		return a.Label
	case a.Extension != "":
		return a.Extension
	case a.DisplayName != "":
		return a.DisplayName
	}
	return a.SIPUsername
}

func (a Account) domain(s Server) string {
	if a.SIPDomain != "" {
		return a.SIPDomain
	}
	return s.Host
}
