package main

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestTrunkCallerPrivacy: a carrier's caller who asks for privacy is
// anonymous, whatever From says.
func TestTrunkCallerPrivacy(t *testing.T) {
	for privacy, anonymous := range map[string]bool{"": false, "none": false, "id": true, "header;id": true, "user": true, "ID": true} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "+3221234567", Host: "pbx.test"})
		from := &sip.FromHeader{DisplayName: "Jan", Address: sip.Uri{Scheme: "sip", User: "+3225550100", Host: "carrier.test"}, Params: sip.NewParams()}
		req.AppendHeader(from)
		if privacy != "" {
			req.AppendHeader(sip.NewHeader("Privacy", privacy))
		}
		o := trunkOrigin("carrier-1", "203.0.113.5:5060", req)
		if got := o.Caller.Number == "anonymous"; got != anonymous {
			t.Errorf("Privacy %q: caller %+v, anonymous %v", privacy, o.Caller, anonymous)
		}
	}
}
