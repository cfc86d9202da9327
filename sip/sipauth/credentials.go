package sipauth

import (
	"errors"
	"strconv"
	"strings"

	"github.com/icholy/digest"
)

// Credentials parses an Authorization header value.
func Credentials(header string) (*digest.Credentials, error) {
	if header == "" {
		return nil, ErrNoCredentials
	}
	c, err := parseCredentials(header)
	if err != nil || c.Username == "" || c.Nonce == "" || c.Response == "" {
		return nil, ErrMalformed
	}
	return c, nil
}

var errSyntax = errors.New("digest: invalid credentials")

// parseCredentials reads the header with the grammar of
// digest.ParseCredentials (a "Digest " prefix in any case, then key=value
// pairs separated by commas and spaces, a value being a token of letters,
// digits and '-' or a quoted string with backslash escapes), and gives the
// same result, but reads the string in place: the parser of the digest
// package reads rune by rune through a bufio.Reader and took a twentieth
// of a REGISTER's CPU.
func parseCredentials(s string) (*digest.Credentials, error) {
	s, ok := digest.CutPrefix(s)
	if !ok {
		return nil, errSyntax
	}
	var c digest.Credentials
	for first := true; ; first = false {
		s = skipSpaces(s)
		if s == "" {
			break
		}
		if !first {
			if s[0] != ',' {
				return nil, errSyntax
			}
			s = skipSpaces(s[1:])
		}
		var key, value string
		key, s = ident(s)
		s = skipSpaces(s)
		if s == "" || s[0] != '=' {
			return nil, errSyntax
		}
		s = skipSpaces(s[1:])
		if s != "" && s[0] == '"' {
			var err error
			if value, s, err = quoted(s[1:]); err != nil {
				return nil, err
			}
		} else {
			value, s = ident(s)
		}
		switch key {
		case "username":
			c.Username = value
		case "realm":
			c.Realm = value
		case "nonce":
			c.Nonce = value
		case "uri":
			c.URI = value
		case "response":
			c.Response = value
		case "algorithm":
			c.Algorithm = value
		case "cnonce":
			c.Cnonce = value
		case "opaque":
			c.Opaque = value
		case "qop":
			c.QOP = value
		case "nc":
			nc, err := strconv.ParseInt(value, 16, 32)
			if err != nil {
				return nil, errSyntax
			}
			c.Nc = int(nc)
		case "userhash":
			c.Userhash = strings.ToLower(value) == "true"
		}
	}
	return &c, nil
}

func skipSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// ident reads a token of ASCII letters, digits and '-'.
func ident(s string) (string, string) {
	i := 0
	for i < len(s) {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-') {
			break
		}
		i++
	}
	return s[:i], s[i:]
}

// quoted reads the rest of a quoted string (after its opening quote): its
// value, without copying unless it has escapes, and what follows it.
func quoted(s string) (string, string, error) {
	i := strings.IndexAny(s, `"\`)
	if i < 0 {
		return "", "", errSyntax
	}
	if s[i] == '"' {
		return s[:i], s[i+1:], nil
	}
	var b strings.Builder
	escaped := false
	for j := 0; j < len(s); j++ {
		switch ch := s[j]; {
		case escaped:
			b.WriteByte(ch)
			escaped = false
		case ch == '\\':
			escaped = true
		case ch == '"':
			return b.String(), s[j+1:], nil
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", errSyntax
}
