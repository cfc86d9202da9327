// Package location owns the location objects of emergency calls: the
// PIDF-LO documents (RFC 4119, civic addresses of RFC 5139, the profile of
// RFC 5491) that a softphone sends in a REGISTER or an INVITE and that the
// softswitch sends to the carrier, and the reading of the Geolocation
// header (RFC 6442) that points at them. It knows no SIP stack: callers
// hand it header values and body parts.
package location

import (
	"errors"
	"strings"
)

// ContentType is the media type of a PIDF-LO document.
const ContentType = "application/pidf+xml"

// Civic is a civic address (RFC 5139). In Belgium A1 is the region, A2
// the province, A3 the municipality; RD and HNO the street and number;
// PC the four-digit postal code.
type Civic struct {
	Country string `json:"country,omitempty"` // ISO 3166 alpha-2
	A1      string `json:"a1,omitempty"`
	A2      string `json:"a2,omitempty"`
	A3      string `json:"a3,omitempty"` // city
	A6      string `json:"a6,omitempty"`
	RD      string `json:"rd,omitempty"`  // road
	STS     string `json:"sts,omitempty"` // street suffix
	HNO     string `json:"hno,omitempty"` // house number
	HNS     string `json:"hns,omitempty"` // house number suffix
	PC      string `json:"pc,omitempty"`  // postal code
	BLD     string `json:"bld,omitempty"`
	FLR     string `json:"flr,omitempty"`
	UNIT    string `json:"unit,omitempty"`
	ROOM    string `json:"room,omitempty"`
	LOC     string `json:"loc,omitempty"` // additional location information
	NAM     string `json:"nam,omitempty"` // name of the place (a company)
}

// Empty reports whether no field is set.
func (c Civic) Empty() bool { return c == Civic{} }

// Point is a geodetic position (WGS 84, EPSG 4326); a Radius in metres
// makes it a Circle (RFC 5491 §5.2.3).
type Point struct {
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
	Radius float64 `json:"radius,omitempty"`
}

// Location is one location of a device: a civic address, a geodetic
// point, or both.
type Location struct {
	Civic *Civic `json:"civic,omitempty"`
	Point *Point `json:"point,omitempty"`
	// Method says how it was found (RFC 4119 gp:method: "Manual", "GPS",
	// "DHCP", ...).
	Method string `json:"method,omitempty"`
}

// Valid reports whether the location says where the device is.
func (l Location) Valid() bool {
	return l.Civic != nil && !l.Civic.Empty() || l.Point != nil
}

// Errors of Parse and Conveyed.
var (
	ErrNoLocation = errors.New("location: the document holds no civic address or geodetic point")
	ErrNotByValue = errors.New("location: no Geolocation header points at a body part (cid:)")
	ErrTooLarge   = errors.New("location: document too large")
)

// MaxSize bounds a PIDF-LO document we read.
const MaxSize = 16 << 10

// Part is one body part of a SIP message: its media type, its Content-ID
// (without the angle brackets) and its content.
type Part struct {
	ContentType string
	ContentID   string
	Body        []byte
}

// Conveyed finds the location a SIP message conveys by value (RFC 6442
// §4.1): the first cid: URI of its Geolocation header values that names
// one of its body parts, parsed. Locations by reference (https:, sip:)
// are not fetched: ErrNotByValue when there is no cid: one.
func Conveyed(geolocation []string, parts []Part) (Location, error) {
	_, loc, err := ConveyedPart(geolocation, parts)
	return loc, err
}

// ConveyedPart is Conveyed, with the part that holds the document.
func ConveyedPart(geolocation []string, parts []Part) (Part, Location, error) {
	for _, uri := range geolocationURIs(geolocation) {
		cid, ok := strings.CutPrefix(uri, "cid:")
		if !ok {
			continue
		}
		for _, p := range parts {
			if strings.EqualFold(strings.Trim(p.ContentID, "<> "), cid) {
				loc, err := Parse(p.Body)
				return p, loc, err
			}
		}
	}
	return Part{}, Location{}, ErrNotByValue
}

// geolocationURIs splits Geolocation header values into their URIs
// ("<cid:a@b>;inserted-by=x, <https://...>").
func geolocationURIs(values []string) []string {
	var out []string
	for _, v := range values {
		for {
			i := strings.IndexByte(v, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(v[i:], '>')
			if j < 0 {
				break
			}
			out = append(out, strings.TrimSpace(v[i+1:i+j]))
			v = v[i+j+1:]
		}
	}
	return out
}

// Geolocation is the Geolocation header value that points at a location
// body part of Content-ID cid (RFC 6442 §4.1).
func Geolocation(cid string) string { return "<cid:" + cid + ">" }
