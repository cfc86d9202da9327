package format

import (
	"strings"
	"testing"
)

const gsGood = `<?xml version="1.0" encoding="UTF-8"?>
<gs_provision version="1">
  <config version="1">
    <!-- comment -->
    <P271>1</P271>
    <P47>sip.example.be:5060</P47>
    <P48></P48>
    <P35>201</P35>
    <P34>p&amp;ss&lt;1&gt;</P34>
    <P228>1</P228>
    <P331>prov.example.be/prov/pb/c074ad000820/0123</P331>
  </config>
</gs_provision>
`

func TestParseGrandstream(t *testing.T) {
	gs, err := ParseGrandstream([]byte(gsGood))
	if err != nil {
		t.Fatal(err)
	}
	if gs.Values[34] != "p&ss<1>" || gs.Values[48] != "" || len(gs.Order) != 7 {
		t.Fatalf("%+v", gs)
	}
	for name, mutate := range map[string]func(string) string{
		"duplicate":       func(s string) string { return strings.Replace(s, "<P35>201</P35>", "<P35>201</P35><P35>202</P35>", 1) },
		"unknown P-value": func(s string) string { return strings.Replace(s, "<P35>", "<P99999>x</P99999><P35>", 1) },
		"bad transport":   func(s string) string { return strings.Replace(s, "<P228>1</P228>", "<P130>7</P130>", 1) },
		"bad server":      func(s string) string { return strings.Replace(s, "sip.example.be:5060", "sip example", 1) },
		"URL with scheme": func(s string) string { return strings.Replace(s, "<P331>prov", "<P331>https://prov", 1) },
		"not a P-value":   func(s string) string { return strings.Replace(s, "<P35>201</P35>", "<account>201</account>", 1) },
		"nested":          func(s string) string { return strings.Replace(s, "<P35>201</P35>", "<P35><P3>x</P3></P35>", 1) },
		"control char":    func(s string) string { return strings.Replace(s, "<P35>201</P35>", "<P35>20\x011</P35>", 1) },
		"wrong root":      func(s string) string { return strings.ReplaceAll(s, "gs_provision", "provision") },
		"version 2":       func(s string) string { return strings.Replace(s, `<config version="1">`, `<config version="2">`, 1) },
		"two configs": func(s string) string {
			return strings.Replace(s, "</config>", `</config><config version="1"></config>`, 1)
		},
		"doctype":     func(s string) string { return strings.Replace(s, "<gs_provision", "<!DOCTYPE x><gs_provision", 1) },
		"no XML decl": func(s string) string { return strings.TrimPrefix(s, `<?xml version="1.0" encoding="UTF-8"?>`+"\n") },
	} {
		if _, err := ParseGrandstream([]byte(mutate(gsGood))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseDirectoriesReject(t *testing.T) {
	const decl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	yl := func(body string) error {
		_, err := ParseYealinkDirectory([]byte(decl + "<YealinkIPPhoneDirectory>" + body + "</YealinkIPPhoneDirectory>"))
		return err
	}
	if err := yl("<DirectoryEntry><Name>A</Name><Telephone>201</Telephone></DirectoryEntry>"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"<DirectoryEntry><Name></Name><Telephone>201</Telephone></DirectoryEntry>",
		"<DirectoryEntry><Name>A</Name></DirectoryEntry>",
		"<DirectoryEntry><Name>A</Name><Telephone>2 01</Telephone></DirectoryEntry>",
		"<DirectoryEntry><Name>A</Name><Name>B</Name><Telephone>201</Telephone></DirectoryEntry>",
		"<DirectoryEntry><Name>A</Name><Telephone>1</Telephone><Telephone>2</Telephone><Telephone>3</Telephone><Telephone>4</Telephone></DirectoryEntry>",
		"<Entry><Name>A</Name><Telephone>201</Telephone></Entry>",
	} {
		if yl(bad) == nil {
			t.Errorf("yealink %s accepted", bad)
		}
	}
	gs := func(body string) error {
		_, err := ParseGrandstreamPhonebook([]byte(decl + "<AddressBook>" + body + "</AddressBook>"))
		return err
	}
	if err := gs("<Contact><FirstName>A</FirstName><Phone><phonenumber>201</phonenumber><accountindex>1</accountindex></Phone></Contact>"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"<Contact><Phone><phonenumber>201</phonenumber><accountindex>1</accountindex></Phone></Contact>",
		"<Contact><FirstName>A</FirstName></Contact>",
		"<Contact><FirstName>A</FirstName><Phone><phonenumber>201</phonenumber><accountindex>9</accountindex></Phone></Contact>",
		"<Contact><FirstName>A</FirstName><Phone><phonenumber>x</phonenumber><accountindex>1</accountindex></Phone></Contact>",
	} {
		if gs(bad) == nil {
			t.Errorf("grandstream %s accepted", bad)
		}
	}
	gg := func(attrs, body string) error {
		_, err := ParseGigasetList([]byte(decl + `<list response="get_list" type="pb" ` + attrs + ">" + body + "</list>"))
		return err
	}
	if err := gg(`total="1" first="1" last="1"`, "<entry><ln>A</ln><hm>201</hm></entry>"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]string{
		{`total="1" first="1" last="2"`, "<entry><ln>A</ln><hm>201</hm></entry>"},
		{`total="0" first="1" last="1"`, ""},
		{`total="1" first="1" last="1"`, "<entry><hm>201</hm></entry>"},
		{`total="1" first="1" last="1"`, "<entry><ln>A</ln></entry>"},
		{`total="1" first="1" last="1" extra="x"`, "<entry><ln>A</ln><hm>201</hm></entry>"},
	} {
		if gg(bad[0], bad[1]) == nil {
			t.Errorf("gigaset %v accepted", bad)
		}
	}
}
