package provisioning

import (
	"path"
	"strings"
)

type reqKind int

const (
	reqNone      reqKind = iota
	reqDevice            // <mac>.cfg or <MAC>.xml
	reqCommon            // y0000000000NN.cfg
	reqPhonebook         // pb/<mac>/<token>/<file>
)

type request struct {
	kind reqKind
	name string // file name, lower case for common files
	mac  string // normalised MAC of a device file
	ext  string // ".cfg" or ".xml"
	// prefix is "cfg" for Grandstream's cfg<mac>.xml.
	prefix string
	// token and format of a directory request.
	token  string
	format PhonebookFormat
}

// classify maps a file name below /prov/ to what it is. Names with a
// directory part (e.g. Gigaset's 42/2/master.bin) are never served.
func classify(name string) request {
	if r, ok := classifyPhonebook(name); ok {
		return r
	}
	if name == "" || strings.ContainsAny(name, "/\\") {
		return request{}
	}
	lower := strings.ToLower(name)
	if isCommonFile(lower) {
		return request{kind: reqCommon, name: lower}
	}
	for _, ext := range []string{".cfg", ".xml"} {
		if base, ok := strings.CutSuffix(lower, ext); ok {
			if mac, err := NormalizeMAC(base); err == nil {
				return request{kind: reqDevice, name: name, mac: mac, ext: ext}
			}
			// Grandstream: cfg<mac>.xml.
			if rest, ok := strings.CutPrefix(base, "cfg"); ok && ext == ".xml" {
				if mac, err := NormalizeMAC(rest); err == nil {
					return request{kind: reqDevice, name: name, mac: mac, ext: ext, prefix: "cfg"}
				}
			}
		}
	}
	return request{}
}

// fileFits reports whether a device-file request names the file of a model:
// same extension and same "cfg" prefix, any case and MAC spelling.
func (r request) fileFits(m Model, mac string) bool {
	want := strings.ToLower(m.FileName(mac))
	return r.ext == path.Ext(want) && strings.HasPrefix(want, r.prefix) && (r.prefix != "" || !strings.HasPrefix(want, "cfg"))
}
