package sipserver

import "testing"

func TestLogURIMasksPushToken(t *testing.T) {
	for in, want := range map[string]string{
		"sip:201@192.0.2.1:5060": "sip:201@192.0.2.1:5060",
		"sip:m@192.0.2.9:5061;transport=tls;pn-provider=apns;pn-prid=0123456789abcdef0123;pn-param=T.app.voip": "sip:m@192.0.2.9:5061;transport=tls;pn-provider=apns;pn-prid=0123****0123;pn-param=T.app.voip",
		"sip:m@192.0.2.9;PN-PRID=0123456789abcdefWXYZ":                                                         "sip:m@192.0.2.9;PN-PRID=0123****WXYZ",
		"sip:m@192.0.2.9;pn-prid=short?x=1":                                                                    "sip:m@192.0.2.9;pn-prid=****?x=1",
	} {
		if got := LogURI(in); got != want {
			t.Errorf("LogURI(%q) = %q, want %q", in, got, want)
		}
	}
}
