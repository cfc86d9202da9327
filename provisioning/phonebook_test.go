package provisioning

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"pbx/provisioning/format"
)

// fakeBook is an in-memory PhonebookSource, per tenant.
type fakeBook struct {
	mu      sync.Mutex
	tenants map[string][]Entry
}

func (f *fakeBook) Phonebook(_ context.Context, tenantID string) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tenants[tenantID]), nil
}

func (f *fakeBook) set(tenantID string, es []Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenants[tenantID] = es
}

// directoryPath reads, from a device's served file, the directory URL it
// was given, and returns its path on the test server.
func directoryPath(t *testing.T, m Model, body []byte) string {
	t.Helper()
	var u string
	switch m.Family {
	case FamilyYealinkT4x, FamilyYealinkT5x, FamilyYealinkCP, FamilyYealinkDECT:
		cfg, err := format.ParseYealink(body)
		if err != nil {
			t.Fatal(err)
		}
		u = cfg.Values["remote_phonebook.data.1.url"]
	case FamilyGigasetN510, FamilyGigasetN720:
		pf, err := format.ParseProviderFrame(body)
		if err != nil {
			t.Fatal(err)
		}
		u, _ = pf.String("BS_XML_Netdirs.astNetdirProvider[0].aucServerURL[0]")
		u = strings.TrimSuffix(u, "?")
	case FamilyGrandstreamWP:
		gs, err := format.ParseGrandstream(body)
		if err != nil {
			t.Fatal(err)
		}
		if gs.Values[330] != "3" {
			t.Fatalf("%s: phonebook download mode %q, want 3 (HTTPS)", m.Name, gs.Values[330])
		}
		u = "https://" + gs.Values[331] + "/phonebook.xml"
	default:
		t.Fatalf("no directory in family %s", m.Family)
	}
	p, err := url.Parse(u)
	if err != nil || !strings.HasPrefix(u, testServer.ProvisioningURL) {
		t.Fatalf("%s: directory URL %q not below %s", m.Name, u, testServer.ProvisioningURL)
	}
	return p.Path
}

// parseDirectory parses a directory with the strict parser of its format.
func parseDirectory(t *testing.T, f PhonebookFormat, body []byte) []format.DirEntry {
	t.Helper()
	var es []format.DirEntry
	var err error
	switch f {
	case PhonebookYealink:
		es, err = format.ParseYealinkDirectory(body)
	case PhonebookGrandstream:
		es, err = format.ParseGrandstreamPhonebook(body)
	case PhonebookGigaset:
		var l *format.GigasetList
		if l, err = format.ParseGigasetList(body); err == nil {
			es = l.Entries
		}
	}
	if err != nil {
		t.Fatalf("%s directory: %v\n%s", f, err, body)
	}
	return es
}

// TestPhonebookEachFormat: every family with a directory fetches it from
// the URL its own file gives, in its own format; the answer is the
// device's tenant's directory only, follows an edit at the next fetch, and
// a wrong token, another device's token or another format is a 404.
func TestPhonebookEachFormat(t *testing.T) {
	book := &fakeBook{tenants: map[string][]Entry{
		"ten_a": {{Name: "Alice Peeters", Numbers: []string{"201"}}, {Name: "Bakkerij Janssens & Zn", Numbers: []string{"+3250123456", "+32470123456"}}},
		"ten_b": {{Name: "Acme Secret Supplier", Numbers: []string{"+3227770000"}}},
	}}
	e := newEnv(t, true, func(o *Options) { o.Phonebook = book })
	formats := map[PhonebookFormat]bool{}
	for _, name := range []string{"yealink-t5x-t54w", "yealink-dect-w73p", "gigaset-n510", "gigaset-n720", "grandstream-wp8xx-wp820"} {
		t.Run(name, func(t *testing.T) {
			p := e.devs[name]
			m, _ := LookupModel(p.dev.Model)
			res := e.fetch(t, name)
			if res.status != http.StatusOK {
				t.Fatalf("device file: %d", res.status)
			}
			path := directoryPath(t, m, res.body)
			f := PhonebookFormatOf(m)
			formats[f] = true
			get := func(path string) response { return e.get(t, path, p.ua, "", "", "") }
			dir := get(path)
			if dir.status != http.StatusOK {
				t.Fatalf("directory %s: %d %s", path, dir.status, dir.body)
			}
			es := parseDirectory(t, f, dir.body)
			want, _ := book.Phonebook(context.Background(), p.dev.TenantID)
			if len(es) != len(want) {
				t.Fatalf("%d entries, want %d: %+v", len(es), len(want), es)
			}
			if strings.Contains(string(dir.body), "Secret") && p.dev.TenantID != "ten_b" {
				t.Fatal("another tenant's contact in the directory")
			}
			// An edit shows at the next fetch.
			edited := append(slices.Clone(want), Entry{Name: "Zoë Nieuw " + name, Numbers: []string{"+3293334444"}})
			book.set(p.dev.TenantID, edited)
			defer book.set(p.dev.TenantID, want)
			es = parseDirectory(t, f, get(path).body)
			if len(es) != len(edited) || !slices.ContainsFunc(es, func(d format.DirEntry) bool { return d.Name == "Zoë Nieuw "+name }) {
				t.Fatalf("edit not in the next directory: %+v", es)
			}
			// Wrong token, unknown MAC, other format: all 404.
			parts := strings.Split(path, "/") // "", "prov", "pb", mac, token, file
			bad := slices.Clone(parts)
			bad[4] = strings.Repeat("0", 32)
			other := slices.Clone(parts)
			other[3] = "805ec0ffffff"
			for _, q := range []string{strings.Join(bad, "/"), strings.Join(other, "/")} {
				if r := get(q); r.status != http.StatusNotFound {
					t.Errorf("%s: %d", q, r.status)
				}
			}
			for g, file := range phonebookFiles {
				if g == f {
					continue
				}
				wrong := slices.Clone(parts)
				wrong[5] = file
				if r := get(strings.Join(wrong, "/")); r.status != http.StatusNotFound {
					t.Errorf("%s format on a %s: %d", g, m.Name, r.status)
				}
			}
		})
	}
	for _, f := range []PhonebookFormat{PhonebookYealink, PhonebookGrandstream, PhonebookGigaset} {
		if !formats[f] {
			t.Errorf("format %s not fetched", f)
		}
	}
	// One device's token does not open another device's directory.
	a, b := e.devs["yealink-t5x-t54w"], e.devs["grandstream-wp8xx-wp820"]
	ma, _ := LookupModel(a.dev.Model)
	mb, _ := LookupModel(b.dev.Model)
	pa := strings.Split(directoryPath(t, ma, e.fetch(t, a.name).body), "/")
	pb := strings.Split(directoryPath(t, mb, e.fetch(t, b.name).body), "/")
	pa[4] = pb[4]
	if r := e.get(t, strings.Join(pa, "/"), a.ua, "", "", ""); r.status != http.StatusNotFound {
		t.Fatalf("another device's token: %d", r.status)
	}
	// The tokens, credentials of the directory URLs, are never logged.
	logs := e.logs.String()
	for name, p := range e.devs {
		if tok := phonebookToken(e.handlerKey(), &p.dev); strings.Contains(logs, tok) {
			t.Fatalf("the directory token of %s was logged", name)
		}
	}
	if !strings.Contains(logs, "/pb/805ec0a1b2c3/REDACTED/directory.xml") {
		t.Fatal("no redacted directory request in the logs")
	}
}

// TestGigasetDirectorySearch: the base's search by name prefix and by
// number (reverse search for the caller's name) and its paging.
func TestGigasetDirectorySearch(t *testing.T) {
	es := []Entry{{Name: "Alice Peeters", Numbers: []string{"201"}}, {Name: "Bob Maes", Numbers: []string{"202", "+32470000202"}}, {Name: "Carla Peeters", Numbers: []string{"203"}}}
	parse := func(q string) *format.GigasetList {
		v, _ := url.ParseQuery(q)
		l, err := format.ParseGigasetList(GigasetDirectory(es, ParseGigasetQuery(v)))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := parse("command=get_list&type=pb&ln=peet*"); l.Total != 2 || len(l.Entries) != 2 {
		t.Fatalf("name search: %+v", l)
	}
	if l := parse("command=get_list&type=pb&hm=%2B32470000202"); l.Total != 1 || l.Entries[0].Name != "Bob Maes" {
		t.Fatalf("reverse search: %+v", l)
	}
	if l := parse("command=get_list&type=pb&first=2&count=1"); l.Total != 3 || l.First != 2 || l.Last != 2 || l.Entries[0].Name != "Bob Maes" {
		t.Fatalf("paging: %+v", l)
	}
	if l := parse("command=get_list&type=pb&ln=zzz"); l.Total != 0 || len(l.Entries) != 0 {
		t.Fatalf("no match: %+v", l)
	}
}

// TestDirectoryGolden pins the three formats' bytes.
func TestDirectoryGolden(t *testing.T) {
	es := []Entry{{Name: "Zoë <Z> & Co", Numbers: []string{"+3250123456", "+32470123456"}}, {Name: "Alice Peeters", Numbers: []string{"201"}}, {Name: "", Numbers: []string{"1"}}}
	golden(t, "directory-yealink.xml", YealinkDirectory(es))
	golden(t, "directory-grandstream.xml", GrandstreamPhonebook(es))
	golden(t, "directory-gigaset.xml", GigasetDirectory(es, GigasetQuery{}))
	for f, b := range map[PhonebookFormat][]byte{PhonebookYealink: YealinkDirectory(es), PhonebookGrandstream: GrandstreamPhonebook(es), PhonebookGigaset: GigasetDirectory(es, GigasetQuery{})} {
		if got := parseDirectory(t, f, b); len(got) != 2 || got[0].Name != "Alice Peeters" {
			t.Errorf("%s: %+v", f, got)
		}
	}
}

// handlerKey is the key the handler derives directory tokens from.
func (e *env) handlerKey() []byte { return e.handler.(*handler).auth.key }
