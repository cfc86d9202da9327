package provisioning

import (
	"fmt"
	"strings"
)

// Gigaset item values used below (vendor documentation unless noted).
const (
	// [U] Time zone index: 0x1b ("GMT+1", Amsterdam/Berlin) is what two sources
	// agree on; GS5's list alone gives 0x1d for Brussels. Both zones have the
	// same offset and the same EU daylight-saving rule, so 0x1b is chosen.
	gigasetZoneCET = 0x1b
	// Belgium in the N510 time-country list (GS5; consistent with wazo's
	// values for DE, FR, NL, UK, which match GS5's list).
	gigasetCountryBelgium = 0x6
	// G.711 A-law, mu-law, then 0xff ("none") as GS5 writes its preferred
	// list: G.722 (0x05) is not offered by our media engine.
	gigasetVocoders = "0x01,0x00,0xff,0xff,0xff"
	// [U] Re-registration period cap for the ProviderFrame bases: no NAT
	// keep-alive item is documented for the N510, so the registration itself
	// must keep a NAT binding open; 180 s is wazo's value.
	gigasetMaxReregister = 180
)

// pfWriter writes the ProviderFrame XML of N510 and N720 bases. Item IDs are
// unique per file; writing one twice is a generator bug and panics.
type pfWriter struct {
	b    strings.Builder
	seen map[string]bool
}

func newProviderFrame(mac, schema, profile string) *pfWriter {
	w := &pfWriter{seen: map[string]bool{}}
	// [U] Declared ISO-8859-1 as in every source; the body is really encoded
	// in ISO-8859-1 (see latin1), so the declaration is true whatever the
	// base expects.
	w.b.WriteString(`<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n")
	w.b.WriteString(`<ProviderFrame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="` + schema + `">` + "\n")
	w.b.WriteString("  <Provider>\n")
	// Must equal the device's MAC or the base applies nothing.
	w.b.WriteString(`    <MAC_ADDRESS value="` + strings.ToUpper(mac) + `"/>` + "\n")
	w.b.WriteString(`    <PROFILE_NAME class="string" value="` + xmlAttr(gigasetText(profile), '"') + `"/>` + "\n")
	return w
}

func (w *pfWriter) comment(format string, args ...any) {
	s := clean(fmt.Sprintf(format, args...))
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	w.b.WriteString("    <!-- " + s + " -->\n")
}

func (w *pfWriter) item(id string, value string, quoted bool) {
	if w.seen[id] {
		panic("provisioning: gigaset item written twice: " + id)
	}
	w.seen[id] = true
	if quoted {
		// Strings are double-quoted inside a single-quoted attribute, as in
		// every source: value='"text"'.
		w.b.WriteString(`    <SYMB_ITEM ID="` + id + `" class="symb_item" value='"` + xmlAttr(gigasetText(value), '\'') + `"'/>` + "\n")
		return
	}
	w.b.WriteString(`    <SYMB_ITEM ID="` + id + `" class="symb_item" value="` + value + `"/>` + "\n")
}

func (w *pfWriter) str(id, s string) { w.item(id, s, true) }
func (w *pfWriter) num(id string, n int) {
	w.item(id, fmt.Sprintf("0x%x", n), false)
}
func (w *pfWriter) raw(id, v string) { w.item(id, v, false) }

func (w *pfWriter) bytes() []byte {
	w.b.WriteString("  </Provider>\n</ProviderFrame>\n")
	return latin1(w.b.String())
}

// gigasetText prepares a string value: no control characters and no double
// quote, which would end the quoted value early (how the base would read an
// escaped one is not known), so it becomes an apostrophe.
func gigasetText(s string) string { return strings.ReplaceAll(clean(s), `"`, "'") }

// xmlAttr escapes s for an attribute delimited by quote.
func xmlAttr(s string, quote byte) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && quote == '"':
			b.WriteString("&quot;")
		case r == '\'' && quote == '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// latin1 encodes s in ISO-8859-1; characters outside it become '?'.
func latin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0x100 {
			out = append(out, byte(r))
		} else {
			out = append(out, '?')
		}
	}
	return out
}

// systemPIN writes the DECT system PIN, when the device has a valid one, to
// the provider-frame item of the base family.
func (g *gen) systemPIN(w *pfWriter, item string) {
	if g.dev.DECTPIN == "" {
		return
	}
	pin, ok := bcdPIN(g.dev.DECTPIN)
	if !ok {
		g.warn("DECT PIN is not 4 digits, left out")
		return
	}
	w.comment("System PIN for handset registration")
	w.raw(item, pin)
}

// bcdPIN encodes a 4-digit PIN as Gigaset wants it: "1234" -> "0x12,0x34".
// It reports false for anything but 4 digits.
func bcdPIN(pin string) (string, bool) {
	if len(pin) != 4 {
		return "", false
	}
	for i := 0; i < 4; i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return "", false
		}
	}
	return "0x" + pin[:2] + ",0x" + pin[2:], true
}

func (g *gen) reregister() int {
	return min(g.srv.RegisterExpires, gigasetMaxReregister)
}

func (g *gen) gigasetN510() []byte {
	s := g.srv
	w := newProviderFrame(g.mac, "N510.xsd", s.ProviderName)
	w.comment("N510 IP PRO %s. Generated by pbx from the directory on every request; do not edit.", strings.ToUpper(g.mac))
	w.comment("Provisioning: keep checking for profile updates")
	// [U] exact semantics; both sources write these two to keep provisioning
	// active after a reboot. The data server (BS_IP_Data1.aucS_DATA_SERVER) is
	// deliberately not written: whatever brought the base here (DHCP 66/114 or
	// the Gigaset redirect service) keeps working, while pointing it at us
	// would need the binary master.bin chain, which is not served.
	w.num("BS_IP_Data.ucB_AUTO_UPDATE_PROFILE", 1)
	w.num("BS_IP_Data3.ucI_ONESHOT_PROVISIONING_MODE_1", 1)
	w.comment("Time: Europe/Brussels, daylight saving automatic")
	w.str("BS_IP_Data1.aucS_TIME_NTP_SERVER", s.NTP)
	w.num("BS_IP_Data1.uiI_TIME_TIMEZONE", gigasetZoneCET)
	w.num("BS_IP_Data1.uiI_TIME_COUNTRY", gigasetCountryBelgium)
	w.num("BS_IP_Data1.ucB_TIME_USE_AUTOMATIC_DST", 1)
	// [U] No Belgian tone scheme and no agreed dialling-plan country exist in
	// the sources: BS_AE_SwConfig.ucCountryCodeTone and
	// ucI_DIALING_PLAN_COUNTRY_ID keep the base's own values.
	lang := languageOf(g.dev.Language)
	w.comment("Web interface language: %s", lang.code)
	w.num("BS_IP_Data1.ucI_HTTPLANGUAGE", lang.gigaset)
	w.comment("DTMF: RFC 2833")
	w.raw("BS_IP_Data1.ucB_DTMF_TX_MODE_AUTO", "0")
	w.raw("BS_IP_Data1.ucI_DTMF_TX_MODE_BITS", "2")
	g.systemPIN(w, "BS_CUSTOM.aucKdsPin[0]")

	// One connection per handset, connection n on the n-th handset account.
	// [U] astAccounts[i] is connection i+1 and mask bit h-1 is handset h
	// (consistent in wazo and GS5).
	hs := g.handsets()
	port := s.port(g.transport)
	for n := 1; n <= g.model.MaxAccounts; n++ {
		sfx := ""
		if n > 1 {
			sfx = fmt.Sprintf("_%d", n)
		}
		acct := fmt.Sprintf("BS_Accounts.astAccounts[%d].", n-1)
		if n > len(hs) {
			// Unused connection: off, credentials cleared (as GS5 does).
			w.comment("Connection %d: unused", n)
			w.num(fmt.Sprintf("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_%d", n), 0)
			w.str("BS_IP_Data1.aucS_SIP_USER_ID"+sfx, "")
			w.str("BS_IP_Data3.aucS_SIP_LOGIN_ID"+sfx, "")
			w.str("BS_IP_Data1.aucS_SIP_PASSWORD"+sfx, "")
			w.num(acct+"uiSendMask", 0)
			w.num(acct+"uiReceiveMask", 0)
			continue
		}
		h := hs[n-1]
		w.comment("Connection %d: handset %d, %s", n, h.slot, h.label())
		w.num(fmt.Sprintf("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_%d", n), 1)
		w.str(fmt.Sprintf("BS_IP_Data1.aucS_SIP_ACCOUNT_NAME_%d", n), h.label())
		w.str(acct+"aucAccountName[0]", h.label())
		w.str("BS_IP_Data1.aucS_SIP_DISPLAYNAME"+sfx, h.DisplayName)
		w.str("BS_IP_Data1.aucS_SIP_USER_ID"+sfx, h.SIPUsername)
		w.str("BS_IP_Data3.aucS_SIP_LOGIN_ID"+sfx, h.authName())
		w.str("BS_IP_Data1.aucS_SIP_PASSWORD"+sfx, h.SIPPassword)
		w.str("BS_IP_Data1.aucS_SIP_DOMAIN"+sfx, h.domain(s))
		w.str("BS_IP_Data1.aucS_SIP_SERVER"+sfx, s.Host)
		w.num("BS_IP_Data1.uiI_SIP_SERVER_PORT"+sfx, port)
		w.str("BS_IP_Data1.aucS_SIP_REGISTRAR"+sfx, s.Host)
		w.num("BS_IP_Data1.uiI_SIP_REGISTRAR_PORT"+sfx, port)
		w.num("BS_IP_Data1.uiI_RE_REGISTRATION_TIMER"+sfx, g.reregister())
		w.str("BS_IP_Data1.aucS_OUTBOUND_PROXY"+sfx, "")
		w.num("BS_IP_Data1.ucB_SIP_USE_STUN"+sfx, 0)
		w.str("BS_IP_Data1.aucS_SIP_PROVIDER_NAME"+sfx, s.ProviderName)
		w.raw("BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER"+sfx, gigasetVocoders)
		w.str(fmt.Sprintf("BS_IP_Data1.aucS_VOIP_NET_AM_NUMBER_%d", n), s.VoicemailNumber)
		w.num(fmt.Sprintf("BS_IP_Data1.ucB_VOIP_NET_AM_ENABLED_%d", n), 1)
		w.num(acct+"uiSendMask", 1<<(h.slot-1))
		w.num(acct+"uiReceiveMask", 1<<(h.slot-1))
		w.str(fmt.Sprintf("BS_AE_Subscriber.stMtDat[%d].aucTlnName", h.slot-1), h.label())
	}
	g.gigasetNetdir(w)
	return w.bytes()
}

// providerProfiles groups accounts by SIP domain: Gigaset multicell and Nx70
// bases keep server settings in shared provider profiles. Index order follows
// the first account of each domain.
func providerProfiles(hs []handsetAccount, s Server) (domains []string, index map[string]int) {
	index = map[string]int{}
	for _, h := range hs {
		d := h.domain(s)
		if _, ok := index[d]; !ok {
			index[d] = len(domains)
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		domains = []string{s.Host}
		index[s.Host] = 0
	}
	return domains, index
}

// gigasetN720 follows wazo's N720 template (the only source):
// SIP accounts in BS_VOIP_Data.astVoipAccounts[i], servers in provider
// profiles, base-wide items under BS_IP_Data. [U] Account index i is taken to
// be handset slot i+1.
func (g *gen) gigasetN720() []byte {
	s := g.srv
	w := newProviderFrame(g.mac, "N720_general.xsd", s.ProviderName)
	w.comment("N720 DM PRO %s. Generated by pbx from the directory on every request; do not edit.", strings.ToUpper(g.mac))
	w.comment("Provisioning: keep checking for profile updates")
	w.raw("BS_IP_Data.ucB_DO_CHECK_FOR_PROFILE_UPDATES", "1")
	w.comment("Time: Europe/Brussels, daylight saving automatic")
	w.str("BS_IP_Data.aucS_TIME_NTP_SERVER[%]", s.NTP)
	w.raw("BS_IP_Data.ucB_TIME_USE_AUTOMATIC_NTP_SYN", "1")
	w.num("BS_IP_Data.uiI_TIME_TIMEZONE", gigasetZoneCET)
	w.raw("BS_IP_Data.ucB_TIME_USE_AUTOMATIC_DST", "1")
	// [U] The time-country list of the N720 is not documented (wazo writes
	// 0xff "TO CHANGE"): left at the base's value.
	lang := languageOf(g.dev.Language)
	w.comment("Web interface language: %s", lang.code)
	w.num("BS_IP_Data.ucI_HTTPLANGUAGE", lang.gigaset)
	g.systemPIN(w, "BS_CUSTOM.aucKdsPin[%]")
	hs := g.handsets()
	domains, index := providerProfiles(hs, s)
	port := s.port(g.transport)
	for p, d := range domains {
		pp := fmt.Sprintf("BS_VOIP_Data.astVoipProviders[%d].", p)
		w.comment("Provider profile %d: %s", p, d)
		if p == 0 {
			w.raw(pp+"ucONESHOT_PROVISIONING_MODE_1", "1")
		}
		w.str(pp+"aucSIP_PROVIDER_NAME[%]", s.ProviderName)
		w.str(pp+"aucSIP_DOMAIN[%]", d)
		w.str(pp+"aucSIP_SERVER[%]", s.Host)
		w.num(pp+"uiSIP_SERVER_PORT", port)
		w.str(pp+"aucSIP_REGISTRAR[%]", s.Host)
		w.num(pp+"uiSIP_REGISTRAR_PORT", port)
		w.num(pp+"uiRE_REGISTRATION_TIMER", g.reregister())
		w.raw(pp+"ucSIP_PREFERRED_TRANSPORT_LAYER", "17") // UDP, the only documented value
	}
	bySlot := map[int]handsetAccount{}
	for _, h := range hs {
		bySlot[h.slot] = h
	}
	for slot := 1; slot <= g.model.MaxHandsets; slot++ {
		ap := fmt.Sprintf("BS_VOIP_Data.astVoipAccounts[%d].", slot-1)
		h, ok := bySlot[slot]
		if !ok {
			w.raw(ap+"ucB_SIP_ACCOUNT_IS_ACTIVE_1", "0")
			w.str(ap+"aucS_SIP_PASSWORD[0]", "")
			continue
		}
		w.comment("Handset %d: %s", slot, h.label())
		w.raw(ap+"ucB_SIP_ACCOUNT_IS_ACTIVE_1", "1")
		w.raw(ap+"ucVoipProviderIndex", fmt.Sprint(index[h.domain(s)]))
		w.str(ap+"aucS_SIP_DISPLAYNAME[0]", h.DisplayName)
		w.str(ap+"aucS_SIP_USER_ID[0]", h.SIPUsername)
		w.str(ap+"aucS_SIP_LOGIN_ID[0]", h.authName())
		w.str(ap+"aucS_SIP_PASSWORD[0]", h.SIPPassword)
		w.str(ap+"aucS_VOIP_NET_AM_NUMBER_1[%]", s.VoicemailNumber)
		w.raw(ap+"ucB_VOIP_NET_AM_ENABLED_1", "1")
		// [U] per-account codec list, same layout as the N510's.
		w.raw(ap+"aucI_SIP_PREFERRED_VOCODER[%]", gigasetVocoders)
	}
	g.gigasetNetdir(w)
	return w.bytes()
}
