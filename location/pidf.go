package location

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Namespaces of a PIDF-LO document.
const (
	nsPIDF  = "urn:ietf:params:xml:ns:pidf"
	nsDM    = "urn:ietf:params:xml:ns:pidf:data-model"
	nsGP    = "urn:ietf:params:xml:ns:pidf:geopriv10"
	nsCA    = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
	nsGBP   = "urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"
	nsGML   = "http://www.opengis.net/gml"
	nsGS    = "http://www.opengis.net/pidflo/1.0"
	srs4326 = "urn:ogc:def:crs:EPSG::4326"
)

// civicXML decodes a ca:civicAddress; encoding/xml matches the local
// names, and Parse only hands it elements of the civic namespace.
type civicXML struct {
	Country string `xml:"country"`
	A1      string `xml:"A1"`
	A2      string `xml:"A2"`
	A3      string `xml:"A3"`
	A6      string `xml:"A6"`
	RD      string `xml:"RD"`
	STS     string `xml:"STS"`
	HNO     string `xml:"HNO"`
	HNS     string `xml:"HNS"`
	PC      string `xml:"PC"`
	BLD     string `xml:"BLD"`
	FLR     string `xml:"FLR"`
	UNIT    string `xml:"UNIT"`
	ROOM    string `xml:"ROOM"`
	LOC     string `xml:"LOC"`
	NAM     string `xml:"NAM"`
}

// shapeXML decodes a gml:Point or a gs:Circle.
type shapeXML struct {
	Pos    string `xml:"pos"`
	Radius string `xml:"radius"`
}

// Parse reads the first location of a PIDF-LO document, wherever it
// stands (a tuple's status as in RFC 4119, a device or a person as in
// RFC 5491): its civic address, its geodetic Point or Circle, and its
// method.
func Parse(doc []byte) (Location, error) {
	if len(doc) > MaxSize {
		return Location{}, ErrTooLarge
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var loc Location
	sawPresence := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Location{}, fmt.Errorf("location: PIDF-LO: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case se.Name.Space == nsPIDF && se.Name.Local == "presence":
			sawPresence = true
		case se.Name.Space == nsCA && se.Name.Local == "civicAddress" && loc.Civic == nil:
			var c civicXML
			if err := dec.DecodeElement(&c, &se); err != nil {
				return Location{}, fmt.Errorf("location: civic address: %w", err)
			}
			civic := Civic(c)
			trimCivic(&civic)
			if !civic.Empty() {
				loc.Civic = &civic
			}
		case (se.Name.Space == nsGML && se.Name.Local == "Point" || se.Name.Space == nsGS && se.Name.Local == "Circle") && loc.Point == nil:
			var s shapeXML
			if err := dec.DecodeElement(&s, &se); err != nil {
				return Location{}, fmt.Errorf("location: %s: %w", se.Name.Local, err)
			}
			p, err := parseShape(s)
			if err != nil {
				return Location{}, err
			}
			loc.Point = &p
		case se.Name.Space == nsGP && se.Name.Local == "method" && loc.Method == "":
			var m string
			if err := dec.DecodeElement(&m, &se); err != nil {
				return Location{}, fmt.Errorf("location: method: %w", err)
			}
			loc.Method = strings.TrimSpace(m)
		}
	}
	if !sawPresence {
		return Location{}, errors.New("location: not a PIDF document (no presence element)")
	}
	if !loc.Valid() {
		return Location{}, ErrNoLocation
	}
	return loc, nil
}

func parseShape(s shapeXML) (Point, error) {
	f := strings.Fields(s.Pos)
	if len(f) < 2 {
		return Point{}, fmt.Errorf("location: gml:pos %q: want latitude and longitude", s.Pos)
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return Point{}, fmt.Errorf("location: gml:pos %q: not a WGS 84 position", s.Pos)
	}
	p := Point{Lat: lat, Lon: lon}
	if r := strings.TrimSpace(s.Radius); r != "" {
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || v < 0 {
			return Point{}, fmt.Errorf("location: radius %q", r)
		}
		p.Radius = v
	}
	return p, nil
}

func trimCivic(c *Civic) {
	for _, f := range []*string{&c.Country, &c.A1, &c.A2, &c.A3, &c.A6, &c.RD, &c.STS, &c.HNO, &c.HNS, &c.PC, &c.BLD, &c.FLR, &c.UNIT, &c.ROOM, &c.LOC, &c.NAM} {
		*f = strings.TrimSpace(*f)
	}
}

// Document is what Build writes.
type Document struct {
	// Entity is the presentity, the caller's URI ("sip:+3221234567@pbx").
	Entity string
	// DeviceID names the device (a MAC "mac:001122334455", or our id).
	DeviceID string
	Location Location
	// Timestamp is when the location was known (zero: left out).
	Timestamp time.Time
}

// Build writes a PIDF-LO document (RFC 5491: the location under
// dm:device, with retransmission allowed so that the emergency service
// may pass it on).
func Build(d Document) ([]byte, error) {
	if !d.Location.Valid() {
		return nil, ErrNoLocation
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<presence xmlns="%s" xmlns:dm="%s" xmlns:gp="%s" xmlns:ca="%s" xmlns:gbp="%s" xmlns:gml="%s" xmlns:gs="%s" entity="%s">`+"\n",
		nsPIDF, nsDM, nsGP, nsCA, nsGBP, nsGML, nsGS, esc(d.Entity))
	b.WriteString(` <dm:device id="dev1">` + "\n  <gp:geopriv>\n   <gp:location-info>\n")
	if c := d.Location.Civic; c != nil && !c.Empty() {
		b.WriteString("    <ca:civicAddress>")
		for _, f := range []struct{ name, v string }{
			{"country", c.Country}, {"A1", c.A1}, {"A2", c.A2}, {"A3", c.A3}, {"A6", c.A6}, {"RD", c.RD}, {"STS", c.STS},
			{"HNO", c.HNO}, {"HNS", c.HNS}, {"LOC", c.LOC}, {"NAM", c.NAM}, {"PC", c.PC}, {"BLD", c.BLD}, {"UNIT", c.UNIT},
			{"FLR", c.FLR}, {"ROOM", c.ROOM},
		} {
			if f.v != "" {
				fmt.Fprintf(&b, "<ca:%s>%s</ca:%s>", f.name, esc(f.v), f.name)
			}
		}
		b.WriteString("</ca:civicAddress>\n")
	}
	if p := d.Location.Point; p != nil {
		pos := strconv.FormatFloat(p.Lat, 'f', -1, 64) + " " + strconv.FormatFloat(p.Lon, 'f', -1, 64)
		if p.Radius > 0 {
			fmt.Fprintf(&b, `    <gs:Circle srsName="%s"><gml:pos>%s</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">%s</gs:radius></gs:Circle>`+"\n",
				srs4326, pos, strconv.FormatFloat(p.Radius, 'f', -1, 64))
		} else {
			fmt.Fprintf(&b, `    <gml:Point srsName="%s"><gml:pos>%s</gml:pos></gml:Point>`+"\n", srs4326, pos)
		}
	}
	b.WriteString("   </gp:location-info>\n   <gp:usage-rules><gbp:retransmission-allowed>true</gbp:retransmission-allowed></gp:usage-rules>\n")
	method := d.Location.Method
	if method == "" {
		method = "Manual"
	}
	fmt.Fprintf(&b, "   <gp:method>%s</gp:method>\n  </gp:geopriv>\n", esc(method))
	if d.DeviceID != "" {
		fmt.Fprintf(&b, "  <dm:deviceID>%s</dm:deviceID>\n", esc(d.DeviceID))
	}
	if !d.Timestamp.IsZero() {
		fmt.Fprintf(&b, "  <dm:timestamp>%s</dm:timestamp>\n", d.Timestamp.UTC().Format(time.RFC3339))
	}
	b.WriteString(" </dm:device>\n</presence>\n")
	return b.Bytes(), nil
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // quotes too: safe in attributes
	return b.String()
}
