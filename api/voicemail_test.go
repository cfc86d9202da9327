package api_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbx/features/voicemail"
	"pbx/store"
)

// voicemailMessage leaves a message of 1 s (a 440 Hz tone) from caller in
// user's box, as the voicemail does, and returns its id.
func (e *env) voicemailMessage(tenant, user, caller string) string {
	e.t.Helper()
	ctx := context.Background()
	box, err := e.st.UserVoicemailBox(ctx, tenant, user)
	if err != nil {
		e.t.Fatal(err)
	}
	dir := filepath.Join(e.data, "voicemail", tenant, box.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	id := store.NewVoicemailMessageID()
	before, err := e.st.VoicemailMessages(ctx, tenant, box.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(dir, id+".wav")
	if err := os.WriteFile(path, wavFile(8000, 1, 16, 1), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.CreateVoicemailMessage(ctx, store.VoicemailMessage{ID: id, TenantID: tenant, BoxID: box.ID, Caller: caller,
		ReceivedAt: e.now.Truncate(time.Millisecond).Add(time.Duration(len(before)) * time.Minute), Duration: time.Second, Path: path}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestVoicemailOverREST(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Alpha")
	u := e.fullUser(ten, tok, "201")
	light := e.lightUser(ten, tok)
	base := "/api/v1/tenants/" + ten + "/users/" + u + "/voicemail"
	boxPath := base + "_box"
	if r := e.must(200, "GET", base, tok, nil); len(r.arr) != 0 {
		t.Fatalf("new box: %s", r.raw)
	}
	first := e.voicemailMessage(ten, u, "0470123456")
	second := e.voicemailMessage(ten, u, "202")

	r := e.must(200, "GET", base, tok, nil)
	if len(r.arr) != 2 {
		t.Fatalf("list: %s", r.raw)
	}
	m := r.arr[0].(map[string]any)
	if m["id"] != first || m["caller"] != "0470123456" || m["duration_s"] != 1.0 || m["read"] != false || m["received_at"] == "" {
		t.Fatalf("message: %v", m)
	}
	audio := e.call("GET", base+"/"+first+"/audio", tok, nil)
	if audio.status != 200 || audio.header.Get("Content-Type") != "audio/wav" || !bytes.Equal(audio.raw, wavFile(8000, 1, 16, 1)) {
		t.Fatalf("audio: %d %s, %d bytes", audio.status, audio.header.Get("Content-Type"), len(audio.raw))
	}
	if r := e.must(200, "PATCH", base+"/"+first, tok, map[string]any{"read": true}); r.obj["read"] != true {
		t.Fatalf("patch: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", base+"/"+first, tok, map[string]any{}), 422)
	if r := e.must(200, "GET", base+"/"+first, tok, nil); r.obj["read"] != true {
		t.Fatalf("after patch: %s", r.raw)
	}
	if n, o, err := (&voicemail.Service{Store: e.st}).Counts(context.Background(), ten, u); err != nil || n != 1 || o != 1 {
		t.Fatalf("counts %d/%d %v", n, o, err)
	}
	path := filepath.Join(e.data, "voicemail", ten)
	e.must(204, "DELETE", base+"/"+second, tok, nil)
	isProblem(t, e.call("DELETE", base+"/"+second, tok, nil), 404)
	isProblem(t, e.call("GET", base+"/"+second+"/audio", tok, nil), 404)
	var left int
	filepath.Walk(path, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			left++
		}
		return nil
	})
	if left != 1 {
		t.Fatalf("%d files left after the delete, want 1", left)
	}

	// PIN: stored hashed, never shown.
	isProblem(t, e.call("PUT", boxPath+"/pin", tok, map[string]any{"pin": "12a4"}), 422)
	isProblem(t, e.call("PUT", boxPath+"/pin", tok, map[string]any{"pin": "123"}), 422)
	e.must(204, "PUT", boxPath+"/pin", tok, map[string]any{"pin": "4321"})
	box, err := e.st.UserVoicemailBox(context.Background(), ten, u)
	if err != nil || box.PINHash == "" || bytes.Contains([]byte(box.PINHash), []byte("4321")) || !voicemail.CheckPIN(box.PINHash, "4321") {
		t.Fatalf("stored PIN %q %v", box.PINHash, err)
	}
	if r := e.must(200, "GET", boxPath, tok, nil); r.obj["pin_set"] != true || bytes.Contains(r.raw, []byte(box.PINHash)) {
		t.Fatalf("box: %s", r.raw)
	}
	e.must(204, "DELETE", boxPath+"/pin", tok, nil)
	if r := e.must(200, "GET", boxPath, tok, nil); r.obj["pin_set"] != false {
		t.Fatalf("box after reset: %s", r.raw)
	}
	if r := e.must(200, "PATCH", boxPath, tok, map[string]any{"email": "ann@example.com", "email_notify": false}); r.str("email") != "ann@example.com" || r.obj["email_notify"] != false {
		t.Fatalf("box patch: %s", r.raw)
	}
	isProblem(t, e.call("PATCH", boxPath, tok, map[string]any{"email": "not an address"}), 422)

	// Greetings: converted and stored; a bad file stores nothing.
	greet := func(kind string, body []byte) resp {
		return e.callWith("PUT", boxPath+"/greetings/"+kind, bytes.NewReader(body), map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "audio/wav"})
	}
	if r := greet("busy", wavFile(44100, 2, 16, 1)); r.status != 204 {
		t.Fatalf("greeting upload: %d %s", r.status, r.raw)
	}
	gs, err := e.st.VoicemailGreetings(context.Background(), box.ID)
	if err != nil || gs[store.GreetingBusy] == "" {
		t.Fatalf("greetings %v %v", gs, err)
	}
	if fi, err := os.Stat(gs[store.GreetingBusy]); err != nil || fi.Size() != 44+2*8000 {
		t.Fatalf("stored greeting: %v %v", fi, err)
	}
	bad := greet("unavailable", []byte("RIFF....WAVEjunk"))
	isProblem(t, bad, 422)
	if gs, _ := e.st.VoicemailGreetings(context.Background(), box.ID); len(gs) != 1 {
		t.Fatalf("a bad upload stored a greeting: %v", gs)
	}
	isProblem(t, greet("jingle", wavFile(8000, 1, 16, 1)), 404)
	e.must(204, "DELETE", boxPath+"/greetings/busy", tok, nil)
	isProblem(t, e.call("DELETE", boxPath+"/greetings/busy", tok, nil), 404)

	// A light licence has no box.
	isProblem(t, e.call("GET", "/api/v1/tenants/"+ten+"/users/"+light+"/voicemail", tok, nil), 404)
}

// TestGroupVoicemailDestination: a hunt group's box is a destination (its
// own overflow, a number); an id that is neither a licence nor a group of
// the tenant is not.
func TestGroupVoicemailDestination(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Alpha")
	u := e.fullUser(ten, tok, "201")
	base := "/api/v1/tenants/" + ten
	g := e.must(201, "POST", base+"/hunt_groups", tok, map[string]any{"name": "Sales", "strategy": "ring_all", "members": []string{u},
		"member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "user", "id": u}}).str("id")
	r := e.must(200, "PATCH", base+"/hunt_groups/"+g, tok, map[string]any{"overflow": map[string]any{"type": "voicemail", "id": g}})
	if ov, _ := r.obj["overflow"].(map[string]any); ov["type"] != "voicemail" || ov["id"] != g {
		t.Fatalf("overflow %s", r.raw)
	}
	e.must(201, "POST", base+"/numbers", tok, map[string]any{"number": "+3250123123", "destination": map[string]any{"type": "voicemail", "id": g}})
	r = e.call("POST", base+"/numbers", tok, map[string]any{"number": "+3250123124", "destination": map[string]any{"type": "voicemail", "id": "hg_0123456789abcdef"}})
	isProblem(t, r, 422)
	other, otok := e.tenant("Bravo")
	ou := e.fullUser(other, otok, "301")
	og := e.must(201, "POST", "/api/v1/tenants/"+other+"/hunt_groups", otok, map[string]any{"name": "B", "strategy": "ring_all",
		"members": []string{ou}, "member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "user", "id": ou}}).str("id")
	// Another tenant's group is no box of ours.
	r = e.call("POST", base+"/numbers", tok, map[string]any{"number": "+3250123125", "destination": map[string]any{"type": "voicemail", "id": og}})
	isProblem(t, r, 422)
}
