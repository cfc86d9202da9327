package format

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ProviderFrame is a parsed N510 / N720 file.
type ProviderFrame struct {
	Schema      string            // xsi:noNamespaceSchemaLocation
	MAC         string            // MAC_ADDRESS value
	ProfileName string            // PROFILE_NAME value
	IDs         []string          // SYMB_ITEM IDs in file order
	Items       map[string]string // ID -> value attribute as written (strings keep their quotes)
}

// String returns the text of a string item without its double quotes.
func (p *ProviderFrame) String(id string) (string, bool) {
	v, ok := p.Items[id]
	if !ok || len(v) < 2 {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// Number returns the value of a numeric item (hex "0x.." or decimal).
func (p *ProviderFrame) Number(id string) (int, bool) {
	v, ok := p.Items[id]
	if !ok {
		return 0, false
	}
	n, err := parseNum(v)
	return n, err == nil
}

// itemCheck validates a SYMB_ITEM value as written.
type itemCheck func(v string) error

func parseNum(v string) (int, error) {
	if h, ok := strings.CutPrefix(v, "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 32)
		if err != nil || h == "" {
			return 0, fmt.Errorf("%q is not a hex number", v)
		}
		return int(n), nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != v {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	return int(n), nil
}

func num(lo, hi int) itemCheck {
	return func(v string) error {
		n, err := parseNum(v)
		if err != nil {
			return err
		}
		if n < lo || n > hi {
			return fmt.Errorf("%s outside %d..%d", v, lo, hi)
		}
		return nil
	}
}

func oneOf(values ...int) itemCheck {
	return func(v string) error {
		n, err := parseNum(v)
		if err != nil {
			return err
		}
		for _, x := range values {
			if n == x {
				return nil
			}
		}
		return fmt.Errorf("%s not one of %v", v, values)
	}
}

// quoted checks a string item: "..." with no double quote inside, and the
// inner text checked by c (nil: any text without control characters).
func quoted(c check, allowEmpty bool) itemCheck {
	return func(v string) error {
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return fmt.Errorf("string %s is not in double quotes", v)
		}
		in := v[1 : len(v)-1]
		if strings.Contains(in, `"`) {
			return fmt.Errorf("double quote inside string %s", v)
		}
		if in == "" {
			if allowEmpty {
				return nil
			}
			return errors.New("empty string")
		}
		if c == nil {
			return text(in)
		}
		return c(in)
	}
}

var byteList = regexp.MustCompile(`^0x[0-9a-fA-F]{2}(,0x[0-9a-fA-F]{2})*$`)

// vocoders checks a codec list: codes 0 G.711u, 1 G.711A, 2 G.726, 3 G.729,
// 5 G.722, 0xff none; at most 5, no code twice.
func vocoders(v string) error {
	if !byteList.MatchString(v) {
		return fmt.Errorf("%q is not a byte list", v)
	}
	seen := map[int]bool{}
	parts := strings.Split(v, ",")
	if len(parts) > 5 {
		return fmt.Errorf("%d codecs, at most 5", len(parts))
	}
	for _, p := range parts {
		n, _ := parseNum(strings.ToLower(p))
		switch n {
		case 0, 1, 2, 3, 5:
			if seen[n] {
				return fmt.Errorf("codec 0x%02x twice", n)
			}
			seen[n] = true
		case 0xff:
		default:
			return fmt.Errorf("unknown codec 0x%02x", n)
		}
	}
	return nil
}

// bcdPIN checks a 4-digit PIN in BCD: 0x12,0x34.
var bcdRe = regexp.MustCompile(`^0x[0-9]{2},0x[0-9]{2}$`)

func bcdPIN(v string) error {
	if !bcdRe.MatchString(v) {
		return fmt.Errorf("%q is not a BCD PIN", v)
	}
	return nil
}

type itemPattern struct {
	re    *regexp.Regexp
	check itemCheck
}

func item(re string, c itemCheck) itemPattern {
	return itemPattern{regexp.MustCompile(`^` + re + `$`), c}
}

var (
	bit        = num(0, 1)
	u8         = num(0, 255)
	u16        = num(0, 65535)
	itemPort   = num(1, 65535)
	anyStr     = quoted(nil, true)
	hostStr    = quoted(host, false)
	hostOrNone = quoted(host, true)
	dialStr    = quoted(dial, false)
	langs      = oneOf(0x1, 0x2, 0x4, 0x7, 0x9, 0xa, 0x10, 0x11)
)

// conn matches the N510 connection suffix rule: no suffix for connection 1,
// _2.._6 for the others (vendor documentation).
const conn = `(_[2-6])?`

// providerItems is the typed table of known SYMB_ITEM IDs (vendor documentation and
// 3.6; N720 items from wazo's template).
var providerItems = []itemPattern{
	// N510, base-wide
	item(`BS_IP_Data\.ucB_AUTO_UPDATE_PROFILE`, bit),
	item(`BS_IP_Data3\.ucI_ONESHOT_PROVISIONING_MODE_1`, u8),
	item(`BS_IP_Data1\.aucS_TIME_NTP_SERVER`, hostStr),
	item(`BS_IP_Data1\.uiI_TIME_TIMEZONE`, num(0, 0x50)),
	item(`BS_IP_Data1\.uiI_TIME_COUNTRY`, u8),
	item(`BS_IP_Data1\.ucB_TIME_USE_AUTOMATIC_DST`, bit),
	item(`BS_IP_Data1\.ucI_HTTPLANGUAGE`, langs),
	item(`BS_IP_Data1\.ucB_DTMF_TX_MODE_AUTO`, bit),
	item(`BS_IP_Data1\.ucI_DTMF_TX_MODE_BITS`, num(1, 7)),
	item(`BS_IP_Data1\.ucB_ACCEPT_FOREIGN_SUBNET`, bit),
	item(`BS_IP_Data1\.ucI_DIALING_PLAN_COUNTRY_ID`, u8),
	item(`BS_AE_SwConfig\.ucCountryCodeTone`, u8),
	item(`BS_CUSTOM\.aucKdsPin\[0\]`, bcdPIN),
	// Online directory (N510 and N720; Gigaset wiki phonebook page, wazo).
	item(`BS_XML_Netdirs\.astNetdirProvider\[0\]\.aucServerURL\[0\]`, quoted(httpURL, false)),
	// N510, per connection
	item(`BS_IP_Data1\.ucB_SIP_ACCOUNT_IS_ACTIVE_[1-6]`, bit),
	item(`BS_IP_Data1\.aucS_SIP_ACCOUNT_NAME_[1-6]`, anyStr),
	item(`BS_IP_Data1\.aucS_VOIP_NET_AM_NUMBER_[1-6]`, dialStr),
	item(`BS_IP_Data1\.ucB_VOIP_NET_AM_ENABLED_[1-6]`, bit),
	item(`BS_IP_Data1\.aucS_SIP_(DISPLAYNAME|USER_ID|PASSWORD|PROVIDER_NAME)`+conn, anyStr),
	item(`BS_IP_Data3\.aucS_SIP_LOGIN_ID`+conn, anyStr),
	item(`BS_IP_Data1\.aucS_SIP_(DOMAIN|SERVER|REGISTRAR)`+conn, hostStr),
	item(`BS_IP_Data1\.aucS_(OUTBOUND_PROXY|STUN_SERVER)`+conn, hostOrNone),
	item(`BS_IP_Data1\.uiI_(SIP_SERVER_PORT|SIP_REGISTRAR_PORT|OUTBOUND_PROXY_PORT|STUN_SERVER_PORT)`+conn, itemPort),
	item(`BS_IP_Data1\.uiI_(RE_REGISTRATION_TIMER|RE_STUN_TIMER)`+conn, num(1, 65535)),
	item(`BS_IP_Data1\.ucB_SIP_USE_STUN`+conn, bit),
	item(`BS_IP_Data1\.ucI_SIP_PREFERRED_VOCODER`+conn, vocoders),
	item(`BS_Accounts\.astAccounts\[[0-5]\]\.aucAccountName\[0\]`, anyStr),
	item(`BS_Accounts\.astAccounts\[[0-5]\]\.ui(Send|Receive)Mask`, num(0, 0x3f)),
	item(`BS_AE_Subscriber\.stMtDat\[[0-5]\]\.aucTlnName`, anyStr),
	// N720, base-wide
	item(`BS_IP_Data\.ucB_DO_CHECK_FOR_PROFILE_UPDATES`, bit),
	item(`BS_IP_Data\.aucS_TIME_NTP_SERVER\[%\]`, hostStr),
	item(`BS_IP_Data\.ucB_TIME_USE_AUTOMATIC_NTP_SYN`, bit),
	item(`BS_IP_Data\.uiI_TIME_TIMEZONE`, num(0, 0x50)),
	item(`BS_IP_Data\.ucB_TIME_USE_AUTOMATIC_DST`, bit),
	item(`BS_IP_Data\.ucI_HTTPLANGUAGE`, langs),
	item(`BS_CUSTOM\.aucKdsPin\[%\]`, bcdPIN),
	// N720, provider profiles
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.ucONESHOT_PROVISIONING_MODE_1`, u8),
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.aucSIP_PROVIDER_NAME\[%\]`, anyStr),
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.aucSIP_(DOMAIN|SERVER|REGISTRAR)\[%\]`, hostStr),
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.ui(SIP_SERVER_PORT|SIP_REGISTRAR_PORT)`, itemPort),
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.uiRE_REGISTRATION_TIMER`, num(1, 65535)),
	item(`BS_VOIP_Data\.astVoipProviders\[[0-9]\]\.ucSIP_PREFERRED_TRANSPORT_LAYER`, oneOf(17)),
	// N720, accounts 0..99
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.ucB_SIP_ACCOUNT_IS_ACTIVE_1`, bit),
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.ucVoipProviderIndex`, num(0, 9)),
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.aucS_SIP_(DISPLAYNAME|USER_ID|LOGIN_ID|PASSWORD)\[0\]`, anyStr),
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.aucS_VOIP_NET_AM_NUMBER_1\[%\]`, dialStr),
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.ucB_VOIP_NET_AM_ENABLED_1`, bit),
	item(`BS_VOIP_Data\.astVoipAccounts\[([0-9]|[1-9][0-9])\]\.aucI_SIP_PREFERRED_VOCODER\[%\]`, vocoders),
}

var macUpper = regexp.MustCompile(`^[0-9A-F]{12}$`)

// charsetReader decodes ISO-8859-1 for encoding/xml.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)*2)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	case "utf-8":
		return in, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

var xmlDecl = regexp.MustCompile(`^<\?xml version="1\.0" encoding="([A-Za-z0-9-]+)"\?>\n`)

// startDoc checks the XML declaration and returns a strict decoder.
func startDoc(data []byte, wantEncoding string) (*xml.Decoder, error) {
	m := xmlDecl.FindSubmatch(data)
	if m == nil {
		return nil, errors.New("missing or malformed XML declaration")
	}
	if !strings.EqualFold(string(m[1]), wantEncoding) {
		return nil, fmt.Errorf("encoding %s, want %s", m[1], wantEncoding)
	}
	if strings.EqualFold(wantEncoding, "UTF-8") && !utf8.Valid(data) {
		return nil, errors.New("declared UTF-8 but not valid UTF-8")
	}
	if strings.EqualFold(wantEncoding, "ISO-8859-1") {
		// A UTF-8 encoded file declared ISO-8859-1 shows up as C1 control
		// bytes, or as 0xC2/0xC3 followed by a continuation byte (the "Ã©"
		// of a UTF-8 "é"); reject both.
		for i, c := range data {
			if c >= 0x80 && c < 0xa0 {
				return nil, fmt.Errorf("offset %d: C1 control byte 0x%02x", i, c)
			}
			if (c == 0xc2 || c == 0xc3) && i+1 < len(data) && data[i+1] >= 0x80 && data[i+1] < 0xc0 {
				return nil, fmt.Errorf("offset %d: file looks UTF-8 encoded, not ISO-8859-1", i)
			}
		}
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	return d, nil
}

// attrs returns an element's attributes by local name, rejecting duplicates
// and names outside allowed.
func attrs(se xml.StartElement, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range se.Attr {
		name := a.Name.Local
		if a.Name.Space != "" && a.Name.Space != "xmlns" {
			name = a.Name.Space + ":" + name
		}
		if a.Name.Space == "xmlns" {
			name = "xmlns:" + a.Name.Local
		}
		ok := false
		for _, x := range allowed {
			if x == name {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("<%s>: unexpected attribute %s", se.Name.Local, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("<%s>: attribute %s twice", se.Name.Local, name)
		}
		out[name] = a.Value
	}
	return out, nil
}

// walk goes through the document, calling start for each element with its
// path, and rejects non-whitespace text and directives.
func walk(d *xml.Decoder, start func(path []string, se xml.StartElement) error) error {
	var path []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if len(path) != 0 {
				return errors.New("unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if err := start(path, t); err != nil {
				return err
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("text %q inside <%s>", bytes.TrimSpace(t), strings.Join(path, "/"))
			}
		case xml.Directive:
			return errors.New("DOCTYPE or other directive not allowed")
		}
	}
}

// ParseProviderFrame parses an N510 / N720 file strictly: ISO-8859-1 declared
// and used, well-formed, <ProviderFrame><Provider> with exactly one
// MAC_ADDRESS (12 upper-case hex digits), one PROFILE_NAME and SYMB_ITEMs
// whose IDs are known and unique and whose values have the expected type.
func ParseProviderFrame(data []byte) (*ProviderFrame, error) {
	d, err := startDoc(data, "ISO-8859-1")
	if err != nil {
		return nil, fmt.Errorf("gigaset: %w", err)
	}
	pf := &ProviderFrame{Items: map[string]string{}}
	var errs []error
	seenMAC, seenProfile := false, false
	err = walk(d, func(path []string, se xml.StartElement) error {
		p := strings.Join(path, "/")
		switch p {
		case "ProviderFrame":
			a, err := attrs(se, "xmlns:xsi", "xsi:noNamespaceSchemaLocation", "http://www.w3.org/2001/XMLSchema-instance:noNamespaceSchemaLocation")
			if err != nil {
				return err
			}
			pf.Schema = a["xsi:noNamespaceSchemaLocation"] + a["http://www.w3.org/2001/XMLSchema-instance:noNamespaceSchemaLocation"]
		case "ProviderFrame/Provider":
			if _, err := attrs(se); err != nil {
				return err
			}
		case "ProviderFrame/Provider/MAC_ADDRESS":
			a, err := attrs(se, "value")
			if err != nil {
				return err
			}
			if seenMAC {
				return errors.New("MAC_ADDRESS twice")
			}
			seenMAC = true
			if !macUpper.MatchString(a["value"]) {
				errs = append(errs, fmt.Errorf("MAC_ADDRESS %q is not 12 upper-case hex digits", a["value"]))
			}
			pf.MAC = a["value"]
		case "ProviderFrame/Provider/PROFILE_NAME":
			a, err := attrs(se, "class", "value")
			if err != nil {
				return err
			}
			if seenProfile {
				return errors.New("PROFILE_NAME twice")
			}
			seenProfile = true
			if a["class"] != "string" || nonEmpty(a["value"]) != nil {
				errs = append(errs, fmt.Errorf("PROFILE_NAME %q (class %q) invalid", a["value"], a["class"]))
			}
			pf.ProfileName = a["value"]
		case "ProviderFrame/Provider/SYMB_ITEM":
			a, err := attrs(se, "ID", "class", "value")
			if err != nil {
				return err
			}
			id, v := a["ID"], a["value"]
			if a["class"] != "symb_item" {
				errs = append(errs, fmt.Errorf("%s: class %q, want symb_item", id, a["class"]))
			}
			if _, dup := pf.Items[id]; dup {
				errs = append(errs, fmt.Errorf("duplicate item %s", id))
				return nil
			}
			known := false
			for _, ip := range providerItems {
				if ip.re.MatchString(id) {
					known = true
					if err := ip.check(v); err != nil {
						errs = append(errs, fmt.Errorf("%s: %v", id, err))
					}
					break
				}
			}
			if !known {
				errs = append(errs, fmt.Errorf("unknown item %s", id))
			}
			pf.IDs = append(pf.IDs, id)
			pf.Items[id] = v
		default:
			return fmt.Errorf("unexpected element <%s>", p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gigaset: %w", err)
	}
	if !seenMAC || !seenProfile {
		errs = append(errs, errors.New("MAC_ADDRESS or PROFILE_NAME missing"))
	}
	if pf.Schema == "" {
		errs = append(errs, errors.New("schema location missing"))
	}
	if len(errs) > 0 {
		return pf, fmt.Errorf("gigaset: %w", errors.Join(errs...))
	}
	return pf, nil
}

// Nx70 is a parsed N670 / N870 <provisioning> file.
type Nx70 struct {
	Names  []string          // nvm-level param names in file order
	Params map[string]string // nvm-level params
	Opers  []Oper
}

// Oper is an <oper> element of an Nx70 file.
type Oper struct {
	Name, Value string
	Params      map[string]string
}

var nxParams = table{
	pat("Provisioning.global.ProvisioningServer", httpURL),
	pat("DmGlobal.0.NtpServer", host),
	pat("DmGlobal.0.TimeZone", olsonZone),
	pat("SipProvider.{0-9}.Name", nonEmpty),
	pat("SipProvider.{0-9}.{Domain|ProxyServerAddress|RegServerAddress}", host),
	pat("SipProvider.{0-9}.{ProxyServerPort|RegServerPort}", port),
	pat("SipProvider.{0-9}.RegServerRefreshTimer", intRange(30, 86400)),
	pat("SipProvider.{0-9}.TransportProtocol", enum("1", "2", "3")),
	pat("SipProvider.{0-9}.OutboundProxyMode", enum("0", "1", "2")),
	pat("SipProvider.{0-9}.DTMFTransmission", enum("1", "2", "4")),
	pat("SipProvider.{0-9}.{MWISubscription|SRTP_Enabled|AcceptNonSRTPCalls}", boolean),
	pat("SipProvider.{0-9}.UDPKeepAliveTimerValue", intRange(0, 3600)),
	pat("hs.{5d}.DECT_AC", digits(4)),
	pat("SipAccount.{5d}.{AuthName|UserName}", nonEmpty),
	pat("SipAccount.{5d}.{AuthPassword|DisplayName}", text),
	pat("SipAccount.{5d}.ProviderId", intRange(0, 9)),
	pat("SipAccount.{5d}.VoiceMailMailbox", dial),
	pat("SipAccount.{5d}.VoiceMailActive", boolean),
}

// ParseNx70 parses an N670 / N870 file strictly: UTF-8, well-formed,
// <provisioning version="1.1" productID="e2"> with one <nvm> holding params
// (known names, unique, typed) and the opers DeleteNotProvisionedHS and
// add_hs (5-digit slot, hs.RegStatus=ToReg), each slot once.
func ParseNx70(data []byte) (*Nx70, error) {
	d, err := startDoc(data, "UTF-8")
	if err != nil {
		return nil, fmt.Errorf("nx70: %w", err)
	}
	nx := &Nx70{Params: map[string]string{}}
	var errs []error
	opers := map[string]bool{}
	seenNVM := false
	err = walk(d, func(path []string, se xml.StartElement) error {
		p := strings.Join(path, "/")
		switch p {
		case "provisioning":
			a, err := attrs(se, "version", "productID")
			if err != nil {
				return err
			}
			if a["version"] != "1.1" || a["productID"] != "e2" {
				errs = append(errs, fmt.Errorf("provisioning version %q productID %q", a["version"], a["productID"]))
			}
		case "provisioning/nvm":
			if seenNVM {
				return errors.New("<nvm> twice")
			}
			seenNVM = true
		case "provisioning/nvm/param":
			a, err := attrs(se, "name", "value")
			if err != nil {
				return err
			}
			name, v := a["name"], a["value"]
			if _, dup := nx.Params[name]; dup {
				errs = append(errs, fmt.Errorf("duplicate param %s", name))
				return nil
			}
			if c, ok := nxParams.lookup(name); !ok {
				errs = append(errs, fmt.Errorf("unknown param %s", name))
			} else if err := c(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", name, err))
			}
			nx.Names = append(nx.Names, name)
			nx.Params[name] = v
		case "provisioning/nvm/oper":
			a, err := attrs(se, "name", "value")
			if err != nil {
				return err
			}
			key := a["name"] + "/" + a["value"]
			if opers[key] {
				errs = append(errs, fmt.Errorf("oper %s twice", key))
			}
			opers[key] = true
			switch a["name"] {
			case "DeleteNotProvisionedHS":
				if a["value"] != "" {
					errs = append(errs, errors.New("DeleteNotProvisionedHS with a value"))
				}
			case "add_hs":
				if digits(5)(a["value"]) != nil {
					errs = append(errs, fmt.Errorf("add_hs slot %q is not 5 digits", a["value"]))
				}
			default:
				errs = append(errs, fmt.Errorf("unknown oper %q", a["name"]))
			}
			nx.Opers = append(nx.Opers, Oper{Name: a["name"], Value: a["value"], Params: map[string]string{}})
		case "provisioning/nvm/oper/param":
			a, err := attrs(se, "name", "value")
			if err != nil {
				return err
			}
			o := &nx.Opers[len(nx.Opers)-1]
			if o.Name != "add_hs" || a["name"] != "hs.RegStatus" || a["value"] != "ToReg" {
				errs = append(errs, fmt.Errorf("oper %s: unexpected param %s=%q", o.Name, a["name"], a["value"]))
			}
			if _, dup := o.Params[a["name"]]; dup {
				errs = append(errs, fmt.Errorf("oper %s: param %s twice", o.Name, a["name"]))
			}
			o.Params[a["name"]] = a["value"]
		default:
			return fmt.Errorf("unexpected element <%s>", p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nx70: %w", err)
	}
	if !seenNVM {
		errs = append(errs, errors.New("<nvm> missing"))
	}
	if len(errs) > 0 {
		return nx, fmt.Errorf("nx70: %w", errors.Join(errs...))
	}
	return nx, nil
}
