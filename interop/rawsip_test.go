package interop

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawSIP writes SIP messages byte for byte over one UDP socket or TCP
// connection and reads the responses, so tests can send what no SIP stack
// would.
type rawSIP struct {
	t       *testing.T
	network string // "udp" or "tcp"
	conn    net.Conn
	r       *bufio.Reader // tcp only
}

func dialRaw(t *testing.T, network, addr string) *rawSIP {
	t.Helper()
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawSIP{t: t, network: network, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

// via is a Via header naming this socket, with a fresh branch.
func (c *rawSIP) via() (header, branch string) {
	branch = "z9hG4bK-raw-" + randomToken(10)
	proto := strings.ToUpper(c.network)
	return fmt.Sprintf("Via: SIP/2.0/%s %s;branch=%s;rport", proto, c.conn.LocalAddr(), branch), branch
}

func (c *rawSIP) send(msg string) error {
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := io.WriteString(c.conn, msg)
	return err
}

// sipResponse is a parsed response.
type sipResponse struct {
	Proto  string // SIP/2.0, unless the server gets it wrong
	Status int
	Reason string
	Header textproto.MIMEHeader
	Raw    string
}

func (r *sipResponse) String() string {
	if r == nil {
		return "no response"
	}
	if r.Proto != "SIP/2.0" {
		return fmt.Sprintf("%s %d %s", r.Proto, r.Status, r.Reason)
	}
	return fmt.Sprintf("%d %s", r.Status, r.Reason)
}

// read returns the next response, or an error at the deadline.
func (c *rawSIP) read(deadline time.Time) (*sipResponse, error) {
	c.conn.SetReadDeadline(deadline)
	if c.network == "udp" {
		buf := make([]byte, 65536)
		n, err := c.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		return parseResponse(buf[:n])
	}
	var head bytes.Buffer
	for {
		line, err := c.r.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return nil, err
		}
		if line == "\r\n" || line == "\n" {
			if head.Len() == len(line) { // CRLF keep-alive before a message
				head.Reset()
				continue
			}
			break
		}
	}
	res, err := parseResponse(head.Bytes())
	if err != nil {
		return nil, err
	}
	if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n > 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(c.r, body); err != nil {
			return nil, err
		}
		res.Raw += string(body)
	}
	return res, nil
}

func parseResponse(b []byte) (*sipResponse, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	line, err := r.ReadLine()
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, reason, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "SIP/") || err != nil {
		return nil, fmt.Errorf("not a SIP response: %q", line)
	}
	h, err := r.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	return &sipResponse{Proto: proto, Status: status, Reason: reason, Header: h, Raw: string(b)}, nil
}

// exchange sends msg and returns the final response whose top Via carries
// branch, retransmitting over UDP as a SIP client would (every 500ms) until
// wait has passed. Provisional responses and strays are skipped.
func (c *rawSIP) exchange(msg, branch string, wait time.Duration) (*sipResponse, error) {
	end := time.Now().Add(wait)
	if err := c.send(msg); err != nil {
		return nil, err
	}
	resend := time.Now().Add(500 * time.Millisecond)
	for {
		dl := end
		if c.network == "udp" && resend.Before(dl) {
			dl = resend
		}
		res, err := c.read(dl)
		if err == nil {
			if res.Status >= 200 && strings.Contains(res.Header.Get("Via"), branch) {
				return res, nil
			}
			continue
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return nil, err
		}
		if !time.Now().Before(end) {
			return nil, fmt.Errorf("no response within %s", wait)
		}
		if c.network == "udp" {
			if err := c.send(msg); err != nil {
				return nil, err
			}
			resend = time.Now().Add(500 * time.Millisecond)
		}
	}
}

// sipMessage joins a start line and header lines into a message with an
// empty body (callers add Content-Length themselves when they want one).
func sipMessage(start string, headers ...string) string {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// digestMD5 answers an MD5 WWW-Authenticate challenge (qop=auth) for a
// request with method and uri.
func digestMD5(challenge, method, uri string, a Account) (string, error) {
	params := map[string]string{}
	rest, ok := strings.CutPrefix(strings.TrimSpace(challenge), "Digest ")
	if !ok {
		return "", fmt.Errorf("not a digest challenge: %q", challenge)
	}
	for _, p := range splitParams(rest) {
		k, v, _ := strings.Cut(p, "=")
		params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	if alg := params["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return "", fmt.Errorf("challenge is %s, not MD5", alg)
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := h(a.Username + ":" + params["realm"] + ":" + a.Password)
	ha2 := h(method + ":" + uri)
	cnonce := randomToken(16)
	resp := h(ha1 + ":" + params["nonce"] + ":00000001:" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"`,
		a.Username, params["realm"], params["nonce"], uri, resp, cnonce), nil
}

// splitParams splits a comma-separated parameter list, keeping commas in quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// md5Challenge picks the MD5 challenge of a 401.
func md5Challenge(res *sipResponse) (string, error) {
	for _, c := range res.Header.Values("Www-Authenticate") {
		if strings.Contains(strings.ToUpper(c), "ALGORITHM=MD5") {
			return c, nil
		}
	}
	return "", fmt.Errorf("no MD5 challenge in %s: %v", res, res.Header.Values("Www-Authenticate"))
}
