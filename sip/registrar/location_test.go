package registrar

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const regPIDF = `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="sip:a@b">` +
	`<ca:civicAddress><ca:country>BE</ca:country><ca:PC>9000</ca:PC></ca:civicAddress></presence>`

func registerWith(ctype, body string, geo ...string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "pbx.test"})
	for _, g := range geo {
		req.AppendHeader(sip.NewHeader("Geolocation", g))
	}
	if ctype != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	}
	req.SetBody([]byte(body))
	return req
}

// A REGISTER's location by value is kept as the device sent it, whether
// the body is the PIDF-LO alone or one part of several; a REGISTER
// without Geolocation conveys none, and one whose location is unusable
// is an error (the registration goes on without it).
func TestConveyedLocation(t *testing.T) {
	multi := "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/pidf+xml\r\nContent-ID: <l1@phone>\r\n\r\n" + regPIDF + "\r\n--b--\r\n"
	for name, tc := range map[string]struct {
		req     *sip.Request
		want    string
		wantErr bool
	}{
		"multipart":       {registerWith("multipart/mixed;boundary=b", multi, "<cid:l1@phone>"), regPIDF, false},
		"none":            {registerWith("", ""), "", false},
		"by reference":    {registerWith("", "", "<https://lis.example/l>"), "", true},
		"not a location":  {registerWith("multipart/mixed;boundary=b", strings.Replace(multi, "<ca:country>BE</ca:country><ca:PC>9000</ca:PC>", "", 1), "<cid:l1@phone>"), "", true},
		"part without id": {registerWith("application/pidf+xml", regPIDF, "<cid:l1@phone>"), "", true},
		"lone body":       {withContentID(registerWith("application/pidf+xml", regPIDF, "<cid:l1@phone>"), "<l1@phone>"), regPIDF, false},
	} {
		got, err := conveyedLocation(tc.req)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
}

func withContentID(req *sip.Request, cid string) *sip.Request {
	req.AppendHeader(sip.NewHeader("Content-ID", cid))
	return req
}

// A REGISTER's location lands on its binding; a suspended tenant's
// device may not register.
func TestRegisterLocationAndSuspendedTenant(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	raw := strings.Replace(authorized(1, "600"), "Content-Length: 0\r\n\r\n",
		"Geolocation: <cid:l1@phone>\r\nContent-Type: application/pidf+xml\r\nContent-ID: <l1@phone>\r\n"+
			fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(regPIDF), regPIDF), 1)
	if tx := handle(t, r, raw); tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
		t.Fatalf("register with location: %+v", tx)
	}
	st.mu.Lock()
	b := st.bindings["sip:alice@192.0.2.10:5060"]
	st.mu.Unlock()
	if b.Location != regPIDF {
		t.Fatalf("binding location %q", b.Location)
	}
	st.auth.Tenant.BillingState = "suspended"
	if tx := handle(t, r, authorized(2, "600")); tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 403 {
		t.Fatalf("register of a suspended tenant: %+v", tx)
	}
}
