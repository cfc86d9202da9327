package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// sipRequest is a request under construction, header by header.
type sipRequest struct {
	start   string
	headers []string
	body    string
}

func (r sipRequest) String() string { return sipMessage(r.start, r.headers...) + r.body }

func headerName(h string) string {
	name, _, _ := strings.Cut(h, ":")
	return strings.ToLower(strings.TrimSpace(name))
}

// without drops every header called name.
func (r sipRequest) without(name string) sipRequest {
	var hs []string
	for _, h := range r.headers {
		if headerName(h) != strings.ToLower(name) {
			hs = append(hs, h)
		}
	}
	r.headers = hs
	return r
}

// with replaces (or adds) the header name.
func (r sipRequest) with(name, value string) sipRequest {
	for i, h := range r.headers {
		if headerName(h) == strings.ToLower(name) {
			hs := append([]string(nil), r.headers...)
			hs[i] = name + ": " + value
			r.headers = hs
			return r
		}
	}
	r.headers = append(append([]string(nil), r.headers...), name+": "+value)
	return r
}

// validRequest is a well-formed request of method from account a through c,
// with a fresh branch, tag and Call-ID.
func validRequest(c *rawSIP, method string, a Account, cseq int) (sipRequest, string) {
	via, branch := c.via()
	aor := fmt.Sprintf("<sip:%s@%s>", a.Username, a.Domain)
	return sipRequest{
		start: fmt.Sprintf("%s sip:%s SIP/2.0", method, a.Domain),
		headers: []string{
			via,
			"Max-Forwards: 70",
			"From: " + aor + ";tag=" + randomToken(8),
			"To: " + aor,
			"Call-ID: " + randomToken(16) + "@interop",
			fmt.Sprintf("CSeq: %d %s", cseq, method),
			fmt.Sprintf("Contact: <sip:%s@%s>", a.Username, c.conn.LocalAddr()),
			"Expires: 600",
			"User-Agent: interop-raw",
			"Content-Length: 0",
		},
	}, branch
}

// authorize returns req with valid digest credentials of a, after fetching a
// challenge with a well-formed REGISTER.
func authorize(t *testing.T, c *rawSIP, a Account, req sipRequest) sipRequest {
	t.Helper()
	probe, branch := validRequest(c, "REGISTER", a, 1)
	res, err := c.exchange(probe.String(), branch, 5*time.Second)
	if err != nil || res.Status != 401 {
		t.Fatalf("REGISTER to get a challenge: %v %v", res, err)
	}
	ch, err := md5Challenge(res)
	if err != nil {
		t.Fatal(err)
	}
	method, uri, _ := strings.Cut(req.start, " ")
	uri, _, _ = strings.Cut(uri, " ")
	cred, err := digestMD5(ch, method, uri, a)
	if err != nil {
		t.Fatal(err)
	}
	return req.with("Authorization", cred).with("CSeq", "2 "+method)
}

// TestMalformedRequestsAreAnswered sends requests that parse but break a
// rule, one UDP datagram each, and wants an error response for each: never
// silence, never a crash. Cases marked authenticated carry valid
// credentials, so the registrar gets past the challenge to the broken part.
func TestMalformedRequestsAreAnswered(t *testing.T) {
	srv := startServer(t, sippArgs...)
	ctx := testContext(t, 2*time.Minute)
	_, accounts, err := srv.API().CreateAccounts(ctx, "Interop Malformed", 20, 4)
	if err != nil {
		t.Fatal(err)
	}
	is4xx := func(code int) bool { return code >= 400 && code < 500 }
	is400 := func(code int) bool { return code == 400 }
	cases := []struct {
		name   string
		method string
		auth   bool
		mutate func(r sipRequest) sipRequest
		want   func(code int) bool
		wants  string
	}{
		{"REGISTER without Call-ID", "REGISTER", false, func(r sipRequest) sipRequest { return r.without("Call-ID") }, is400, "400"},
		{"REGISTER without CSeq", "REGISTER", false, func(r sipRequest) sipRequest { return r.without("CSeq") }, is400, "400"},
		{"REGISTER without To", "REGISTER", false, func(r sipRequest) sipRequest { return r.without("To") }, is400, "400"},
		{"REGISTER without From", "REGISTER", false, func(r sipRequest) sipRequest { return r.without("From") }, is400, "400"},
		{"REGISTER with CSeq method INVITE", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("CSeq", "1 INVITE") }, is400, "400"},
		{"REGISTER with CSeq number 'one'", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("CSeq", "one REGISTER") }, is400, "400"},
		{"REGISTER with Expires 'soon'", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("Expires", "soon") }, is4xx, "4xx"},
		{"authenticated REGISTER with Expires 'soon'", "REGISTER", true, func(r sipRequest) sipRequest { return r.with("Expires", "soon") }, is400, "400"},
		{"authenticated REGISTER with Expires -1", "REGISTER", true, func(r sipRequest) sipRequest { return r.with("Expires", "-1") }, is400, "400"},
		{"REGISTER with unterminated Contact <sip:...", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("Contact", "<sip:x@127.0.0.1:5099") }, is4xx, "4xx"},
		{"authenticated REGISTER with unterminated Contact <sip:...", "REGISTER", true, func(r sipRequest) sipRequest { return r.with("Contact", "<sip:x@127.0.0.1:5099") }, is400, "400"},
		{"authenticated REGISTER with Contact <not a uri>", "REGISTER", true, func(r sipRequest) sipRequest { return r.with("Contact", "<not a uri>") }, is400, "400"},
		{"authenticated REGISTER with Contact ;expires=abc", "REGISTER", true, func(r sipRequest) sipRequest {
			return r.with("Contact", "<sip:x@127.0.0.1:5099>;expires=abc")
		}, is400, "400"},
		{"REGISTER with Authorization 'Digest garbage'", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("Authorization", "Digest garbage") }, is4xx, "4xx"},
		{"REGISTER with Content-Length beyond the datagram", "REGISTER", false, func(r sipRequest) sipRequest { return r.with("Content-Length", "100") }, is400, "400"},
		{"OPTIONS without Call-ID", "OPTIONS", false, func(r sipRequest) sipRequest { return r.without("Call-ID") }, is400, "400"},
		{"OPTIONS without CSeq", "OPTIONS", false, func(r sipRequest) sipRequest { return r.without("CSeq") }, is400, "400"},
		{"unknown method FROB", "FROB", false, func(r sipRequest) sipRequest { return r }, func(c int) bool { return c == 405 || c == 501 }, "405 or 501"},
		{"OPTIONS with an http: Request-URI", "OPTIONS", false, func(r sipRequest) sipRequest { r.start = "OPTIONS http://example.com/ SIP/2.0"; return r }, is4xx, "4xx (416)"},
		{"OPTIONS with version SIP/3.0", "OPTIONS", false, func(r sipRequest) sipRequest { r.start = strings.Replace(r.start, "SIP/2.0", "SIP/3.0", 1); return r },
			func(c int) bool { return c == 505 || is4xx(c) }, "505 (or 4xx)"},
	}
	if len(accounts) < len(cases) {
		t.Fatalf("need %d accounts", len(cases))
	}
	t.Run("cases", func(t *testing.T) {
		for i, tc := range cases {
			acc := accounts[i]
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				c := dialRaw(t, "udp", srv.SIPAddr)
				req, branch := validRequest(c, tc.method, acc, 1)
				req = tc.mutate(req)
				if tc.auth {
					req = authorize(t, c, acc, req)
				}
				res, err := c.exchange(req.String(), branch, 4*time.Second)
				if err != nil {
					t.Errorf("want %s, got silence (%v) for:\n%s", tc.wants, err, req)
					return
				}
				if res.Proto != "SIP/2.0" || !tc.want(res.Status) {
					t.Errorf("want %s, got %s for:\n%s", tc.wants, res, req)
					return
				}
				t.Logf("%s", res)
			})
		}
	})
	if !srv.Alive() {
		t.Fatalf("the server died: %v", srv.ExitErr())
	}
	assertAnswers(t, srv, accounts[len(accounts)-1])
}

// assertAnswers checks the server still answers OPTIONS (UDP and TCP) and
// challenges a REGISTER, within a few seconds each.
func assertAnswers(t *testing.T, srv *Server, acc Account) {
	t.Helper()
	for _, network := range []string{"udp", "tcp"} {
		c := dialRaw(t, network, srv.SIPAddr)
		opt, branch := validRequest(c, "OPTIONS", acc, 1)
		res, err := c.exchange(opt.String(), branch, 5*time.Second)
		if err != nil || res.Status != 200 {
			t.Errorf("OPTIONS over %s: want 200, got %v (%v)", network, res, err)
		}
		reg, branch := validRequest(c, "REGISTER", acc, 1)
		res, err = c.exchange(reg.String(), branch, 5*time.Second)
		if err != nil || res.Status != 401 {
			t.Errorf("REGISTER over %s: want 401, got %v (%v)", network, res, err)
		}
	}
	if err := srv.Healthy(); err != nil {
		t.Errorf("healthz: %v", err)
	}
	if !srv.Alive() {
		t.Fatalf("the server died: %v", srv.ExitErr())
	}
}
