package provisioning

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestCatalogueCoversTheIssue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		family Family
		common string
	}{
		{"T42", FamilyYealinkT4x, "y000000000029.cfg"},
		{"T46", FamilyYealinkT4x, "y000000000066.cfg"},
		{"T48", FamilyYealinkT4x, "y000000000109.cfg"},
		{"SIP-T46S", FamilyYealinkT4x, "y000000000066.cfg"},
		{"T53", FamilyYealinkT5x, "y000000000095.cfg"},
		{"t53w", FamilyYealinkT5x, "y000000000095.cfg"},
		{"Yealink T54W", FamilyYealinkT5x, "y000000000096.cfg"},
		{"T57W", FamilyYealinkT5x, "y000000000097.cfg"},
		{"T58W", FamilyYealinkT5x, "y000000000150.cfg"},
		{"CP925", FamilyYealinkCP, "y000000000148.cfg"},
		{"CP965", FamilyYealinkCP, "y000000000143.cfg"},
		{"N510 IP PRO", FamilyGigasetN510, ""},
		{"Gigaset N720 DM PRO", FamilyGigasetN720, ""},
		{"N670", FamilyGigasetNx70, ""},
		{"N870 IP PRO", FamilyGigasetNx70, ""},
		{"N860 IP PRO", FamilyGigasetN860, ""},
		{"Yealink W73P", FamilyYealinkDECT, "y000000000146.cfg"},
		{"WP820", FamilyGrandstreamWP, ""},
		{"Grandstream WP822", FamilyGrandstreamWP, ""},
		{"wp825", FamilyGrandstreamWP, ""},
		{"HT801", FamilyGrandstreamHT, ""},
		{"HT802V2", FamilyGrandstreamHT, ""},
	} {
		m, ok := LookupModel(tc.name)
		if !ok {
			t.Errorf("%s: not in the catalogue", tc.name)
			continue
		}
		if m.Family != tc.family {
			t.Errorf("%s: family %s, want %s", tc.name, m.Family, tc.family)
		}
		if tc.common != "" && !strings.Contains(strings.Join(m.CommonFiles, " "), tc.common) {
			t.Errorf("%s: common files %v lack %s", tc.name, m.CommonFiles, tc.common)
		}
		if m.MaxAccounts < 1 || (m.Vendor == Gigaset && m.MaxHandsets < 1) {
			t.Errorf("%s: limits %+v", tc.name, m)
		}
	}
	for _, bad := range []string{"", "T99", "N999", "W60B"} {
		if _, ok := LookupModel(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	// LookupModel hands out copies.
	m, _ := LookupModel("T46")
	m.CommonFiles[0] = "changed"
	if m2, _ := LookupModel("T46"); m2.CommonFiles[0] == "changed" {
		t.Error("catalogue mutated through LookupModel")
	}
}

func TestHandsetCatalogue(t *testing.T) {
	for _, tc := range []struct {
		handset, base string
		fits          bool
	}{
		{"R650H PRO", "N860", true}, {"R700H", "N870", true}, {"gigaset SL750H", "N510", true}, {"SL800H", "N720", true},
		{"W73H", "W73P", true}, {"W73H", "N860", false}, {"R700H", "W73P", false}, {"SL800H", "T54W", false},
		{"S650H", "N860", false}, {"W73H", "nonexistent", false},
	} {
		if got := HandsetFits(tc.handset, tc.base); got != tc.fits {
			t.Errorf("%s on %s: %v, want %v", tc.handset, tc.base, got, tc.fits)
		}
	}
	for model, want := range map[string][2]bool{"W73P": {true, false}, "N860": {true, false}, "HT802": {false, true}, "WP820": {false, false}, "T54W": {false, false}} {
		m, _ := LookupModel(model)
		if m.IsDECT() != want[0] || m.HasPorts() != want[1] {
			t.Errorf("%s: DECT %v ports %v", model, m.IsDECT(), m.HasPorts())
		}
	}
}

func TestNormalizeMAC(t *testing.T) {
	for in, want := range map[string]string{
		"805EC0A1B2C3":      "805ec0a1b2c3",
		"80:5e:c0:a1:b2:c3": "805ec0a1b2c3",
		"80-5E-C0-A1-B2-C3": "805ec0a1b2c3",
	} {
		if got, err := NormalizeMAC(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "805ec0a1b2c", "805ec0a1b2c3d", "805ec0a1b2cg", "../805ec0a1b2"} {
		if _, err := NormalizeMAC(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseUserAgent(t *testing.T) {
	for _, tc := range []struct {
		ua          string
		vendor      Vendor
		model, mac  string
		wantNoMatch bool
	}{
		{ua: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3", vendor: Yealink, model: "T54W", mac: "805ec0a1b2c3"},
		{ua: "Yealink SIP-T56A  58.80.0.25 001565f429a4", vendor: Yealink, model: "T56A", mac: "001565f429a4"},
		{ua: "yealink SIP-T46G 28.83.0.50 00:15:65:12:34:56", vendor: Yealink, model: "T46G", mac: "001565123456"},
		{ua: "Yealink W60B 77.81.0.35 80:5e:c0:09:ab:dc", vendor: Yealink, model: "W60B", mac: "805ec009abdc"},
		{ua: "Yealink CP960 73.83.0.30 00:15:65:8a:37:86", vendor: Yealink, model: "CP960", mac: "0015658a3786"},
		{ua: "N510 IP PRO/42.262.00.000.000;7C2F80123456", vendor: Gigaset, model: "N510 IP PRO", mac: "7c2f80123456"},
		{ua: "N510 IP PRO/42.258.00.000.000", vendor: Gigaset, model: "N510 IP PRO"},
		{ua: "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4", vendor: Gigaset, model: "N720 DM PRO", mac: "7c2f80ca21e4"},
		{ua: "N720-DM-PRO/70.040.00.000.000", vendor: Gigaset, model: "N720-DM-PRO"},
		{ua: "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605;Handset=2", vendor: Gigaset, model: "N870 IP PRO", mac: "7c2f80e0d605"},
		{ua: "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10", vendor: Grandstream, model: "HT801", mac: "c074ad273a10"},
		{ua: "Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419", vendor: Grandstream, model: "HT802V2", mac: "ec74d763e419"},
		{ua: "Grandstream Model HW WP820 SW 1.0.7.81 DevId c074ad000820", vendor: Grandstream, model: "WP820", mac: "c074ad000820"},
		{ua: "Gigaset N860 IP PRO/83.V2.60.0+build.1234567;7C2F80086001", vendor: Gigaset, model: "N860 IP PRO", mac: "7c2f80086001"},
		{ua: "Yealink W73P 146.85.0.20 80:5e:c0:00:00:73", vendor: Yealink, model: "W73P", mac: "805ec0000073"},
		{ua: "curl/8.0", wantNoMatch: true},
	} {
		got := parseUserAgent(tc.ua)
		if tc.wantNoMatch {
			if got != (userAgent{}) {
				t.Errorf("%q: parsed %+v", tc.ua, got)
			}
			continue
		}
		if got.vendor != tc.vendor || got.model != tc.model || got.mac != tc.mac {
			t.Errorf("%q: %+v", tc.ua, got)
		}
		if m, ok := LookupModel(got.model); ok && !strings.HasPrefix(modelKey(got.model), m.Name) {
			t.Errorf("%q: model key %q vs %q", tc.ua, modelKey(got.model), m.Name)
		}
	}
}

func TestNewCredentials(t *testing.T) {
	c, err := NewCredentials("80:5E:C0:A1:B2:C3")
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "805ec0a1b2c3" {
		t.Errorf("username %q", c.Username)
	}
	if len(c.Password) != 24 || strings.ContainsAny(c.Password, "0o1lIi") {
		t.Errorf("password %q", c.Password)
	}
	md := md5.Sum([]byte(c.Username + ":" + Realm + ":" + c.Password))
	sh := sha256.Sum256([]byte(c.Username + ":" + Realm + ":" + c.Password))
	if c.HA1MD5 != hex.EncodeToString(md[:]) || c.HA1SHA256 != hex.EncodeToString(sh[:]) {
		t.Error("HA1 values")
	}
	if !strings.HasPrefix(string(c.PasswordHash), "pbkdf2-sha256$") || strings.Contains(string(c.PasswordHash), c.Password) {
		t.Errorf("hash %q", c.PasswordHash)
	}
	if !verifyPassword(c.PasswordHash, c.Password) || verifyPassword(c.PasswordHash, c.Password+"x") {
		t.Error("verifyPassword")
	}
	if verifyPassword([]byte("garbage"), c.Password) {
		t.Error("garbage hash accepted")
	}
	c2, _ := NewCredentials("805ec0a1b2c3")
	if c2.Password == c.Password || string(c2.PasswordHash) == string(c.PasswordHash) {
		t.Error("credentials repeat")
	}
	if _, err := NewCredentials("nope"); err == nil {
		t.Error("bad MAC accepted")
	}
}

func TestProvisioningURL(t *testing.T) {
	yl, _ := LookupModel("T54W")
	gs, _ := LookupModel("N510")
	if u, err := ProvisioningURL("https://prov.example.be/prov", yl, "80:5e:c0:a1:b2:c3"); err != nil || u != "https://prov.example.be/prov/" {
		t.Errorf("Yealink: %q %v", u, err)
	}
	if u, err := ProvisioningURL("https://prov.example.be/prov/", gs, "7c2f80a1b2c3"); err != nil || u != "https://prov.example.be/prov/7C2F80A1B2C3.xml" {
		t.Errorf("Gigaset: %q %v", u, err)
	}
	if _, err := ProvisioningURL("prov.example.be", yl, "805ec0a1b2c3"); err == nil {
		t.Error("URL without scheme accepted")
	}
}

func TestLimiterSweeps(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(RateLimit{PerSecond: 10, Burst: 10}, func() time.Time { return now })
	for i := 0; i < 100; i++ {
		l.allow(string(rune('a' + i%26)))
	}
	now = now.Add(2 * time.Minute)
	l.allow("z")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets after sweep, want 1", len(l.buckets))
	}
	if newLimiter(RateLimit{PerSecond: -1}, time.Now) != nil {
		t.Error("negative rate should disable")
	}
	var off *limiter
	if ok, _ := off.allow("x"); !ok {
		t.Error("disabled limiter refused")
	}
}

func TestParseAuthParams(t *testing.T) {
	p, err := parseAuthParams(`username="805ec0a1b2c3", realm="pbx-provisioning", nonce="abc", uri="/prov/x.cfg", qop=auth, nc=00000001, cnonce="a\"b", response="f00"`)
	if err != nil {
		t.Fatal(err)
	}
	if p["qop"] != "auth" || p["cnonce"] != `a"b` || p["uri"] != "/prov/x.cfg" {
		t.Errorf("%v", p)
	}
	for _, bad := range []string{`username`, `username="x`, `a=1, a=2`} {
		if _, err := parseAuthParams(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNewHandlerNeedsDirectory(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic without a Directory")
		}
	}()
	NewHandler(Options{})
}

func TestModelValidate(t *testing.T) {
	cp, _ := LookupModel("CP965")
	if cp.Validate(1, "tls") != nil || cp.Validate(2, "") == nil {
		t.Error("CP965 holds one account")
	}
	n510, _ := LookupModel("N510")
	if n510.Validate(6, "udp") != nil || n510.Validate(1, "tls") == nil {
		t.Error("N510: 6 accounts, UDP only")
	}
}

func TestDeviceFileNeedsHost(t *testing.T) {
	d := fixtures()[1].dev
	if _, err := DeviceFile(&d, Server{}); err == nil {
		t.Error("file generated without a server host")
	}
}
