package provisioning

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Entry is one company directory entry: a colleague (full licence, by
// extension) or a shared contact of the tenant.
type Entry struct {
	Name    string
	Numbers []string // extension or public numbers, first is the main one
}

// PhonebookFormat is a vendor's directory format.
type PhonebookFormat string

// Directory formats.
const (
	PhonebookYealink     PhonebookFormat = "yealink"     // <YealinkIPPhoneDirectory>
	PhonebookGrandstream PhonebookFormat = "grandstream" // <AddressBook>
	PhonebookGigaset     PhonebookFormat = "gigaset"     // <list response="get_list">
)

// phonebookRefreshSeconds is how often a phone reloads its directory.
const phonebookRefreshSeconds = 3600

// grandstreamPhonebookFile is the name a Grandstream phone appends to its
// phonebook server path.
const grandstreamPhonebookFile = "phonebook.xml"

// phonebookFiles are the file names of the directory, per format, below
// pb/<mac>/<token>/.
var phonebookFiles = map[PhonebookFormat]string{
	PhonebookYealink:     "directory.xml",
	PhonebookGrandstream: grandstreamPhonebookFile,
	PhonebookGigaset:     "gigaset.xml",
}

// PhonebookFormatOf is the directory format of a model's vendor.
func PhonebookFormatOf(m Model) PhonebookFormat {
	switch m.Vendor {
	case Gigaset:
		return PhonebookGigaset
	case Grandstream:
		return PhonebookGrandstream
	}
	return PhonebookYealink
}

// PhonebookPath is where, below PathPrefix, a device fetches its directory:
// "pb/<mac>/<token>/<file>". The token stands in for credentials, since
// whether each phone answers a challenge on a directory URL is not known
// [U]; it is secret like the file that carries it (served over HTTPS).
func PhonebookPath(mac, token string, f PhonebookFormat) string {
	return "pb/" + mac + "/" + token + "/" + phonebookFiles[f]
}

// phonebookToken derives a device's directory token from the handler's
// key, the device and its provisioning credential: nothing is stored, and
// a new provisioning credential makes a new token.
func phonebookToken(key []byte, d *Device) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "phonebook\x00%s\x00%s\x00%s", d.ID, d.MAC, d.ProvHA1SHA256)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// phonebookURL is the directory URL written into the device's file, or ""
// when the file carries none.
func (g *gen) phonebookURL(f PhonebookFormat) string {
	if g.dev.PhonebookToken == "" || g.srv.ProvisioningURL == "" {
		return ""
	}
	return strings.TrimSuffix(g.srv.ProvisioningURL, "/") + "/" + PhonebookPath(g.mac, g.dev.PhonebookToken, f)
}

// sortEntries orders entries by name (then first number) so that a
// directory's bytes change only when its content does.
func sortEntries(es []Entry) []Entry {
	out := make([]Entry, 0, len(es))
	for _, e := range es {
		e.Name = clean(e.Name)
		var nums []string
		for _, n := range e.Numbers {
			if n = clean(n); n != "" {
				nums = append(nums, n)
			}
		}
		if e.Name == "" || len(nums) == 0 {
			continue
		}
		e.Numbers = nums
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].Numbers[0] < out[j].Numbers[0]
	})
	return out
}

// YealinkDirectory is the Yealink remote phonebook
// (<YealinkIPPhoneDirectory>, one <DirectoryEntry> with <Name> and up to
// three <Telephone> each; vendor XML browser documentation).
func YealinkDirectory(es []Entry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<YealinkIPPhoneDirectory>\n")
	for _, e := range sortEntries(es) {
		b.WriteString("  <DirectoryEntry>\n    <Name>" + xmlText(e.Name) + "</Name>\n")
		for _, n := range e.Numbers[:min(3, len(e.Numbers))] {
			b.WriteString("    <Telephone>" + xmlText(n) + "</Telephone>\n")
		}
		b.WriteString("  </DirectoryEntry>\n")
	}
	b.WriteString("</YealinkIPPhoneDirectory>\n")
	return []byte(b.String())
}

// GrandstreamPhonebook is Grandstream's downloadable phonebook
// (<AddressBook><Contact> with <FirstName>/<LastName> and one <Phone> per
// number, each with <phonenumber> and <accountindex>; Grandstream XML
// phonebook guide). The whole name goes into FirstName: the directory does
// not know which part is the family name.
func GrandstreamPhonebook(es []Entry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<AddressBook>\n")
	for _, e := range sortEntries(es) {
		b.WriteString("  <Contact>\n    <FirstName>" + xmlText(e.Name) + "</FirstName>\n")
		for _, n := range e.Numbers {
			b.WriteString("    <Phone>\n      <phonenumber>" + xmlText(n) + "</phonenumber>\n      <accountindex>1</accountindex>\n    </Phone>\n")
		}
		b.WriteString("  </Contact>\n")
	}
	b.WriteString("</AddressBook>\n")
	return []byte(b.String())
}

// GigasetQuery is what a Gigaset base asks its online directory (Gigaset
// phonebook search protocol): a name prefix (fn/ln), a number (hm, reverse
// search), and the window first..first+count-1 of the sorted answer.
type GigasetQuery struct {
	Name   string
	Number string
	First  int // 1-based; 0 means 1
	Count  int // 0 means all
}

// ParseGigasetQuery reads the query parameters a base sends. [U] Only
// command=get_list with fn, ln, hm, first and count is supported; "*" and
// empty mean any.
func ParseGigasetQuery(q url.Values) GigasetQuery {
	any := func(s string) string {
		s = strings.TrimSpace(strings.TrimSuffix(s, "*"))
		return s
	}
	gq := GigasetQuery{Name: any(q.Get("ln")), Number: any(q.Get("hm"))}
	if gq.Name == "" {
		gq.Name = any(q.Get("fn"))
	}
	gq.First, _ = strconv.Atoi(q.Get("first"))
	gq.Count, _ = strconv.Atoi(q.Get("count"))
	return gq
}

// GigasetDirectory answers a Gigaset online-directory request:
// <list response="get_list" type="pb" total= first= last=> with one
// <entry> per match, <ln> the name and <hm> (main) and <mb> (second)
// numbers. [U] Element names from Gigaset's phonebook search protocol
// specification as summarised in public pages; <of> and the ambiguity
// mechanism are not used.
func GigasetDirectory(es []Entry, q GigasetQuery) []byte {
	var match []Entry
	for _, e := range sortEntries(es) {
		if q.Name != "" && !strings.HasPrefix(strings.ToLower(e.Name), strings.ToLower(q.Name)) &&
			!containsWordPrefix(e.Name, q.Name) {
			continue
		}
		if q.Number != "" && !containsNumber(e.Numbers, q.Number) {
			continue
		}
		match = append(match, e)
	}
	total := len(match)
	first := max(1, q.First)
	if first > total {
		match = nil
	} else {
		match = match[first-1:]
	}
	if q.Count > 0 && len(match) > q.Count {
		match = match[:q.Count]
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	last := first + len(match) - 1
	if len(match) == 0 {
		first, last = 0, 0
	}
	fmt.Fprintf(&b, `<list response="get_list" type="pb" total="%d" first="%d" last="%d">`+"\n", total, first, last)
	for _, e := range match {
		b.WriteString("  <entry>\n    <ln>" + xmlText(e.Name) + "</ln>\n    <hm>" + xmlText(e.Numbers[0]) + "</hm>\n")
		if len(e.Numbers) > 1 {
			b.WriteString("    <mb>" + xmlText(e.Numbers[1]) + "</mb>\n")
		}
		b.WriteString("  </entry>\n")
	}
	b.WriteString("</list>\n")
	return []byte(b.String())
}

func containsWordPrefix(name, prefix string) bool {
	for _, w := range strings.Fields(strings.ToLower(name)) {
		if strings.HasPrefix(w, strings.ToLower(prefix)) {
			return true
		}
	}
	return false
}

func containsNumber(nums []string, n string) bool {
	for _, x := range nums {
		if x == n {
			return true
		}
	}
	return false
}
