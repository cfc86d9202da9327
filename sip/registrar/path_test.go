package registrar

import (
	"strings"
	"testing"
)

// A REGISTER relayed by edge proxies stores their Path with the binding
// and echoes it in the 200 (RFC 3327); a refresh sent directly clears it.
func TestRegisterStoresPath(t *testing.T) {
	st := newMemStore()
	r := newTestRegistrar(st)
	defer r.Close()
	contact := "Contact: <sip:alice@192.0.2.10:5060>\r\n"
	paths := "Path: <sip:edge1.example;lr;received=sip:192.0.2.10:40312>\r\nPath: <sip:edge2.example;lr>\r\n"
	want := "<sip:edge1.example;lr;received=sip:192.0.2.10:40312>, <sip:edge2.example;lr>"
	tx := handle(t, r, strings.Replace(authorized(2, "600"), contact, contact+paths, 1))
	if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
		t.Fatalf("want one 200, got %+v", tx)
	}
	if h := tx.responses[0].GetHeader("Path"); h == nil || h.Value() != want {
		t.Errorf("200 OK Path %v, want %q", h, want)
	}
	b := st.bindings["sip:alice@192.0.2.10:5060"]
	if b.Path != want {
		t.Errorf("stored Path %q, want %q", b.Path, want)
	}
	tx = handle(t, r, authorized(3, "600"))
	if tx == nil || len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 || tx.responses[0].GetHeader("Path") != nil {
		t.Fatalf("direct refresh: %+v", tx)
	}
	if b := st.bindings["sip:alice@192.0.2.10:5060"]; b.Path != "" {
		t.Errorf("a direct refresh left Path %q", b.Path)
	}
}
