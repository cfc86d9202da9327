package provisioning

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pbx/provisioning/format"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./provisioning -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-update to accept):\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "(same lines, different bytes)"
}

// parseStrict parses a generated file with the strict parser of its format.
func parseStrict(t *testing.T, m Model, body []byte) {
	t.Helper()
	var err error
	switch m.Family {
	case FamilyYealinkT4x, FamilyYealinkT5x, FamilyYealinkCP:
		_, err = format.ParseYealink(body)
	case FamilyGigasetN510, FamilyGigasetN720:
		_, err = format.ParseProviderFrame(body)
	case FamilyGigasetNx70, FamilyGigasetN860:
		_, err = format.ParseNx70(body)
	case FamilyYealinkDECT:
		_, err = format.ParseYealink(body)
	case FamilyGrandstreamWP, FamilyGrandstreamHT:
		_, err = format.ParseGrandstream(body)
	default:
		t.Fatalf("no strict parser for family %s", m.Family)
	}
	if err != nil {
		t.Errorf("%s: strict parse: %v", m.Name, err)
	}
}

func TestGoldenDeviceFiles(t *testing.T) {
	families := map[Family]bool{}
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			file, err := DeviceFile(&f.dev, testServer)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := LookupModel(f.dev.Model)
			families[m.Family] = true
			if want := m.FileName(f.dev.MAC); file.Name != want {
				t.Errorf("file name %q, want %q", file.Name, want)
			}
			parseStrict(t, m, file.Body)
			ext := filepath.Ext(file.Name)
			golden(t, f.name+ext, file.Body)
		})
	}
	for _, fam := range []Family{FamilyYealinkT4x, FamilyYealinkT5x, FamilyYealinkCP, FamilyGigasetN510, FamilyGigasetN720, FamilyGigasetNx70,
		FamilyYealinkDECT, FamilyGigasetN860, FamilyGrandstreamWP, FamilyGrandstreamHT} {
		if !families[fam] {
			t.Errorf("no golden file for family %s", fam)
		}
	}
}

func TestGoldenCommonFiles(t *testing.T) {
	for _, name := range []string{"y000000000066.cfg", "y000000000096.cfg", "y000000000143.cfg"} {
		f, ok := CommonFile(name, testServer)
		if !ok {
			t.Fatalf("%s: not a common file", name)
		}
		if _, err := format.ParseYealink(f.Body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		golden(t, "common-"+name, f.Body)
	}
	if _, ok := CommonFile("y000000000000.cfg", testServer); ok {
		t.Error("y000000000000.cfg is no model's common file")
	}
}

// bigDevice fills a model: more accounts than it holds and more BLF keys than
// it has keys, with awkward characters everywhere.
func bigDevice(m Model) Device {
	d := Device{ID: "dev_" + m.Name, TenantID: "ten_x", MAC: "805ec0ffff01", Model: m.Name, Language: "nl", DECTPIN: "0042"}
	if m.Vendor == Gigaset {
		d.MAC = "7c2f80ffff01"
	}
	n := m.MaxAccounts + 2
	for i := 1; i <= n; i++ {
		d.Accounts = append(d.Accounts, Account{
			Label:       fmt.Sprintf("%d <Naïve> & 'co'", 100+i),
			DisplayName: fmt.Sprintf("User \"%d\"\r\naccount.1.password = injected", i),
			Extension:   fmt.Sprint(100 + i),
			SIPUsername: fmt.Sprint(100 + i),
			SIPPassword: fmt.Sprintf("p@ss#%d;'\"<&>", i),
		})
	}
	for i := 1; i <= m.LineKeys+3; i++ {
		d.BLF = append(d.BLF, BLFKey{Target: fmt.Sprint(500 + i), Label: fmt.Sprintf("Colleague %d", i)})
	}
	return d
}

// TestStrictParseEveryModel generates a full file for every model in the
// catalogue and every common file, and parses each with the strict parser of
// its format (no duplicate keys, every key known, every value typed).
func TestStrictParseEveryModel(t *testing.T) {
	for _, m := range Models() {
		t.Run(m.Name, func(t *testing.T) {
			for _, transport := range m.Transports {
				d := bigDevice(m)
				d.Transport = transport
				f, err := DeviceFile(&d, testServer)
				if err != nil {
					t.Fatal(err)
				}
				parseStrict(t, m, f.Body)
				if len(f.Warnings) == 0 {
					t.Error("too many accounts and keys produced no warning")
				}
				for _, line := range strings.Split(string(f.Body), "\n") {
					l := strings.TrimSpace(line)
					if strings.HasPrefix(l, "account.1.password = injected") || strings.HasPrefix(l, "injected") {
						t.Errorf("a display name injected a line: %q", line)
					}
				}
			}
			for _, c := range m.CommonFiles {
				f, ok := CommonFile(c, testServer)
				if !ok {
					t.Fatalf("%s: common file %s not generated", m.Name, c)
				}
				if _, err := format.ParseYealink(f.Body); err != nil {
					t.Errorf("%s: %v", c, err)
				}
			}
		})
	}
}

func TestYealinkContent(t *testing.T) {
	fs := fixtures()
	f, err := DeviceFile(&fs[0].dev, testServer) // T46S, TLS, nl, 2 accounts, 2 BLF
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := format.ParseYealink(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"account.1.enable":                      "1",
		"account.1.password":                    "pw-alice-T46S-01",
		"account.2.auth_name":                   "200-alice",
		"account.1.sip_server.1.address":        "sip.pbx.example.be",
		"account.1.sip_server.1.port":           "5061",
		"account.1.sip_server.1.transport_type": "2",
		"account.1.sip_server.1.expires":        "600",
		"account.1.outbound_proxy_enable":       "0",
		"account.1.codec.pcma.enable":           "1",
		"account.1.codec.pcmu.enable":           "1",
		"account.1.codec.g722.enable":           "0",
		"account.1.srtp_encryption":             "0",
		"account.3.enable":                      "0",
		"account.3.password":                    "%NULL%",
		"account.16.enable":                     "0",
		"voice_mail.number.1":                   "*97",
		"voice_mail.number.2":                   "*97",
		"lang.gui":                              "Dutch",
		"local_time.time_zone":                  "+1",
		"local_time.time_zone_name":             "Belgium(Brussels)",
		"local_time.summer_time":                "2",
		"local_time.ntp_server1":                "be.pool.ntp.org",
		"static.auto_provision.repeat.minutes":  "1440",
		"linekey.1.type":                        "15",
		"linekey.2.type":                        "15",
		"linekey.2.line":                        "2",
		"linekey.3.type":                        "16",
		"linekey.3.value":                       "202",
		"linekey.3.label":                       "Bob",
		"linekey.10.type":                       "16",
		"linekey.10.line":                       "2",
		"linekey.10.label":                      "Chloé",
		"linekey.4.type":                        "0",
		"linekey.27.type":                       "0",
	}
	for k, v := range want {
		if got := cfg.Values[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := cfg.Values["linekey.28.type"]; ok {
		t.Error("T46S has 27 keys, got linekey.28")
	}
	for k, v := range cfg.Values {
		if strings.Contains(k, "g722") && strings.HasSuffix(k, ".enable") && v != "0" {
			t.Errorf("%s = %s: G.722 must stay off", k, v)
		}
	}
}

func TestYealinkTenantDomainUsesOutboundProxy(t *testing.T) {
	fs := fixtures()
	f, err := DeviceFile(&fs[3].dev, testServer) // CP965, tenant domain
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := format.ParseYealink(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"account.1.sip_server.1.address":     "acme.pbx.example.be",
		"account.1.outbound_proxy_enable":    "1",
		"account.1.outbound_proxy.1.address": "sip.pbx.example.be",
		"account.1.outbound_proxy.1.port":    "5060",
		"lang.gui":                           "English",
	} {
		if cfg.Values[k] != v {
			t.Errorf("%s = %q, want %q", k, cfg.Values[k], v)
		}
	}
	for k := range cfg.Values {
		if strings.HasPrefix(k, "linekey.") || strings.HasPrefix(k, "account.2.") {
			t.Errorf("CP965 (1 account, no keys) got %s", k)
		}
	}
}

func TestSRTPOnlyWithTLS(t *testing.T) {
	s := testServer
	s.SRTP = "mandatory"
	for _, tc := range []struct{ transport, want string }{{"tls", "2"}, {"udp", "0"}, {"tcp", "0"}} {
		d := fixtures()[1].dev
		d.Transport = tc.transport
		f, err := DeviceFile(&d, s)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := format.ParseYealink(f.Body)
		if got := cfg.Values["account.1.srtp_encryption"]; got != tc.want {
			t.Errorf("%s: srtp_encryption %s, want %s", tc.transport, got, tc.want)
		}
	}
}

func TestLightLicence(t *testing.T) {
	d := fixtures()[2].dev // T53W light
	// Even if the directory returned a second account, a light device gets
	// its single light account.
	d.Accounts = append([]Account{{Extension: "999", SIPUsername: "999", SIPPassword: "pw-other"}}, d.Accounts...)
	f, err := DeviceFile(&d, testServer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := format.ParseYealink(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Values["account.1.user_name"] != "l-7731" || cfg.Values["account.1.enable"] != "1" {
		t.Errorf("account 1 is not the light account: %q", cfg.Values["account.1.user_name"])
	}
	for n := 2; n <= 12; n++ {
		if v := cfg.Values[fmt.Sprintf("account.%d.enable", n)]; v != "0" {
			t.Errorf("account.%d.enable = %q, want 0", n, v)
		}
	}
	if bytes.Contains(f.Body, []byte("pw-other")) || bytes.Contains(f.Body, []byte("999")) {
		t.Error("light device file carries the other account")
	}
	keyType := regexp.MustCompile(`^linekey\.(\d+)\.type$`)
	for k, v := range cfg.Values {
		if m := keyType.FindStringSubmatch(k); m != nil && m[1] != "1" && v != "0" {
			t.Errorf("%s = %s: a light licence gets no extension keys", k, v)
		}
		if strings.HasPrefix(k, "linekey.") && strings.HasSuffix(k, ".value") {
			t.Errorf("%s = %s: a light licence gets no extension keys", k, cfg.Values[k])
		}
	}
	if cfg.Values["linekey.1.type"] != "15" {
		t.Errorf("linekey.1.type = %q, want its own line key (15)", cfg.Values["linekey.1.type"])
	}

	// Same rule on a DECT base: one account, one handset.
	n := Device{ID: "dev_n510l", MAC: "7c2f80000009", Model: "N510", Accounts: []Account{
		{SIPUsername: "l-1", SIPPassword: "pw-l1", Light: true},
		{SIPUsername: "x-2", SIPPassword: "pw-x2"},
	}}
	nf, err := DeviceFile(&n, testServer)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := format.ParseProviderFrame(nf.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := pf.Number("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_2"); v != 0 {
		t.Error("light N510: connection 2 active")
	}
	if bytes.Contains(nf.Body, []byte("pw-x2")) {
		t.Error("light N510 carries a second account")
	}
}

func TestN510Content(t *testing.T) {
	d := fixtures()[4].dev
	f, err := DeviceFile(&d, testServer)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := format.ParseProviderFrame(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	if pf.MAC != "7C2F80A1B2C3" || f.Name != "7C2F80A1B2C3.xml" {
		t.Errorf("MAC_ADDRESS %q, file %q", pf.MAC, f.Name)
	}
	str := func(id string) string { s, _ := pf.String(id); return s }
	numv := func(id string) int { n, _ := pf.Number(id); return n }
	// Connection 1 has no suffix; connection 2 does.
	if str("BS_IP_Data1.aucS_SIP_PASSWORD") != "pw-warehouse-N510-01" || str("BS_IP_Data1.aucS_SIP_PASSWORD_2") != "pw-jan-N510-03" {
		t.Error("passwords not on connections 1 and 2")
	}
	if numv("BS_IP_Data1.uiI_SIP_SERVER_PORT") != 5060 || numv("BS_IP_Data1.uiI_RE_REGISTRATION_TIMER") != 180 {
		t.Error("port or re-registration timer")
	}
	// Handset 3 rings for and calls out on connection 2.
	if numv("BS_Accounts.astAccounts[1].uiSendMask") != 0x4 || numv("BS_Accounts.astAccounts[1].uiReceiveMask") != 0x4 {
		t.Error("connection 2 masks should be handset 3 (0x4)")
	}
	if numv("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_3") != 0 || str("BS_IP_Data1.aucS_SIP_PASSWORD_3") != "" {
		t.Error("unused connection 3 not switched off and cleared")
	}
	if pf.Items["BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER"] != "0x01,0x00,0xff,0xff,0xff" {
		t.Error("codec list must be G.711 only")
	}
	if pf.Items["BS_CUSTOM.aucKdsPin[0]"] != "0x47,0x11" || numv("BS_IP_Data1.ucI_HTTPLANGUAGE") != 0xa {
		t.Error("PIN or language")
	}
	// ISO-8859-1 really: ë is one byte 0xEB; the double quotes became apostrophes.
	if !bytes.Contains(f.Body, []byte("Zo\xeb")) {
		t.Error("ë not encoded as ISO-8859-1")
	}
	if got := str("BS_IP_Data1.aucS_SIP_DISPLAYNAME_2"); got != "Jan D'Hondt &amp; 'Zoë'" && got != "Jan D'Hondt & 'Zoë'" {
		t.Errorf("display name %q", got)
	}
}

func TestNx70Content(t *testing.T) {
	d := fixtures()[5].dev
	f, err := DeviceFile(&d, testServer)
	if err != nil {
		t.Fatal(err)
	}
	nx, err := format.ParseNx70(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"SipProvider.0.Domain":              "acme.pbx.example.be",
		"SipProvider.0.ProxyServerAddress":  "sip.pbx.example.be",
		"SipProvider.0.ProxyServerPort":     "5061",
		"SipProvider.0.TransportProtocol":   "3",
		"SipAccount.00001.AuthPassword":     "pw-hall-N870-01",
		"SipAccount.00002.AuthPassword":     "pw-atelier-N870-02",
		"SipAccount.00002.VoiceMailMailbox": "*97",
		"hs.00001.DECT_AC":                  "1234",
		"DmGlobal.0.TimeZone":               "Europe/Brussels",
	} {
		if nx.Params[k] != v {
			t.Errorf("%s = %q, want %q", k, nx.Params[k], v)
		}
	}
	if len(nx.Opers) != 3 { // DeleteNotProvisionedHS + 2 add_hs
		t.Errorf("%d opers, want 3", len(nx.Opers))
	}
}

func TestUnsupportedTransportFallsBack(t *testing.T) {
	d := fixtures()[4].dev // N510: UDP only
	d.Transport = "tls"
	f, err := DeviceFile(&d, testServer)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) == 0 {
		t.Error("no warning for an unsupported transport")
	}
	pf, _ := format.ParseProviderFrame(f.Body)
	if n, _ := pf.Number("BS_IP_Data1.uiI_SIP_SERVER_PORT"); n != 5060 {
		t.Errorf("port %d, want 5060 (UDP)", n)
	}
}

func TestDeviceFileErrors(t *testing.T) {
	if _, err := DeviceFile(&Device{MAC: "805ec0000001", Model: "T99"}, testServer); err == nil {
		t.Error("unknown model accepted")
	}
	if _, err := DeviceFile(&Device{MAC: "nope", Model: "T54W"}, testServer); err == nil {
		t.Error("bad MAC accepted")
	}
}
