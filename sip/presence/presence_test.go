package presence

import (
	"encoding/xml"
	"testing"
)

// The dialog-info documents are well-formed XML in the RFC 4235 namespace:
// no dialog when idle, one dialog in the user's state otherwise.
func TestDialogInfo(t *testing.T) {
	type doc struct {
		XMLName xml.Name `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
		Version int      `xml:"version,attr"`
		State   string   `xml:"state,attr"`
		Entity  string   `xml:"entity,attr"`
		Dialogs []struct {
			ID    string `xml:"id,attr"`
			State string `xml:"state"`
		} `xml:"dialog"`
	}
	for _, tc := range []struct {
		state   string
		dialogs int
	}{{"terminated", 0}, {"early", 1}, {"confirmed", 1}} {
		var d doc
		body := dialogInfo(`sip:202@a&b.test`, 7, tc.state)
		if err := xml.Unmarshal(body, &d); err != nil {
			t.Fatalf("%s: %v\n%s", tc.state, err, body)
		}
		if d.Version != 7 || d.State != "full" || d.Entity != "sip:202@a&b.test" || len(d.Dialogs) != tc.dialogs {
			t.Fatalf("%s: %+v", tc.state, d)
		}
		if tc.dialogs == 1 && d.Dialogs[0].State != tc.state {
			t.Fatalf("%s: dialog state %q", tc.state, d.Dialogs[0].State)
		}
	}
}
