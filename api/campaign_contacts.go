package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"pbx/numbering"
	"pbx/store"
)

type contactUploadJSON struct {
	Added int `json:"added" doc:"contacts added; a file with any bad line adds none and answers 422 naming every bad line (field \"line N: number\")"`
	Total int `json:"total" doc:"the campaign's contacts now"`
}

// uploadCampaignContacts reads a CSV of contacts: a first line starting
// with "number" names the columns (number, name, then custom fields
// kept with each contact); without it the columns are number and name.
// Every line is checked before anything is added: a number that cannot
// be read, is not a subscriber's (short and emergency numbers), comes
// twice or is on a do-not-call list makes the whole file a 422 naming
// each such line.
func (s *server) uploadCampaignContacts(c *call) error {
	cmp, err := c.campaign()
	if err != nil {
		return err
	}
	if cmp.State == store.CampaignFinished {
		return conflictOn("state", "a finished campaign takes no more contacts")
	}
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/csv" && mt != "text/plain") {
		return httpProblem(http.StatusUnsupportedMediaType, "send the file as text/csv")
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxImportBytes))
	if err != nil {
		return tooLarge()
	}
	existing, err := s.store.CampaignContacts(c.ctx(), cmp.ID)
	if err != nil {
		return err
	}
	seen := map[string]int{} // number → its line, 0 for one the campaign has
	for _, ct := range existing {
		seen[ct.Number] = 0
	}
	var fe fieldErrors
	cols := []string{"number", "name"}
	var cs []store.CampaignContact
	file := newCSVLines(data, &fe)
	for {
		line, rec, ok := file.next()
		if !ok {
			break
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "number") {
			cols = make([]string, len(rec))
			for i, h := range rec {
				cols[i] = strings.ToLower(strings.TrimSpace(h))
			}
			continue
		}
		field := fmt.Sprintf("line %d: number", line)
		ct, ok := contactOf(cols, rec)
		e164, err := numbering.Normalize(ct.Number)
		switch {
		case !ok:
			fe.add(fmt.Sprintf("line %d", line), "more columns than the header names")
			continue
		case err != nil:
			fe.add(field, "%q is not a valid telephone number", ct.Number)
			continue
		case numbering.Short(ct.Number):
			fe.add(field, "%q is a short number, which campaigns do not call", ct.Number)
			continue
		}
		if first, dup := seen[e164]; dup {
			if first == 0 {
				fe.add(field, "%s is already in the campaign", e164)
			} else {
				fe.add(field, "%s duplicates line %d", e164, first)
			}
			continue
		}
		seen[e164] = line
		list, err := s.store.DoNotCall(c.ctx(), c.tenant.ID, e164)
		if err != nil {
			return err
		}
		if list != "" {
			fe.add(field, "%s is on the %s do-not-call list", e164, list)
			continue
		}
		ct.Number = e164
		cs = append(cs, ct)
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
	if err := s.store.AddCampaignContacts(c.ctx(), cmp.ID, cs); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return conflictOn("file", "contacts were added meanwhile; upload the file again")
		}
		return err
	}
	return c.reply(201, contactUploadJSON{Added: len(cs), Total: len(existing) + len(cs)})
}

// contactOf reads one CSV record by the columns' names; false when it has
// more values than names.
func contactOf(cols, rec []string) (store.CampaignContact, bool) {
	if len(rec) > len(cols) {
		return store.CampaignContact{}, false
	}
	var ct store.CampaignContact
	fields := map[string]string{}
	for i, v := range rec {
		v = strings.TrimSpace(v)
		switch cols[i] {
		case "number":
			ct.Number = v
		case "name":
			ct.Name = v
		default:
			fields[cols[i]] = v
		}
	}
	if len(fields) > 0 {
		b, _ := json.Marshal(fields)
		ct.Fields = string(b)
	}
	return ct, true
}
