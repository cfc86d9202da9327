package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"pbx/numbering"
	"pbx/store"
)

// A tenant's shared contacts: the company directory on every phone, and
// the caller's name on incoming calls from their numbers.

const (
	maxContactNumbers = 10
	maxImportLines    = 5000
	maxImportBytes    = 1 << 20
)

// ContactStore is what the shared contacts and the devices' provisioning
// profiles need from the store.
type ContactStore interface {
	CreateContact(ctx context.Context, c store.Contact) (store.Contact, error)
	ImportContacts(ctx context.Context, tenantID string, cs []store.Contact) ([]store.Contact, error)
	Contacts(ctx context.Context, tenantID string) ([]store.Contact, error)
	Contact(ctx context.Context, tenantID, id string) (store.Contact, error)
	UpdateContact(ctx context.Context, c store.Contact) error
	DeleteContact(ctx context.Context, tenantID, id string) error

	SetDeviceProfile(ctx context.Context, tenantID string, p store.DeviceProfile) error
	DeviceProfile(ctx context.Context, tenantID, deviceID string) (store.DeviceProfile, error)
	DeviceProfiles(ctx context.Context, tenantID string) (map[string]store.DeviceProfile, error)
}

type contactRequest struct {
	Name    string   `json:"name"`
	Numbers []string `json:"numbers" doc:"public numbers in any usual form (+32 50 12 34 56, 050/12.34.56, 0032...); stored in E.164, at most 10"`
}

type contactJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Numbers   []string  `json:"numbers"`
	CreatedAt time.Time `json:"created_at"`
}

type importLineJSON struct {
	Line int    `json:"line"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type importJSON struct {
	Imported int              `json:"imported"`
	Lines    []importLineJSON `json:"lines" doc:"one per imported CSV line; a file with any bad line imports nothing and answers 422 naming every bad line (fields line N, line N: numbers[i])"`
}

func toContactJSON(c store.Contact) contactJSON {
	nums := c.Numbers
	if nums == nil {
		nums = []string{}
	}
	return contactJSON{ID: c.ID, Name: c.Name, Numbers: nums, CreatedAt: c.CreatedAt}
}

// checkContact validates a name and numbers, naming each bad field with
// prefix (empty for a JSON body, "line N: " for a CSV line), and returns
// the numbers in E.164.
func checkContact(fe *fieldErrors, prefix, name string, numbers []string) (string, []string) {
	name = fe.text(prefix+"name", name, true, 100)
	if len(numbers) == 0 {
		fe.add(prefix+"numbers", "at least one number is required")
	}
	if len(numbers) > maxContactNumbers {
		fe.add(prefix+"numbers", "at most %d numbers", maxContactNumbers)
	}
	out := make([]string, 0, len(numbers))
	for i, n := range numbers {
		e164, err := numbering.Normalize(n)
		if err != nil {
			fe.add(fmt.Sprintf("%snumbers[%d]", prefix, i), "%q is not a telephone number", n)
			continue
		}
		out = append(out, e164)
	}
	return name, out
}

// contact loads the {contact} of the path.
func (c *call) contact() (store.Contact, error) {
	ct, err := c.s.store.Contact(c.ctx(), c.tenant.ID, c.path("contact"))
	if errors.Is(err, store.ErrNotFound) {
		return ct, notFound("contact %q not found", c.path("contact"))
	}
	return ct, err
}

func (s *server) createContact(c *call) error {
	var in contactRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	name, nums := checkContact(&fe, "", in.Name, in.Numbers)
	if err := fe.err(); err != nil {
		return err
	}
	ct, err := s.store.CreateContact(c.ctx(), store.Contact{TenantID: c.tenant.ID, Name: name, Numbers: nums})
	if err != nil {
		return err
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/contacts/"+ct.ID, toContactJSON(ct))
}

func (s *server) listContacts(c *call) error {
	cs, err := s.store.Contacts(c.ctx(), c.tenant.ID)
	if err != nil {
		return err
	}
	out := make([]contactJSON, 0, len(cs))
	for _, ct := range cs {
		out = append(out, toContactJSON(ct))
	}
	return c.reply(200, out)
}

func (s *server) getContact(c *call) error {
	ct, err := c.contact()
	if err != nil {
		return err
	}
	return c.reply(200, toContactJSON(ct))
}

func (s *server) updateContact(c *call) error {
	ct, err := c.contact()
	if err != nil {
		return err
	}
	var in contactRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	var fe fieldErrors
	ct.Name, ct.Numbers = checkContact(&fe, "", in.Name, in.Numbers)
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.UpdateContact(c.ctx(), ct); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("contact %q not found", ct.ID)
		}
		return err
	}
	return c.reply(200, toContactJSON(ct))
}

func (s *server) deleteContact(c *call) error {
	ct, err := c.contact()
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(c.ctx(), c.tenant.ID, ct.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("contact %q not found", ct.ID)
		}
		return err
	}
	return c.noContent()
}

// importContacts reads a CSV file of "name,number[,number...]" lines (a
// first line starting with "name" is a header) and adds every contact in
// one transaction. Any bad line imports nothing: the 422 names each bad
// line and field, so the whole file can be fixed at once.
func (s *server) importContacts(c *call) error {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/csv" && mt != "text/plain") {
		return httpProblem(http.StatusUnsupportedMediaType, "send the file as text/csv")
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxImportBytes))
	if err != nil {
		return tooLarge()
	}
	var fe fieldErrors
	var cs []store.Contact
	var lines []int
	file := newCSVLines(data, &fe)
	for {
		line, rec, ok := file.next()
		if !ok {
			break
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "name") {
			continue
		}
		var nums []string
		for _, n := range rec[1:] {
			if n = strings.TrimSpace(n); n != "" {
				nums = append(nums, n)
			}
		}
		name, e164 := checkContact(&fe, fmt.Sprintf("line %d: ", line), rec[0], nums)
		cs = append(cs, store.Contact{Name: name, Numbers: e164})
		lines = append(lines, line)
		if len(cs) > maxImportLines {
			fe.add(fmt.Sprintf("line %d", line), "at most %d contacts per file", maxImportLines)
			break
		}
	}
	if len(cs) == 0 && len(fe) == 0 {
		fe.add("file", "no contact in the file")
	}
	if err := fe.err(); err != nil {
		return err
	}
	created, err := s.store.ImportContacts(c.ctx(), c.tenant.ID, cs)
	if err != nil {
		return err
	}
	out := importJSON{Imported: len(created)}
	for i, ct := range created {
		out.Lines = append(out.Lines, importLineJSON{Line: lines[i], ID: ct.ID, Name: ct.Name})
	}
	return c.reply(201, out)
}
