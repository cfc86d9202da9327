package format

import (
	"fmt"
	"strconv"
)

// DirEntry is one entry of a parsed company directory.
type DirEntry struct {
	Name    string
	Numbers []string
}

// ParseYealinkDirectory parses a Yealink remote phonebook strictly:
// <YealinkIPPhoneDirectory> of <DirectoryEntry>, each with one non-empty
// <Name> and one to three <Telephone> dial strings.
func ParseYealinkDirectory(data []byte) ([]DirEntry, error) {
	root, err := parseTree(data, nil)
	if err != nil {
		return nil, fmt.Errorf("yealink directory: %w", err)
	}
	if root.name != "YealinkIPPhoneDirectory" {
		return nil, fmt.Errorf("yealink directory: root <%s>", root.name)
	}
	if err := root.only("DirectoryEntry"); err != nil {
		return nil, fmt.Errorf("yealink directory: %w", err)
	}
	var out []DirEntry
	for _, e := range root.children {
		if err := e.only("Name", "Telephone"); err != nil {
			return nil, fmt.Errorf("yealink directory: %w", err)
		}
		name, err := e.leafText("Name", true)
		if err == nil && name == "" {
			err = fmt.Errorf("empty <Name>")
		}
		if err != nil {
			return nil, fmt.Errorf("yealink directory: %w", err)
		}
		tels := e.all("Telephone")
		if len(tels) == 0 || len(tels) > 3 {
			return nil, fmt.Errorf("yealink directory: %q has %d numbers, want 1 to 3", name, len(tels))
		}
		d := DirEntry{Name: name}
		for _, t := range tels {
			if err := dial(t.text); err != nil || len(t.children) > 0 {
				return nil, fmt.Errorf("yealink directory: %q: %v", name, err)
			}
			d.Numbers = append(d.Numbers, t.text)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseGrandstreamPhonebook parses a Grandstream phonebook strictly:
// <AddressBook> of <Contact>, each with a FirstName or LastName and one or
// more <Phone> with a dial string <phonenumber> and <accountindex> 1..6.
func ParseGrandstreamPhonebook(data []byte) ([]DirEntry, error) {
	root, err := parseTree(data, nil)
	if err != nil {
		return nil, fmt.Errorf("grandstream phonebook: %w", err)
	}
	if root.name != "AddressBook" {
		return nil, fmt.Errorf("grandstream phonebook: root <%s>", root.name)
	}
	if err := root.only("Contact"); err != nil {
		return nil, fmt.Errorf("grandstream phonebook: %w", err)
	}
	var out []DirEntry
	for _, c := range root.children {
		if err := c.only("FirstName", "LastName", "Phone"); err != nil {
			return nil, fmt.Errorf("grandstream phonebook: %w", err)
		}
		fn, err1 := c.leafText("FirstName", false)
		ln, err2 := c.leafText("LastName", false)
		if err1 != nil || err2 != nil || fn+ln == "" {
			return nil, fmt.Errorf("grandstream phonebook: contact without a name (%v %v)", err1, err2)
		}
		d := DirEntry{Name: fn}
		if ln != "" {
			d.Name = fn + " " + ln
		}
		phones := c.all("Phone")
		if len(phones) == 0 {
			return nil, fmt.Errorf("grandstream phonebook: %q has no <Phone>", d.Name)
		}
		for _, p := range phones {
			if err := p.only("phonenumber", "accountindex"); err != nil {
				return nil, fmt.Errorf("grandstream phonebook: %w", err)
			}
			num, err := p.leafText("phonenumber", true)
			if err == nil {
				err = dial(num)
			}
			if err != nil {
				return nil, fmt.Errorf("grandstream phonebook: %q: %v", d.Name, err)
			}
			idx, err := p.leafText("accountindex", true)
			if err == nil {
				err = intRange(1, 6)(idx)
			}
			if err != nil {
				return nil, fmt.Errorf("grandstream phonebook: %q: accountindex: %v", d.Name, err)
			}
			d.Numbers = append(d.Numbers, num)
		}
		out = append(out, d)
	}
	return out, nil
}

// GigasetList is a parsed online-directory answer.
type GigasetList struct {
	Total, First, Last int
	Entries            []DirEntry
}

// ParseGigasetList parses a Gigaset online-directory answer strictly:
// <list response="get_list" type="pb" total first last> of <entry> with
// a name (<ln>/<fn>) and <hm>/<mb>/<of> numbers, the counts consistent.
func ParseGigasetList(data []byte) (*GigasetList, error) {
	root, err := parseTree(data, map[string][]string{"list": {"response", "type", "total", "first", "last"}})
	if err != nil {
		return nil, fmt.Errorf("gigaset directory: %w", err)
	}
	if root.name != "list" || root.attrs["response"] != "get_list" || root.attrs["type"] != "pb" {
		return nil, fmt.Errorf("gigaset directory: want <list response=\"get_list\" type=\"pb\">")
	}
	var l GigasetList
	for name, p := range map[string]*int{"total": &l.Total, "first": &l.First, "last": &l.Last} {
		n, err := strconv.Atoi(root.attrs[name])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("gigaset directory: %s=%q", name, root.attrs[name])
		}
		*p = n
	}
	if err := root.only("entry"); err != nil {
		return nil, fmt.Errorf("gigaset directory: %w", err)
	}
	for _, e := range root.children {
		if err := e.only("ln", "fn", "hm", "mb", "of"); err != nil {
			return nil, fmt.Errorf("gigaset directory: %w", err)
		}
		ln, err1 := e.leafText("ln", false)
		fn, err2 := e.leafText("fn", false)
		if err1 != nil || err2 != nil || ln+fn == "" {
			return nil, fmt.Errorf("gigaset directory: entry without a name")
		}
		d := DirEntry{Name: ln}
		if fn != "" {
			d.Name = fn + " " + ln
		}
		for _, k := range []string{"hm", "mb", "of"} {
			n, err := e.leafText(k, false)
			if err == nil && n != "" {
				err = dial(n)
				d.Numbers = append(d.Numbers, n)
			}
			if err != nil {
				return nil, fmt.Errorf("gigaset directory: %q: <%s>: %v", d.Name, k, err)
			}
		}
		if len(d.Numbers) == 0 {
			return nil, fmt.Errorf("gigaset directory: %q has no number", d.Name)
		}
		l.Entries = append(l.Entries, d)
	}
	switch {
	case len(l.Entries) == 0 && (l.First != 0 || l.Last != 0):
		return nil, fmt.Errorf("gigaset directory: empty list with first=%d last=%d", l.First, l.Last)
	case len(l.Entries) > 0 && (l.First < 1 || l.Last-l.First+1 != len(l.Entries) || l.Last > l.Total):
		return nil, fmt.Errorf("gigaset directory: first=%d last=%d total=%d for %d entries", l.First, l.Last, l.Total, len(l.Entries))
	}
	return &l, nil
}
