package provisioning

import (
	"fmt"
	"slices"
	"strings"
)

// Vendor of a model.
type Vendor string

// Vendors in the catalogue.
const (
	Yealink     Vendor = "yealink"
	Gigaset     Vendor = "gigaset"
	Grandstream Vendor = "grandstream"
)

// Family groups models that share a file format and generator.
type Family string

// Families in the catalogue.
const (
	FamilyYealinkT4x    Family = "yealink-t4x"       // T42/T46/T48 (G, S, U)
	FamilyYealinkT5x    Family = "yealink-t5x"       // T53, T53W, T54W, T57W, T58W
	FamilyYealinkCP     Family = "yealink-cp9xx"     // CP925, CP965 conference phones
	FamilyGigasetN510   Family = "gigaset-n510"      // N510 IP PRO, ProviderFrame XML
	FamilyGigasetN720   Family = "gigaset-n720"      // N720 DM PRO, ProviderFrame XML with BS_VOIP_Data items
	FamilyGigasetNx70   Family = "gigaset-nx70"      // N670 / N870 IP PRO, <provisioning> XML
	FamilyYealinkDECT   Family = "yealink-dect"      // W73P (W70B base, W73H handsets): .cfg with handset keys
	FamilyGigasetN860   Family = "gigaset-n860"      // N860 IP PRO multicell, <provisioning> XML as Nx70
	FamilyGrandstreamWP Family = "grandstream-wp8xx" // WP820, WP822, WP825 Wi-Fi phones, P-value XML
	FamilyGrandstreamHT Family = "grandstream-ht80x" // HT801, HT802 FXS adapters, P-value XML, one account per port
)

// Model describes one device model.
type Model struct {
	Name        string // canonical name, e.g. "T54W", "N510"
	Vendor      Vendor
	Family      Family
	MaxAccounts int // SIP accounts the device can hold
	MaxHandsets int // DECT handsets (bases only; one account per handset), or FXS ports of an adapter
	LineKeys    int // programmable keys usable for lines and BLF (0: none)
	// CommonFiles are the Yealink common file names ("y0000000000NN.cfg") this
	// model may request. A bare "T46" lists the files of all its variants.
	CommonFiles []string
	// Transports the generator can configure on this model.
	Transports []string
}

// SupportsTransport reports whether the generator can configure t ("udp",
// "tcp", "tls") on this model.
func (m Model) SupportsTransport(t string) bool { return slices.Contains(m.Transports, t) }

// FileName is the per-device file name this model requests: "<mac>.cfg" in
// lower case for Yealink, "<MAC>.xml" in upper case for Gigaset,
// "cfg<mac>.xml" for Grandstream (the name wazo and FusionPBX serve). The
// handler accepts any case, since the case Nx70 bases use is not verified [U].
func (m Model) FileName(mac string) string {
	switch m.Vendor {
	case Gigaset:
		return strings.ToUpper(mac) + ".xml"
	case Grandstream:
		return "cfg" + mac + ".xml"
	}
	return mac + ".cfg"
}

// HasPorts reports whether the model is an analogue adapter: each account
// is an FXS port, numbered by Account.Handset.
func (m Model) HasPorts() bool { return m.Family == FamilyGrandstreamHT }

// IsDECT reports whether the model is a DECT base whose accounts are
// handsets.
func (m Model) IsDECT() bool { return m.MaxHandsets > 0 && !m.HasPorts() }

var (
	allTransports = []string{"udp", "tcp", "tls"}
	// [U] N510 and N720: no transport item is documented besides N720's
	// "17 = UDP", so only UDP is configured on them.
	udpOnly = []string{"udp"}
)

// catalogue is the fixed model table. Common file numbers, account counts and
// line key counts come from the vendor documentation (wazo and FusionPBX
// agree on them unless noted there).
var catalogue = []Model{
	yl("T42", FamilyYealinkT4x, 12, 15, "029", "067", "116"),
	yl("T42G", FamilyYealinkT4x, 12, 15, "029"),
	yl("T42S", FamilyYealinkT4x, 12, 15, "067"),
	yl("T42U", FamilyYealinkT4x, 12, 15, "116"),
	yl("T46", FamilyYealinkT4x, 16, 27, "028", "066", "108"),
	yl("T46G", FamilyYealinkT4x, 16, 27, "028"),
	yl("T46S", FamilyYealinkT4x, 16, 27, "066"),
	yl("T46U", FamilyYealinkT4x, 16, 27, "108"),
	yl("T48", FamilyYealinkT4x, 16, 29, "035", "065", "109"),
	yl("T48G", FamilyYealinkT4x, 16, 29, "035"),
	yl("T48S", FamilyYealinkT4x, 16, 29, "065"),
	yl("T48U", FamilyYealinkT4x, 16, 29, "109"),
	yl("T53", FamilyYealinkT5x, 12, 21, "095"),
	yl("T53W", FamilyYealinkT5x, 12, 21, "095"),
	yl("T54W", FamilyYealinkT5x, 16, 27, "096"),
	yl("T57W", FamilyYealinkT5x, 16, 29, "097"),
	yl("T58W", FamilyYealinkT5x, 16, 27, "150"),
	yl("CP925", FamilyYealinkCP, 1, 0, "148"),
	yl("CP965", FamilyYealinkCP, 1, 0, "143"),
	// [U] N510 handsets: 6 expected (GS5 assumes 4); one connection per handset.
	{Name: "N510", Vendor: Gigaset, Family: FamilyGigasetN510, MaxAccounts: 6, MaxHandsets: 6, Transports: udpOnly},
	{Name: "N720", Vendor: Gigaset, Family: FamilyGigasetN720, MaxAccounts: 100, MaxHandsets: 100, Transports: udpOnly},
	{Name: "N670", Vendor: Gigaset, Family: FamilyGigasetNx70, MaxAccounts: 20, MaxHandsets: 20, Transports: allTransports},
	{Name: "N870", Vendor: Gigaset, Family: FamilyGigasetNx70, MaxAccounts: 250, MaxHandsets: 250, Transports: allTransports},
	// [U] N860 IP PRO: no public provisioning documentation was found for
	// it. It is Gigaset's multicell DECT manager of the N670/N870 software
	// generation, so it is given their <provisioning> format and 100
	// handsets (its data sheet figure could not be checked).
	{Name: "N860", Vendor: Gigaset, Family: FamilyGigasetN860, MaxAccounts: 100, MaxHandsets: 100, Transports: allTransports},
	// W73P = W70B base + W73H handsets: it runs the W70B firmware (146.x)
	// and asks for the W70B common file; 10 handsets, one account each.
	// [U] 146 for the W73P bundle is inferred from the W70B entry.
	{Name: "W73P", Vendor: Yealink, Family: FamilyYealinkDECT, MaxAccounts: 10, MaxHandsets: 10,
		CommonFiles: []string{"y000000000146.cfg"}, Transports: allTransports},
	// Grandstream's config templates: two accounts on the WP8xx, one FXS
	// port on the HT801 and two on the HT802.
	{Name: "WP820", Vendor: Grandstream, Family: FamilyGrandstreamWP, MaxAccounts: 2, Transports: allTransports},
	{Name: "WP822", Vendor: Grandstream, Family: FamilyGrandstreamWP, MaxAccounts: 2, Transports: allTransports},
	{Name: "WP825", Vendor: Grandstream, Family: FamilyGrandstreamWP, MaxAccounts: 2, Transports: allTransports},
	{Name: "HT801", Vendor: Grandstream, Family: FamilyGrandstreamHT, MaxAccounts: 1, MaxHandsets: 1, Transports: allTransports},
	{Name: "HT802", Vendor: Grandstream, Family: FamilyGrandstreamHT, MaxAccounts: 2, MaxHandsets: 2, Transports: allTransports},
}

func yl(name string, f Family, accounts, keys int, common ...string) Model {
	files := make([]string, len(common))
	for i, n := range common {
		files[i] = "y000000000" + n + ".cfg"
	}
	return Model{Name: name, Vendor: Yealink, Family: f, MaxAccounts: accounts, LineKeys: keys,
		CommonFiles: files, Transports: allTransports}
}

// Models returns a copy of the catalogue.
func Models() []Model {
	out := make([]Model, len(catalogue))
	for i, m := range catalogue {
		m.CommonFiles = slices.Clone(m.CommonFiles)
		m.Transports = slices.Clone(m.Transports)
		out[i] = m
	}
	return out
}

// LookupModel finds a model by name, ignoring case, a vendor prefix, Yealink's
// "SIP-" prefix and Gigaset's " IP PRO" / " DM PRO" suffixes: "t54w",
// "SIP-T54W", "Yealink T54W", "N510 IP PRO" and "Gigaset N720 DM PRO" all match.
func LookupModel(name string) (Model, bool) {
	key := modelKey(name)
	for _, m := range catalogue {
		if m.Name == key {
			m.CommonFiles = slices.Clone(m.CommonFiles)
			m.Transports = slices.Clone(m.Transports)
			return m, true
		}
	}
	return Model{}, false
}

func modelKey(name string) string {
	k := strings.ToUpper(strings.TrimSpace(name))
	for _, p := range []string{"YEALINK ", "GIGASET ", "GRANDSTREAM ", "SIP-"} {
		k = strings.TrimSpace(strings.TrimPrefix(k, p))
	}
	// "HT802V2" (the hardware revision in Grandstream's User-Agent) is an HT802.
	for _, s := range []string{" IP PRO", " DM PRO", "-DM-PRO", "-IP-PRO", " PRO", "V2"} {
		k = strings.TrimSuffix(k, s)
	}
	return strings.TrimSpace(k)
}

// isCommonFile reports whether name is a Yealink common file of some model
// in the catalogue.
func isCommonFile(name string) bool {
	for _, m := range catalogue {
		if slices.Contains(m.CommonFiles, name) {
			return true
		}
	}
	return false
}

// commonFileFamily returns the family whose models request this common file.
func commonFileFamily(name string) (Family, bool) {
	for _, m := range catalogue {
		if slices.Contains(m.CommonFiles, name) {
			return m.Family, true
		}
	}
	return "", false
}

// Validate reports whether a device of this model can hold that many
// accounts over that transport ("" means the server's default, not checked
// here). The API calls it before accepting a device or a licence assignment.
func (m Model) Validate(accounts int, transport string) error {
	if accounts > m.MaxAccounts {
		return fmt.Errorf("provisioning: model %s holds at most %d accounts, got %d", m.Name, m.MaxAccounts, accounts)
	}
	if transport != "" && !m.SupportsTransport(strings.ToLower(transport)) {
		return fmt.Errorf("provisioning: model %s cannot be configured for transport %q (supported: %s)", m.Name, transport, strings.Join(m.Transports, ", "))
	}
	return nil
}
