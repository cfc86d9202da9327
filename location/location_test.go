package location

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"
)

// A softphone's location in the RFC 4119 form (under a tuple's status),
// with a civic address and the method.
const tupleDoc = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
  xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"
  xmlns:cl="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
  entity="pres:alice@acme.example">
 <tuple id="t1"><status><gp:geopriv>
  <gp:location-info><cl:civicAddress xml:lang="nl">
   <cl:country>BE</cl:country><cl:A1>Vlaanderen</cl:A1><cl:A3> Gent </cl:A3>
   <cl:RD>Veldstraat</cl:RD><cl:HNO>12</cl:HNO><cl:HNS>b</cl:HNS><cl:PC>9000</cl:PC><cl:FLR>2</cl:FLR>
  </cl:civicAddress></gp:location-info>
  <gp:usage-rules/><gp:method>Manual</gp:method>
 </gp:geopriv></status></tuple>
</presence>`

// A mobile softphone's location as RFC 5491 puts it: a Circle under
// dm:device.
const circleDoc = `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
  xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml"
  xmlns:gs="http://www.opengis.net/pidflo/1.0" entity="sip:bob@acme.example">
 <dm:device id="d"><gp:geopriv><gp:location-info>
  <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>50.8467 4.3525</gml:pos>
   <gs:radius uom="urn:ogc:def:uom:EPSG::9001">15</gs:radius></gs:Circle>
 </gp:location-info><gp:method>GPS</gp:method></gp:geopriv></dm:device>
</presence>`

func TestParse(t *testing.T) {
	loc, err := Parse([]byte(tupleDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := Civic{Country: "BE", A1: "Vlaanderen", A3: "Gent", RD: "Veldstraat", HNO: "12", HNS: "b", PC: "9000", FLR: "2"}
	if loc.Civic == nil || *loc.Civic != want || loc.Point != nil || loc.Method != "Manual" {
		t.Fatalf("parsed %+v %+v", loc, loc.Civic)
	}
	loc, err = Parse([]byte(circleDoc))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Civic != nil || loc.Point == nil || *loc.Point != (Point{Lat: 50.8467, Lon: 4.3525, Radius: 15}) || loc.Method != "GPS" {
		t.Fatalf("parsed %+v %+v", loc, loc.Point)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not xml":        "hello",
		"not pidf":       `<foo xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"><ca:civicAddress><ca:country>BE</ca:country></ca:civicAddress></foo>`,
		"no location":    `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple id="x"><status/></tuple></presence>`,
		"empty civic":    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="sip:a@b"><ca:civicAddress> </ca:civicAddress></presence>`,
		"bad position":   `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gml="http://www.opengis.net/gml" entity="sip:a@b"><gml:Point><gml:pos>91 4</gml:pos></gml:Point></presence>`,
		"truncated":      tupleDoc[:len(tupleDoc)/2],
		"too large":      `<presence xmlns="urn:ietf:params:xml:ns:pidf">` + strings.Repeat(" ", MaxSize) + `</presence>`,
		"wrong civic ns": `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:ca="urn:example" entity="sip:a@b"><ca:civicAddress><ca:country>BE</ca:country></ca:civicAddress></presence>`,
	} {
		if loc, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed %+v", name, loc)
		}
	}
}

// What Build writes is well-formed XML in the PIDF-LO namespaces, and
// Parse reads back the same location, with escaping of what users typed.
func TestBuildRoundTrip(t *testing.T) {
	for _, loc := range []Location{
		{Civic: &Civic{Country: "BE", A3: "Brussel", RD: "Wetstraat & Co <HQ>", HNO: "16", PC: "1000", NAM: `"Acme"`}},
		{Point: &Point{Lat: 50.8467, Lon: 4.3525}, Method: "GPS"},
		{Point: &Point{Lat: -33.5, Lon: 151.25, Radius: 40.5}, Civic: &Civic{Country: "AU"}, Method: "Wiremap"},
	} {
		doc, err := Build(Document{Entity: `sip:+3221234567@acme.example`, DeviceID: "mac:001122334455", Location: loc, Timestamp: time.Unix(1700000000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(strings.NewReader(string(doc)))
		var root struct {
			XMLName xml.Name
			Entity  string `xml:"entity,attr"`
		}
		if err := dec.Decode(&root); err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
		if root.XMLName.Space != nsPIDF || root.XMLName.Local != "presence" || root.Entity != "sip:+3221234567@acme.example" {
			t.Fatalf("root %+v", root)
		}
		for _, want := range []string{`<dm:device id="dev1">`, "<gp:location-info>", "<gbp:retransmission-allowed>true", "<dm:deviceID>mac:001122334455</dm:deviceID>", "<dm:timestamp>2023-11-14T22:13:20Z</dm:timestamp>"} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("document lacks %s:\n%s", want, doc)
			}
		}
		got, err := Parse(doc)
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if loc.Method == "" {
			loc.Method = "Manual"
		}
		if (got.Civic == nil) != (loc.Civic == nil) || got.Civic != nil && *got.Civic != *loc.Civic ||
			(got.Point == nil) != (loc.Point == nil) || got.Point != nil && *got.Point != *loc.Point || got.Method != loc.Method {
			t.Fatalf("round trip: %+v, want %+v", got, loc)
		}
	}
	if _, err := Build(Document{Entity: "sip:a@b"}); !errors.Is(err, ErrNoLocation) {
		t.Fatalf("empty location built: %v", err)
	}
}

func TestConveyed(t *testing.T) {
	parts := []Part{{ContentType: "application/sdp", Body: []byte("v=0")}, {ContentType: ContentType, ContentID: "<loc1@phone.example>", Body: []byte(tupleDoc)}}
	loc, err := Conveyed([]string{"<https://lis.example/x>, <cid:loc1@phone.example>;inserted-by=phone"}, parts)
	if err != nil || loc.Civic == nil || loc.Civic.PC != "9000" {
		t.Fatalf("conveyed %+v, %v", loc, err)
	}
	for name, geo := range map[string][]string{
		"no header":    nil,
		"by reference": {"<https://lis.example/x>"},
		"unknown cid":  {"<cid:other@phone.example>"},
	} {
		if _, err := Conveyed(geo, parts); !errors.Is(err, ErrNotByValue) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := Geolocation("x@y"); got != "<cid:x@y>" {
		t.Fatal(got)
	}
}
