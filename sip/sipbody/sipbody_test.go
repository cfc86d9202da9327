package sipbody

import (
	"strings"
	"testing"
)

const mixed = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n\r\n" +
	"--b1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@phone.example>\r\n\r\n<presence/>\r\n--b1--\r\n"

func TestParts(t *testing.T) {
	parts, err := Parts("multipart/mixed;boundary=b1", []byte(mixed))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].ContentType != "application/sdp" || !strings.HasPrefix(string(parts[0].Body), "v=0\r\n") ||
		parts[1].ContentType != "application/pidf+xml" || parts[1].ContentID() != "loc@phone.example" || string(parts[1].Body) != "<presence/>" {
		t.Fatalf("parts %+v", parts)
	}
	sdp, err := SDP(`multipart/mixed; boundary="b1"`, []byte(mixed))
	if err != nil || !strings.HasPrefix(string(sdp), "v=0") {
		t.Fatalf("sdp %q %v", sdp, err)
	}
	if sdp, err := SDP("application/sdp", []byte("v=0\r\n")); err != nil || string(sdp) != "v=0\r\n" {
		t.Fatalf("plain sdp %q %v", sdp, err)
	}
	if sdp, err := SDP("application/pidf+xml", []byte("<presence/>")); err != nil || sdp != nil {
		t.Fatalf("no sdp: %q %v", sdp, err)
	}
	if parts, err := Parts("", nil); err != nil || parts != nil {
		t.Fatalf("empty body: %v %v", parts, err)
	}
	for _, ct := range []string{"multipart/mixed", "multipart/mixed;boundary=zz", "bad/;;"} {
		if _, err := Parts(ct, []byte(mixed)); err == nil {
			t.Errorf("%s: no error", ct)
		}
	}
	many := strings.Repeat("--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n", maxParts+1) + "--b1--\r\n"
	if _, err := Parts("multipart/mixed;boundary=b1", []byte(many)); err == nil {
		t.Error("too many parts read")
	}
}

func TestMessageParts(t *testing.T) {
	parts, err := MessageParts("application/pidf+xml", "<loc@phone>", []byte("<presence/>"))
	if err != nil || len(parts) != 1 || parts[0].ContentID() != "loc@phone" {
		t.Fatalf("lone body: %+v %v", parts, err)
	}
	// A multipart body's parts keep their own ids.
	parts, err = MessageParts("multipart/mixed;boundary=b1", "<whole@phone>", []byte(mixed))
	if err != nil || len(parts) != 2 || parts[0].ContentID() != "" || parts[1].ContentID() != "loc@phone.example" {
		t.Fatalf("multipart: %+v %v", parts, err)
	}
}
