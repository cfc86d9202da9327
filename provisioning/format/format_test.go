package format

import (
	"strings"
	"testing"
)

func TestParseYealinkAccepts(t *testing.T) {
	in := "#!version:1.0.0.1\n" +
		"# comment\n" +
		"\n" +
		"account.1.enable = 1\n" +
		"account.1.label=Alice Peeters\n" +
		"account.1.sip_server.1.port = 5061\n" +
		"account.2.password = %NULL%\n" +
		"static.security.user_password = admin:x\n" +
		"static.security.user_password = user:y\n" +
		"local_time.time_zone = +1\n" +
		"linekey.3.type = 16\n"
	cfg, err := ParseYealink([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Values["account.1.label"] != "Alice Peeters" || len(cfg.Keys) != 8 {
		t.Errorf("parsed %v", cfg.Values)
	}
}

func TestParseYealinkRejects(t *testing.T) {
	const h = "#!version:1.0.0.1\n"
	for name, in := range map[string]string{
		"no header":          "account.1.enable = 1\n",
		"header not first":   "# x\n" + h,
		"duplicate key":      h + "account.1.enable = 1\naccount.1.enable = 0\n",
		"duplicate web user": h + "static.security.user_password = admin:x\nstatic.security.user_password = admin:y\n",
		"unknown key":        h + "account.1.enabel = 1\n",
		"bool not bool":      h + "account.1.enable = yes\n",
		"port not number":    h + "account.1.sip_server.1.port = 50a\n",
		"port out of range":  h + "account.1.sip_server.1.port = 70000\n",
		"index out of range": h + "account.17.enable = 1\n",
		"transport enum":     h + "account.1.sip_server.1.transport_type = 7\n",
		"bad host":           h + "account.1.sip_server.1.address = sip example\n",
		"bad dial":           h + "voice_mail.number.1 = call me\n",
		"bad url":            h + "static.auto_provision.server.url = ftp://x/\n",
		"url with creds":     h + "static.auto_provision.server.url = https://u:p@x/\n",
		"no equals":          h + "account.1.enable\n",
		"CRLF":               "#!version:1.0.0.1\r\naccount.1.enable = 1\r\n",
		"no final newline":   h + "account.1.enable = 1",
		"upper-case key":     h + "Account.1.enable = 1\n",
		"control char":       h + "account.1.label = a\x01b\n",
		"bad zone offset":    h + "local_time.time_zone = +25\n",
		"bad language":       h + "lang.gui = Klingon\n",
		"leading zero":       h + "account.01.enable = 1\n",
	} {
		if _, err := ParseYealink([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

const pfHead = `<?xml version="1.0" encoding="ISO-8859-1"?>
<ProviderFrame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="N510.xsd">
  <Provider>
    <MAC_ADDRESS value="7C2F80123456"/>
    <PROFILE_NAME class="string" value="PBX"/>
`
const pfTail = "  </Provider>\n</ProviderFrame>\n"

func TestParseProviderFrameAccepts(t *testing.T) {
	in := pfHead +
		`    <!-- comment -->
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD" class="symb_item" value='"s3cret"'/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_DISPLAYNAME_2" class="symb_item" value='"D&apos;Hondt &amp; Zo` + "\xeb" + `"'/>
    <SYMB_ITEM ID="BS_IP_Data1.uiI_SIP_SERVER_PORT" class="symb_item" value="0x13c4"/>
    <SYMB_ITEM ID="BS_IP_Data1.uiI_SIP_REGISTRAR_PORT_2" class="symb_item" value="5060"/>
    <SYMB_ITEM ID="BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER" class="symb_item" value="0x01,0x00,0xff,0xff,0xff"/>
    <SYMB_ITEM ID="BS_CUSTOM.aucKdsPin[0]" class="symb_item" value="0x47,0x11"/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_OUTBOUND_PROXY" class="symb_item" value='""'/>
` + pfTail
	pf, err := ParseProviderFrame([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := pf.String("BS_IP_Data1.aucS_SIP_DISPLAYNAME_2"); s != "D'Hondt & Zoë" {
		t.Errorf("display name %q", s)
	}
	if n, _ := pf.Number("BS_IP_Data1.uiI_SIP_SERVER_PORT"); n != 5060 {
		t.Errorf("port %d", n)
	}
	if pf.MAC != "7C2F80123456" || pf.Schema != "N510.xsd" {
		t.Errorf("MAC %q schema %q", pf.MAC, pf.Schema)
	}
}

func TestParseProviderFrameRejects(t *testing.T) {
	item := func(id, v string) string {
		return `    <SYMB_ITEM ID="` + id + `" class="symb_item" value='` + v + `'/>` + "\n"
	}
	for name, in := range map[string]string{
		"duplicate item": pfHead + item("BS_IP_Data1.aucS_SIP_PASSWORD", `"a"`) + item("BS_IP_Data1.aucS_SIP_PASSWORD", `"b"`) + pfTail,
		"unknown item":   pfHead + item("BS_IP_Data1.aucS_SIP_PASSWORDS", `"a"`) + pfTail,
		// Connection 1 items carry no suffix (vendor documentation).
		"suffix _1":         pfHead + item("BS_IP_Data1.aucS_SIP_PASSWORD_1", `"a"`) + pfTail,
		"unquoted string":   pfHead + item("BS_IP_Data1.aucS_SIP_PASSWORD", `a`) + pfTail,
		"quote inside":      pfHead + item("BS_IP_Data1.aucS_SIP_PASSWORD", `"a"b"`) + pfTail,
		"port text":         pfHead + item("BS_IP_Data1.uiI_SIP_SERVER_PORT", `"5060"`) + pfTail,
		"port zero":         pfHead + item("BS_IP_Data1.uiI_SIP_SERVER_PORT", `0x0`) + pfTail,
		"bool 2":            pfHead + item("BS_IP_Data1.ucB_SIP_USE_STUN", `0x2`) + pfTail,
		"unknown codec":     pfHead + item("BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER", `0x01,0x09`) + pfTail,
		"codec twice":       pfHead + item("BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER", `0x01,0x01`) + pfTail,
		"pin not BCD":       pfHead + item("BS_CUSTOM.aucKdsPin[0]", `0x4a,0x11`) + pfTail,
		"bad host":          pfHead + item("BS_IP_Data1.aucS_SIP_SERVER", `"a b"`) + pfTail,
		"wrong class":       strings.Replace(pfHead+item("BS_IP_Data1.ucB_SIP_USE_STUN", `0`)+pfTail, `class="symb_item"`, `class="x"`, 1),
		"lower-case MAC":    strings.Replace(pfHead+pfTail, "7C2F80123456", "7c2f80123456", 1),
		"no MAC":            strings.Replace(pfHead+pfTail, `<MAC_ADDRESS value="7C2F80123456"/>`, "", 1),
		"not well-formed":   pfHead + `<SYMB_ITEM ID="x"` + pfTail,
		"unknown element":   pfHead + "<FOO/>\n" + pfTail,
		"text content":      pfHead + "hello\n" + pfTail,
		"utf-8 in latin1":   pfHead + item("BS_IP_Data1.aucS_SIP_DISPLAYNAME", "\"Zo\xc3\xab\"") + pfTail,
		"utf-8 declaration": strings.Replace(pfHead+pfTail, "ISO-8859-1", "UTF-8", 1),
		"no declaration":    strings.SplitN(pfHead+pfTail, "\n", 2)[1],
		"attribute twice":   pfHead + `<SYMB_ITEM ID="BS_IP_Data1.ucB_SIP_USE_STUN" ID="x" class="symb_item" value="0"/>` + pfTail,
	} {
		if _, err := ParseProviderFrame([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

const nxHead = `<?xml version="1.0" encoding="UTF-8"?>
<provisioning version="1.1" productID="e2">
  <nvm>
`
const nxTail = "  </nvm>\n</provisioning>\n"

func TestParseNx70(t *testing.T) {
	ok := nxHead + `    <oper name="DeleteNotProvisionedHS"/>
    <param name="DmGlobal.0.TimeZone" value="Europe/Brussels"/>
    <param name="SipProvider.0.ProxyServerPort" value="5061"/>
    <oper name="add_hs" value="00001"><param name="hs.RegStatus" value="ToReg"/></oper>
    <param name="SipAccount.00001.AuthName" value="210"/>
    <param name="SipAccount.00001.AuthPassword" value="s3&quot;cret"/>
` + nxTail
	nx, err := ParseNx70([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if nx.Params["SipAccount.00001.AuthPassword"] != `s3"cret` || len(nx.Opers) != 2 {
		t.Errorf("parsed %v %v", nx.Params, nx.Opers)
	}
	param := func(n, v string) string { return `    <param name="` + n + `" value="` + v + `"/>` + "\n" }
	for name, in := range map[string]string{
		"duplicate param": nxHead + param("DmGlobal.0.NtpServer", "a.b") + param("DmGlobal.0.NtpServer", "c.d") + nxTail,
		"unknown param":   nxHead + param("DmGlobal.0.NtpServers", "a.b") + nxTail,
		"port text":       nxHead + param("SipProvider.0.ProxyServerPort", "x") + nxTail,
		"transport 9":     nxHead + param("SipProvider.0.TransportProtocol", "9") + nxTail,
		"slot 4 digits":   nxHead + param("SipAccount.0001.AuthName", "a") + nxTail,
		"bad zone":        nxHead + param("DmGlobal.0.TimeZone", "CET+1") + nxTail,
		"DECT code":       nxHead + param("hs.00001.DECT_AC", "12a4") + nxTail,
		"unknown oper":    nxHead + `<oper name="reboot"/>` + nxTail,
		"oper twice":      nxHead + `<oper name="add_hs" value="00001"/><oper name="add_hs" value="00001"/>` + nxTail,
		"bad version":     strings.Replace(nxHead+nxTail, `version="1.1"`, `version="2"`, 1),
		"no nvm":          `<?xml version="1.0" encoding="UTF-8"?>` + "\n<provisioning version=\"1.1\" productID=\"e2\"/>\n",
		"invalid utf-8":   nxHead + param("SipAccount.00001.DisplayName", "Zo\xeb") + nxTail,
		"doctype":         strings.Replace(nxHead+nxTail, "<provisioning", "<!DOCTYPE x><provisioning", 1),
	} {
		if _, err := ParseNx70([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
