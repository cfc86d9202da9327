package api_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func (e *env) uploadMusic(tenant, token, class string, body []byte) resp {
	e.t.Helper()
	return e.callWith("POST", "/api/v1/tenants/"+tenant+"/music?class="+class, bytes.NewReader(body),
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "audio/wav"})
}

// TestMusicUpload: hold music of any rate becomes 8 kHz mono in the
// class's folder, where the media engine's classes read it; bad files and
// bad class names are 422 and store nothing.
func TestMusicUpload(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Alpha")
	r := e.uploadMusic(ten, tok, "", wavFile(44100, 2, 16, 2))
	if r.status != 201 || r.str("class") != "" || r.obj["duration_ms"] != 2000.0 {
		t.Fatalf("default class upload: %d %s", r.status, r.raw)
	}
	def := r.str("id")
	if fi, err := os.Stat(filepath.Join(e.data, "moh", ten, def+".wav")); err != nil || fi.Size() != 44+2*16000 {
		t.Fatalf("stored default-class file: %v %v", fi, err)
	}
	r = e.uploadMusic(ten, tok, "queue", wavFile(16000, 1, 16, 1))
	if r.status != 201 || r.str("class") != "queue" {
		t.Fatalf("named class upload: %d %s", r.status, r.raw)
	}
	if _, err := os.Stat(filepath.Join(e.data, "moh", ten, "queue", r.str("id")+".wav")); err != nil {
		t.Fatal(err)
	}
	list := e.must(200, "GET", "/api/v1/tenants/"+ten+"/music", tok, nil)
	if len(list.arr) != 2 {
		t.Fatalf("list: %s", list.raw)
	}
	for _, bad := range []struct {
		class string
		body  []byte
		field string
	}{
		{"", []byte("RIFF....WAVEnot audio"), "file"},
		{"", []byte("just text"), "file"},
		{"../x", wavFile(8000, 1, 16, 1), "class"},
		{"Queue", wavFile(8000, 1, 16, 1), "class"},
	} {
		r := e.uploadMusic(ten, tok, bad.class, bad.body)
		isProblem(t, r, 422)
		if f := r.fields(); len(f) != 1 || f[0] != bad.field {
			t.Fatalf("%q: fields %v", bad.class, f)
		}
	}
	if list := e.must(200, "GET", "/api/v1/tenants/"+ten+"/music", tok, nil); len(list.arr) != 2 {
		t.Fatalf("a bad upload stored something: %s", list.raw)
	}
	e.must(204, "DELETE", "/api/v1/tenants/"+ten+"/music/"+def, tok, nil)
	isProblem(t, e.call("DELETE", "/api/v1/tenants/"+ten+"/music/"+def, tok, nil), 404)
	if list := e.must(200, "GET", "/api/v1/tenants/"+ten+"/music", tok, nil); len(list.arr) != 1 {
		t.Fatalf("after delete: %s", list.raw)
	}
}
