package format

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// YealinkHeader must be the first line of every Yealink file.
const YealinkHeader = "#!version:1.0.0.1"

// YealinkNull is Yealink's "factory value" marker, accepted for every key.
const YealinkNull = "%NULL%"

// Config is a parsed Yealink file.
type Config struct {
	Keys   []string          // in file order
	Values map[string]string // key -> value; static.security.user_password is keyed "...user_password:<account>"
}

var yealinkKey = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// codecs that may appear in account.N.codec.<name>.*
const yealinkCodecs = "{pcmu|pcma|g722|g729|opus|ilbc|g726_16|g726_24|g726_32|g726_40|g723_53|g723_63}"

// yealinkKeys is the typed table of known keys (vendor documentation).
var yealinkKeys = table{
	pat("static.auto_provision.server.url", httpURL),
	pat("static.auto_provision.server.username", text),
	pat("static.auto_provision.server.password", text),
	pat("static.auto_provision.power_on", boolean),
	pat("static.auto_provision.repeat.enable", boolean),
	pat("static.auto_provision.repeat.minutes", intRange(1, 43200)),
	pat("static.auto_provision.pnp_enable", boolean),
	pat("static.auto_provision.custom.protect", boolean),
	pat("static.firmware.url", httpURL),
	pat("static.security.user_name.{admin|user|var}", nonEmpty),
	pat("static.security.user_password", userPassword),
	pat("local_time.{ntp_server1|ntp_server2}", host),
	pat("local_time.time_zone", tzOffset),
	pat("local_time.time_zone_name", nonEmpty),
	pat("local_time.summer_time", enum("0", "1", "2")),
	pat("local_time.time_format", boolean),
	pat("local_time.date_format", intRange(0, 6)),
	pat("lang.{gui|wui}", enum("English", "French", "German", "Dutch", "Italian", "Spanish")),
	pat("voice.tone.country", nonEmpty),
	pat("account.{1-16}.enable", boolean),
	pat("account.{1-16}.{label|display_name|user_name|auth_name|password}", text),
	pat("account.{1-16}.sip_server.{1-2}.address", host),
	pat("account.{1-16}.sip_server.{1-2}.port", port),
	pat("account.{1-16}.sip_server.{1-2}.transport_type", enum("0", "1", "2", "3")),
	pat("account.{1-16}.sip_server.{1-2}.expires", intRange(30, 86400)),
	pat("account.{1-16}.sip_server.{1-2}.retry_counts", intRange(0, 20)),
	pat("account.{1-16}.outbound_proxy_enable", boolean),
	pat("account.{1-16}.outbound_proxy.{1-2}.address", host),
	pat("account.{1-16}.outbound_proxy.{1-2}.port", port),
	pat("account.{1-16}.srtp_encryption", enum("0", "1", "2")),
	pat("account.{1-16}.nat.rport", boolean),
	pat("account.{1-16}.nat.udp_update_enable", enum("0", "1", "2", "3")),
	pat("account.{1-16}.nat.udp_update_time", intRange(1, 3600)),
	pat("account.{1-16}.dtmf.type", enum("0", "1", "2", "3")),
	pat("account.{1-16}.codec."+yealinkCodecs+".enable", boolean),
	pat("account.{1-16}.codec."+yealinkCodecs+".priority", intRange(0, 20)),
	pat("account.{1-16}.subscribe_mwi", boolean),
	pat("voice_mail.number.{1-16}", dial),
	// Key types (vendor documentation): 0 none, 15 line, 16 BLF, 13 speed dial, ...
	pat("linekey.{1-29}.type", enum("0", "1", "2", "3", "4", "5", "9", "10", "11", "12", "13", "14", "15", "16", "17", "23", "24", "27", "39")),
	pat("linekey.{1-29}.line", intRange(1, 16)),
	pat("linekey.{1-29}.{value|label|extension}", text),
	// DECT bases (W52P/W60B/W70B templates of wazo, sipXecom and Yealink's
	// own): which accounts a handset rings for and dials out on.
	pat("handset.{1-10}.name", text),
	pat("handset.{1-10}.{incoming_lines|dial_out_lines}", lineList),
	pat("handset.{1-10}.dial_out_default_line", intRange(1, 10)),
	pat("static.auto_provision.handset_configured.enable", boolean),
	// Remote phonebook (wazo templates; flash_time in seconds).
	pat("remote_phonebook.data.{1-5}.url", httpURL),
	pat("remote_phonebook.data.{1-5}.name", nonEmpty),
	pat("features.remote_phonebook.enable", boolean),
	pat("features.remote_phonebook.flash_time", intRange(0, 86400)),
}

var lineListRe = regexp.MustCompile(`^(1[0-6]|[1-9])(,(1[0-6]|[1-9]))*$`)

// lineList is a comma-separated list of account numbers ("1" or "1,2,3").
func lineList(v string) error {
	if !lineListRe.MatchString(v) {
		return fmt.Errorf("%q is not a list of account numbers", v)
	}
	return nil
}

var tzOffsetRe = regexp.MustCompile(`^([+-]?)(\d{1,2})(:(00|30|45))?$`)

func tzOffset(v string) error {
	m := tzOffsetRe.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("%q is not a UTC offset", v)
	}
	h := int(m[2][0] - '0')
	if len(m[2]) == 2 {
		h = h*10 + int(m[2][1]-'0')
	}
	if (m[1] == "-" && h > 11) || h > 14 {
		return fmt.Errorf("%q out of range", v)
	}
	return nil
}

func userPassword(v string) error {
	u, _, ok := strings.Cut(v, ":")
	if !ok || u == "" {
		return fmt.Errorf("%q is not account:password", v)
	}
	return text(v)
}

// ParseYealink parses a Yealink file strictly: first line exactly
// YealinkHeader, then blank lines, full-line "#" comments and "key = value"
// lines (LF line ends, UTF-8); every key known, lower case and present once
// (static.security.user_password once per web account); every value of its
// key's type or %NULL%. All problems are reported, with line numbers.
func ParseYealink(data []byte) (*Config, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("yealink: not valid UTF-8")
	}
	s := string(data)
	if strings.Contains(s, "\r") {
		return nil, errors.New("yealink: CR in file (LF line ends expected)")
	}
	if !strings.HasSuffix(s, "\n") {
		return nil, errors.New("yealink: last line not terminated")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if lines[0] != YealinkHeader {
		return nil, fmt.Errorf("yealink: line 1 is %q, want %q", lines[0], YealinkHeader)
	}
	cfg := &Config{Values: map[string]string{}}
	var errs []error
	bad := func(n int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("yealink: line %d: %s", n, fmt.Sprintf(format, args...)))
	}
	for i, line := range lines[1:] {
		n := i + 2
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			bad(n, "neither comment nor key = value: %q", line)
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !yealinkKey.MatchString(k) {
			bad(n, "malformed key %q", k)
			continue
		}
		c, known := yealinkKeys.lookup(k)
		if !known {
			bad(n, "unknown key %q", k)
			continue
		}
		id := k
		if k == "static.security.user_password" {
			acct, _, _ := strings.Cut(v, ":")
			id = k + ":" + acct
		}
		if _, dup := cfg.Values[id]; dup {
			bad(n, "duplicate key %q", id)
			continue
		}
		if v != YealinkNull {
			if err := c(v); err != nil {
				bad(n, "%s: %v", k, err)
			}
		}
		cfg.Keys = append(cfg.Keys, id)
		cfg.Values[id] = v
	}
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	return cfg, nil
}
