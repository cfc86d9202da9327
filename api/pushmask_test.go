package api

import "testing"

func TestMaskContact(t *testing.T) {
	for in, want := range map[string]string{
		"sip:a@h;transport=tcp":                                 "sip:a@h;transport=tcp",
		"sip:a@h;pn-provider=apns;pn-prid=0123456789abcdef0123": "sip:a@h;pn-provider=apns;pn-prid=0123****0123",
		"sip:a@h;PN-PRID=short;pn-param=x":                      "sip:a@h;PN-PRID=****;pn-param=x",
		"sip:a@h;pn-prid=":                                      "sip:a@h;pn-prid=****",
	} {
		if got := maskContact(in); got != want {
			t.Errorf("maskContact(%q) = %q, want %q", in, got, want)
		}
	}
}
