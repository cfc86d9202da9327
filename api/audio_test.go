package api_test

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"math"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavFile makes a WAV of a 440 Hz tone: PCM of bits 8 or 16, or µ-law
// (format 7) when bits is 0.
func wavFile(rate, channels, bits int, seconds float64) []byte {
	format, width := 1, bits/8
	if bits == 0 {
		format, width = 7, 1
		bits = 8
	}
	frames := int(float64(rate) * seconds)
	data := make([]byte, frames*channels*width)
	for i := range frames {
		v := math.Sin(2 * math.Pi * 440 * float64(i) / float64(rate))
		for ch := range channels {
			off := (i*channels + ch) * width
			switch {
			case format == 7:
				data[off] = 0xff // µ-law silence is enough here
			case width == 1:
				data[off] = byte(128 + int(v*100))
			default:
				binary.LittleEndian.PutUint16(data[off:], uint16(int16(v*10000)))
			}
		}
	}
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], uint16(format))
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*width))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*width))
	binary.LittleEndian.PutUint16(h[34:], uint16(bits))
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	return append(h, data...)
}

func (e *env) uploadRaw(tenant, token, contentType string, body []byte) resp {
	e.t.Helper()
	return e.callWith("POST", "/api/v1/tenants/"+tenant+"/audio?name=welcome", bytes.NewReader(body),
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": contentType})
}

func (e *env) uploadMultipart(tenant, token, field, filename string, body []byte) resp {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile(field, filename)
	if err != nil {
		e.t.Fatal(err)
	}
	w.Write(body)
	mw.Close()
	return e.callWith("POST", "/api/v1/tenants/"+tenant+"/audio", &b,
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": mw.FormDataContentType()})
}

// storedFiles lists every file under the audio directory.
func (e *env) storedFiles() []string {
	e.t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(e.data, "audio"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestAudioUploadConverts(t *testing.T) {
	e := newEnv(t)
	a, tok := e.tenant("Alpha")
	mp3, err := os.ReadFile("testdata/alice.mp3")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		r        func() resp
		minMS    int64
		maxMS    int64
		wantName string
	}{
		{"wav 44.1 kHz stereo raw", func() resp { return e.uploadRaw(a, tok, "audio/wav", wavFile(44100, 2, 16, 1)) }, 990, 1010, "welcome"},
		{"wav 16 kHz mono 8-bit multipart", func() resp { return e.uploadMultipart(a, tok, "file", "hello.wav", wavFile(16000, 1, 8, 0.5)) }, 490, 510, "hello.wav"},
		{"wav 8 kHz µ-law", func() resp { return e.uploadRaw(a, tok, "audio/x-wav", wavFile(8000, 1, 0, 2)) }, 1990, 2010, "welcome"},
		{"mp3 raw", func() resp { return e.uploadRaw(a, tok, "audio/mpeg", mp3) }, 2500, 2700, "welcome"},
		{"mp3 multipart", func() resp { return e.uploadMultipart(a, tok, "file", "alice.mp3", mp3) }, 2500, 2700, "alice.mp3"},
	} {
		r := tc.r()
		if r.status != 201 {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.raw)
		}
		ms := int64(r.obj["duration_ms"].(float64))
		if ms < tc.minMS || ms > tc.maxMS || r.str("name") != tc.wantName {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
		id := r.str("id")
		f := e.must(200, "GET", "/api/v1/tenants/"+a+"/audio/"+id+"/file", tok, nil)
		w := f.raw
		if f.header.Get("Content-Type") != "audio/wav" || len(w) < 44 || string(w[:4]) != "RIFF" ||
			binary.LittleEndian.Uint16(w[22:]) != 1 || binary.LittleEndian.Uint32(w[24:]) != 8000 || binary.LittleEndian.Uint16(w[34:]) != 16 {
			t.Errorf("%s: stored file is not 8 kHz mono 16-bit WAV: % x", tc.name, w[:min(44, len(w))])
		}
		if got := int64(len(w)-44) / 16; got < ms-1 || got > ms+1 {
			t.Errorf("%s: %d ms of samples, described as %d", tc.name, got, ms)
		}
		g := e.must(200, "GET", "/api/v1/tenants/"+a+"/audio/"+id, tok, nil)
		if int(g.obj["size"].(float64)) != len(w) {
			t.Errorf("%s: size %v, file %d bytes", tc.name, g.obj["size"], len(w))
		}
		if _, err := os.Stat(filepath.Join(e.data, "audio", a, id+".wav")); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if r := e.must(200, "GET", "/api/v1/tenants/"+a+"/audio", tok, nil); len(r.arr) != 5 {
		t.Fatalf("list: %s", r.raw)
	}
	if n := len(e.storedFiles()); n != 5 {
		t.Fatalf("%d files stored", n)
	}
	// A deleted tenant's audio goes with it.
	e.must(204, "DELETE", "/api/v1/tenants/"+a, e.admin, nil)
	if files := e.storedFiles(); len(files) != 0 {
		t.Fatalf("files left after the tenant: %v", files)
	}
}

func TestAudioBadUploadsStoreNothing(t *testing.T) {
	e := newEnv(t)
	a, tok := e.tenant("Alpha")
	mp3, _ := os.ReadFile("testdata/alice.mp3")
	unsupported := wavFile(8000, 1, 16, 1)
	binary.LittleEndian.PutUint16(unsupported[20:], 85) // MPEG inside WAV
	for _, tc := range []struct {
		name   string
		r      func() resp
		status int
		reason string
	}{
		{"garbage", func() resp { return e.uploadRaw(a, tok, "audio/wav", []byte("this is not audio at all")) }, 422, "neither a WAV nor an MP3"},
		{"truncated header", func() resp { return e.uploadRaw(a, tok, "audio/wav", wavFile(8000, 1, 16, 1)[:30]) }, 422, "WAV"},
		{"unsupported wav format", func() resp { return e.uploadRaw(a, tok, "audio/wav", unsupported) }, 422, "unsupported"},
		{"silent length", func() resp { return e.uploadRaw(a, tok, "audio/wav", wavFile(8000, 1, 16, 0.01)) }, 422, "no audio"},
		{"too long", func() resp { return e.uploadRaw(a, tok, "audio/wav", wavFile(8000, 1, 0, 601)) }, 422, "at most 10m0s"},
		{"corrupt mp3", func() resp {
			return e.uploadRaw(a, tok, "audio/mpeg", append([]byte{0xff, 0xfb, 0x00}, bytes.Repeat([]byte{0x55}, 4000)...))
		}, 422, "MP3"},
		{"mp3 cut in its header", func() resp { return e.uploadRaw(a, tok, "audio/mpeg", mp3[:3]) }, 422, ""},
		{"no file field", func() resp { return e.uploadMultipart(a, tok, "upload", "x.wav", wavFile(8000, 1, 16, 1)) }, 422, "file"},
		{"not audio", func() resp { return e.uploadRaw(a, tok, "text/plain", []byte("hello")) }, 415, ""},
		{"too large", func() resp { return e.uploadRaw(a, tok, "audio/wav", make([]byte, 21<<20)) }, 413, ""},
	} {
		r := tc.r()
		if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(r.str("detail"), tc.reason) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
		if tc.status == 422 && r.str("field") != "file" {
			t.Errorf("%s: field %q", tc.name, r.str("field"))
		}
	}
	if r := e.must(200, "GET", "/api/v1/tenants/"+a+"/audio", tok, nil); len(r.arr) != 0 {
		t.Fatalf("rows stored: %s", r.raw)
	}
	if files := e.storedFiles(); len(files) != 0 {
		t.Fatalf("files stored: %v", files)
	}
}

func TestAudioDeleteAndFlows(t *testing.T) {
	e := newEnv(t)
	a, tok := e.tenant("Alpha")
	user := e.fullUser(a, tok, "201")
	id := e.uploadRaw(a, tok, "audio/wav", wavFile(8000, 1, 16, 1)).str("id")
	base := "/api/v1/tenants/" + a
	flow := map[string]any{"name": "Welcome", "start": "w", "nodes": map[string]any{
		"w": map[string]any{"type": "play", "audio": id, "next": "u"},
		"u": map[string]any{"type": "user", "id": user}}}
	fid := e.must(201, "POST", base+"/call_flows", tok, flow).str("id")
	isProblem(t, e.call("DELETE", base+"/audio/"+id, tok, nil), 409)
	// Once the current version no longer plays it, it can go.
	e.must(200, "PUT", base+"/call_flows/"+fid, tok, simpleFlow(user))
	e.must(204, "DELETE", base+"/audio/"+id, tok, nil)
	isProblem(t, e.call("GET", base+"/audio/"+id, tok, nil), 404)
	isProblem(t, e.call("GET", base+"/audio/"+id+"/file", tok, nil), 404)
	if files := e.storedFiles(); len(files) != 0 {
		t.Fatalf("file left: %v", files)
	}
	// Restoring the version that played it is refused, naming the node.
	r := e.call("POST", base+"/call_flows/"+fid+"/restore", tok, map[string]any{"version": 1})
	isProblem(t, r, 422)
	if r.str("field") != "nodes.w.audio" {
		t.Fatalf("restore: %s", r.raw)
	}
}
