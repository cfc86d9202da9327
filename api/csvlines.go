package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvLines reads an uploaded CSV file line by line: a UTF-8 byte-order
// mark is dropped, lines may have any number of fields, blank lines are
// skipped. A syntax error is reported in fe as "line N" and ends the file,
// since the reader cannot go on after one.
type csvLines struct {
	r  *csv.Reader
	fe *fieldErrors
}

func newCSVLines(data []byte, fe *fieldErrors) *csvLines {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\ufeff")))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	return &csvLines{r: r, fe: fe}
}

// next returns the next record that is not blank and its line number;
// ok is false at the end of the file or after a syntax error.
func (c *csvLines) next() (line int, rec []string, ok bool) {
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			return 0, nil, false
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			c.fe.add(fmt.Sprintf("line %d", line), "%v", err)
			return 0, nil, false
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := c.r.FieldPos(0)
		return line, rec, true
	}
}
