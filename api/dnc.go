package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"pbx/numbering"
	"pbx/store"
)

// platformDNCFormat documents the platform list's file, as the OpenAPI
// summary of its import.
const platformDNCFormat = "Replace the platform's do-not-call list (Belgium's \"Ne m'appelez plus / Bel-me-niet-meer\" register) with a file: " +
	"one number per line, national (050 12 34 56, 0470/12.34.56) or E.164 (+3250123456, 0032...); spaces, dots, slashes and dashes are ignored; " +
	"blank lines and lines starting with # are skipped, as is a header line \"number\" (a one-column CSV). Any bad line replaces nothing and answers 422 naming it"

type dncRequest struct {
	Number string `json:"number" doc:"in any usual form; kept in E.164"`
}

type dncJSON struct {
	Number string `json:"number"`
}

type dncImportJSON struct {
	Numbers int `json:"numbers" doc:"numbers on the platform's list now"`
}

func (s *server) addDoNotCall(c *call) error {
	var in dncRequest
	if err := c.decode(&in); err != nil {
		return err
	}
	e164, err := numbering.Normalize(in.Number)
	if err != nil {
		return invalid("number", "not a valid telephone number")
	}
	if err := s.store.AddTenantDNC(c.ctx(), c.tenant.ID, e164, "api", s.now()); err != nil {
		return err
	}
	return c.reply(201, dncJSON{Number: e164})
}

func (s *server) removeDoNotCall(c *call) error {
	n := c.path("dnc_number")
	e164, err := numbering.Normalize(n)
	if err != nil {
		e164 = n
	}
	if err := s.store.RemoveTenantDNC(c.ctx(), c.tenant.ID, e164); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("number %q is not on the tenant's do-not-call list", n)
		}
		return err
	}
	return c.noContent()
}

// maxDNCBytes bounds the platform list's file: the register holds a few
// hundred thousand numbers.
const maxDNCBytes = 64 << 20

func (s *server) importPlatformDNC(c *call) error {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/plain" && mt != "text/csv") {
		return httpProblem(http.StatusUnsupportedMediaType, "send the file as text/plain")
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxDNCBytes))
	if err != nil {
		return tooLarge()
	}
	var fe fieldErrors
	var numbers []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	for line := 1; sc.Scan(); line++ {
		v := strings.TrimSpace(sc.Text())
		if v == "" || strings.HasPrefix(v, "#") || strings.EqualFold(v, "number") {
			continue
		}
		e164, err := numbering.Normalize(v)
		if err != nil {
			if len(fe) < 100 {
				fe.add(fmt.Sprintf("line %d", line), "%q is not a valid telephone number", v)
			}
			continue
		}
		if !seen[e164] {
			seen[e164] = true
			numbers = append(numbers, e164)
		}
	}
	if err := sc.Err(); err != nil {
		fe.add("file", "%v", err)
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.ReplacePlatformDNC(c.ctx(), numbers, s.now()); err != nil {
		return err
	}
	s.log.InfoContext(c.ctx(), "api: platform do-not-call list replaced", "numbers", len(numbers))
	return c.reply(200, dncImportJSON{Numbers: len(numbers)})
}
