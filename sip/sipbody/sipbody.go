// Package sipbody owns the reading of SIP message bodies made of several
// parts (multipart/mixed, RFC 5621): an INVITE that carries its SDP beside
// a location (RFC 6442), a REGISTER that carries a location.
package sipbody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Part is one part of a body.
type Part struct {
	ContentType string // media type, without parameters, lower case
	Header      textproto.MIMEHeader
	Body        []byte
}

// ContentID is the part's Content-ID without its angle brackets.
func (p Part) ContentID() string {
	return strings.Trim(strings.TrimSpace(p.Header.Get("Content-ID")), "<>")
}

// maxParts bounds the parts read from one body.
const maxParts = 8

// Parts splits a body of media type contentType (the Content-Type header
// value) into its parts: the parts of a multipart body, or the body
// itself as one part. An empty body has no part.
func Parts(contentType string, body []byte) ([]Part, error) {
	if len(body) == 0 {
		return nil, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		if contentType == "" {
			mt = "application/sdp" // RFC 3261 §20.15: a body without a type is taken as SDP by most UAs
		} else {
			return nil, fmt.Errorf("sipbody: Content-Type %q: %w", contentType, err)
		}
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return []Part{{ContentType: mt, Header: textproto.MIMEHeader{}, Body: body}}, nil
	}
	if params["boundary"] == "" {
		return nil, errors.New("sipbody: multipart body without a boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var out []Part
	for {
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			if len(out) == 0 {
				return nil, errors.New("sipbody: multipart body without a part")
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sipbody: multipart: %w", err)
		}
		if len(out) == maxParts {
			return nil, fmt.Errorf("sipbody: more than %d parts", maxParts)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("sipbody: multipart: %w", err)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			ct = "text/plain" // RFC 2046 §5.1: the default type of a part
		}
		out = append(out, Part{ContentType: ct, Header: p.Header, Body: b})
	}
}

// MessageParts is Parts for a SIP message whose headers give contentID
// (its Content-ID header, "" for none): a body that is not multipart is
// that part, named so (RFC 6442 lets a lone location body be
// referenced by the message's Content-ID).
func MessageParts(contentType, contentID string, body []byte) ([]Part, error) {
	parts, err := Parts(contentType, body)
	if err == nil && len(parts) == 1 && contentID != "" && parts[0].Header.Get("Content-ID") == "" {
		mt, _, _ := mime.ParseMediaType(contentType)
		if !strings.HasPrefix(mt, "multipart/") {
			parts[0].Header.Set("Content-ID", contentID)
		}
	}
	return parts, err
}

// SDP is the body's session description: the body itself, or the first
// application/sdp part of a multipart body; nil when there is none.
func SDP(contentType string, body []byte) ([]byte, error) {
	parts, err := Parts(contentType, body)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if p.ContentType == "application/sdp" {
			return p.Body, nil
		}
	}
	return nil, nil
}
