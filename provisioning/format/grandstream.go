package format

import (
	"fmt"
	"regexp"
	"strconv"
)

// Grandstream is a parsed <gs_provision> file: P-value number -> value.
type Grandstream struct {
	Order  []int
	Values map[int]string
}

// gsCheck validates a P-value; the table lists what the generator writes
// (Grandstream's WP820 and HT80x configuration templates).
var gsChecks = map[int]check{}

func gsKeys(c check, ps ...int) {
	for _, p := range ps {
		gsChecks[p] = c
	}
}

func init() {
	optHost := func(v string) error {
		if v == "" {
			return nil
		}
		return hostPort(v)
	}
	gsKeys(enum("0", "1", "2", "3", "4"), 212) // config via
	gsKeys(serverPath, 237, 331)               // config / phonebook server path
	gsKeys(host, 30)                           // NTP
	gsKeys(nonEmpty, 64)                       // POSIX time zone
	gsKeys(boolean, 271, 401, 31, 731)         // account active, SIP registration
	gsKeys(text, 270, 417, 35, 36, 34, 3, 404, 405, 406, 407, 735, 736, 734, 703)
	gsKeys(optHost, 47, 48, 402, 403, 747, 748)
	gsKeys(dial, 33, 426)                                    // voicemail
	gsKeys(enum("0", "1", "2", "3", "4", "5"), 52, 414, 730) // NAT traversal
	gsKeys(intRange(1, 64800), 32, 412, 732)                 // registration, minutes
	gsKeys(enum("0", "1", "2"), 130, 448, 830)               // transport
	gsKeys(port, 40, 740)                                    // local SIP port
	gsKeys(enum("0", "2", "4", "8", "9", "18", "97", "123"), 57, 58, 451, 452, 757, 758)
	gsKeys(boolean, 2301, 2302, 2303, 2401, 2402, 2403)         // DTMF methods
	gsKeys(boolean, 228, 710, 4416, 4417, 824, 825, 4441, 4442) // fax mode, re-INVITE, echo cancellers
	gsKeys(boolean, 133, 831)                                   // jitter buffer type
	gsKeys(enum("0", "1", "2", "3"), 330)                       // phonebook download mode
	gsKeys(enum("0", "5", "30", "60", "120", "240", "360", "480", "720"), 332)
}

var hostPortRe = regexp.MustCompile(`^([^:]+)(:(\d{1,5}))?$`)

func hostPort(v string) error {
	m := hostPortRe.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("%q is not host[:port]", v)
	}
	if err := host(m[1]); err != nil {
		return err
	}
	if m[3] != "" {
		return port(m[3])
	}
	return nil
}

var serverPathRe = regexp.MustCompile(`^[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/-]*)?$`)

// serverPath is a server and path without scheme ("prov.example.be/prov").
func serverPath(v string) error {
	if !serverPathRe.MatchString(v) {
		return fmt.Errorf("%q is not a server path without scheme", v)
	}
	return nil
}

var pName = regexp.MustCompile(`^P([1-9][0-9]{0,5})$`)

// ParseGrandstream parses a WP8xx / HT80x file strictly: UTF-8,
// <gs_provision version="1"><config version="1"> holding only P-values,
// each known, once, with a value of its type.
func ParseGrandstream(data []byte) (*Grandstream, error) {
	root, err := parseTree(data, map[string][]string{"gs_provision": {"version"}, "config": {"version"}})
	if err != nil {
		return nil, fmt.Errorf("grandstream: %w", err)
	}
	if root.name != "gs_provision" || root.attrs["version"] != "1" {
		return nil, fmt.Errorf("grandstream: root <%s version=%q>, want <gs_provision version=\"1\">", root.name, root.attrs["version"])
	}
	if len(root.children) != 1 || root.children[0].name != "config" || root.children[0].attrs["version"] != "1" {
		return nil, fmt.Errorf("grandstream: want exactly one <config version=\"1\">")
	}
	out := &Grandstream{Values: map[int]string{}}
	for _, c := range root.children[0].children {
		m := pName.FindStringSubmatch(c.name)
		if m == nil || len(c.children) > 0 {
			return nil, fmt.Errorf("grandstream: <%s> is not a P-value", c.name)
		}
		p, _ := strconv.Atoi(m[1])
		chk, ok := gsChecks[p]
		if !ok {
			return nil, fmt.Errorf("grandstream: unknown P%d", p)
		}
		if _, dup := out.Values[p]; dup {
			return nil, fmt.Errorf("grandstream: P%d twice", p)
		}
		if err := text(c.text); err != nil {
			return nil, fmt.Errorf("grandstream: P%d: %v", p, err)
		}
		if err := chk(c.text); err != nil {
			return nil, fmt.Errorf("grandstream: P%d: %v", p, err)
		}
		out.Order = append(out.Order, p)
		out.Values[p] = c.text
	}
	return out, nil
}
