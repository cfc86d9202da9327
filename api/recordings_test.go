package api_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pbx/recordings"
	"pbx/store"
)

// recording makes a complete one-second stereo recording of a call
// between two parties of a tenant and returns its id.
func (e *env) recording(tenant, caller, callee string) string {
	e.t.Helper()
	ctx := context.Background()
	w, err := e.recs.Begin(ctx, recordings.Meta{TenantID: tenant, CallID: "call-" + caller,
		Parties: []store.RecordingParty{{Number: caller}, {Number: callee}}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := w.Write(stereoWAV(8000)); err != nil {
		e.t.Fatal(err)
	}
	if err := w.Finish(ctx); err != nil {
		e.t.Fatal(err)
	}
	return w.Recording().ID
}

// stereoWAV is frames of 8 kHz 16-bit stereo PCM with its header; frame
// i holds i on both channels.
func stereoWAV(frames int) []byte {
	b := make([]byte, 44+frames*4)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+frames*4))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 2)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 32000)
	binary.LittleEndian.PutUint16(b[32:], 4)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(frames*4))
	for i := 0; i < frames; i++ {
		binary.LittleEndian.PutUint16(b[44+i*4:], uint16(i))
		binary.LittleEndian.PutUint16(b[46+i*4:], uint16(i))
	}
	return b
}

// TestRecordingsListAudioDelete: the listing filters by party, user and
// date; the audio is served with range requests and each download is
// audited; a delete leaves an audit entry behind.
func TestRecordingsListAudioDelete(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten
	u := e.fullUser(ten, tok, "201")
	ctx := context.Background()
	w, err := e.recs.Begin(ctx, recordings.Meta{TenantID: ten, CallID: "c1", Parties: []store.RecordingParty{{Name: "Ann", Number: "201", UserID: u}, {Number: "+3225550000"}}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(stereoWAV(16000))
	if err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	r1 := w.Recording().ID
	e.now = e.now.Add(time.Hour)
	r2 := e.recording(ten, "202", "203")

	list := func(q string) []string {
		t.Helper()
		r := e.must(200, "GET", base+"/recordings"+q, tok, nil)
		var ids []string
		for _, x := range r.arr {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		return ids
	}
	if got := list(""); len(got) != 2 || got[0] != r2 || got[1] != r1 {
		t.Fatalf("all: %v", got)
	}
	if got := list("?party=%2B3225550000"); len(got) != 1 || got[0] != r1 {
		t.Fatalf("by party: %v", got)
	}
	if got := list("?user=" + u); len(got) != 1 || got[0] != r1 {
		t.Fatalf("by user: %v", got)
	}
	if got := list("?from=" + url.QueryEscape(e.now.Add(-time.Minute).Format(time.RFC3339))); len(got) != 1 || got[0] != r2 {
		t.Fatalf("from: %v", got)
	}
	r := e.must(200, "GET", base+"/recordings/"+r1, tok, nil)
	if r.str("call_id") != "c1" || r.obj["duration_s"] != 2.0 || len(r.obj["parties"].([]any)) != 2 || len(r.str("sha256")) != 64 ||
		r.str("expires_at") == "" || r.obj["complete"] != true {
		t.Fatalf("recording: %s", r.raw)
	}
	isProblem(t, e.call("GET", base+"/recordings?from=yesterday&limit=0", tok, nil), 422)

	req, _ := http.NewRequest("GET", e.srv.URL+base+"/recordings/"+r1+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Range", "bytes=44-51")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 16)
	n, _ := res.Body.Read(body)
	res.Body.Close()
	if res.StatusCode != 206 || n != 8 || binary.LittleEndian.Uint16(body[4:]) != 1 || res.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("range: %d, %d bytes %v, %s", res.StatusCode, n, body[:n], res.Header.Get("Content-Type"))
	}
	e.now = e.now.Add(time.Second)
	if full := e.call("GET", base+"/recordings/"+r1+"/audio", tok, nil); full.status != 200 || len(full.raw) != 44+16000*4 {
		t.Fatalf("full download: %d, %d bytes", full.status, len(full.raw))
	}
	e.now = e.now.Add(time.Second)
	e.must(204, "DELETE", base+"/recordings/"+r1, tok, nil)
	isProblem(t, e.call("GET", base+"/recordings/"+r1, tok, nil), 404)
	a := e.must(200, "GET", base+"/recording_audit?recording="+r1, tok, nil)
	var actions []string
	for _, x := range a.arr {
		actions = append(actions, x.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, ",") != "downloaded,downloaded,deleted" {
		t.Fatalf("audit: %s", a.raw)
	}
	if !strings.Contains(e.logs.String(), "recording downloaded") {
		t.Fatal("download not logged")
	}
}

// TestRecordingPoliciesAndSettingsOverREST: the recording field of users,
// numbers and hunt groups; retention is never longer than 90 days and
// every bad field is named at once; secrets are never shown.
func TestRecordingPoliciesAndSettingsOverREST(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	base := "/api/v1/tenants/" + ten
	u := e.fullUser(ten, tok, "201")
	if r := e.must(200, "GET", base+"/users/"+u, tok, nil); r.str("recording") != "never" {
		t.Fatalf("default: %s", r.raw)
	}
	if r := e.must(200, "PATCH", base+"/users/"+u, tok, map[string]any{"recording": "on_demand"}); r.str("recording") != "on_demand" {
		t.Fatalf("user: %s", r.raw)
	}
	g := e.must(201, "POST", base+"/hunt_groups", tok, map[string]any{"name": "Sales", "strategy": "ring_all", "members": []string{u},
		"member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "user", "id": u}}).str("id")
	if r := e.must(200, "PATCH", base+"/hunt_groups/"+g, tok, map[string]any{"recording": "always"}); r.str("recording") != "always" {
		t.Fatalf("group: %s", r.raw)
	}
	r := e.call("PATCH", base+"/hunt_groups/"+g, tok, map[string]any{"recording": "sometimes", "timeout": 1})
	isProblem(t, r, 422)
	if !strings.Contains(string(r.raw), `"recording"`) || !strings.Contains(string(r.raw), `"timeout"`) {
		t.Fatalf("not every bad field named: %s", r.raw)
	}
	n := e.must(201, "POST", base+"/numbers", tok, map[string]any{"number": "+3225550101", "destination": map[string]any{"type": "user", "id": u}}).str("id")
	if r := e.must(200, "PATCH", base+"/numbers/"+n, tok, map[string]any{"recording": "always"}); r.str("recording") != "always" {
		t.Fatalf("number: %s", r.raw)
	}
	if r := e.must(200, "GET", base+"/numbers/"+n, tok, nil); r.str("recording") != "always" || r.obj["destination"].(map[string]any)["id"] != u {
		t.Fatalf("number after: %s", r.raw)
	}
	if r := e.must(200, "PATCH", base+"/users/"+u, tok, map[string]any{"recording": "never"}); r.str("recording") != "never" {
		t.Fatalf("user back to never: %s", r.raw)
	}

	r = e.call("PATCH", base+"/recording_settings", tok, map[string]any{"retention_days": 91, "toggle_code": "*1x",
		"export": map[string]any{"enabled": true, "host_key": "nonsense"}})
	isProblem(t, r, 422)
	for _, f := range []string{"retention_days", "toggle_code", "export.host_key", "export.host", "export.username", "export.password"} {
		if !strings.Contains(string(r.raw), `"`+f+`"`) {
			t.Fatalf("%s not named: %s", f, r.raw)
		}
	}
	r = e.must(200, "PATCH", base+"/recording_settings", tok, map[string]any{"retention_days": 30, "announce": true,
		"export": map[string]any{"enabled": true, "host": "sftp.example.com", "username": "rec", "password": "s3cret",
			"host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}})
	x := r.obj["export"].(map[string]any)
	if r.obj["retention_days"] != float64(30) || r.obj["announce"] != true || x["has_password"] != true || x["port"] != float64(22) {
		t.Fatalf("settings: %s", r.raw)
	}
	if strings.Contains(string(r.raw), "s3cret") || strings.Contains(e.logs.String(), "s3cret") {
		t.Fatal("the export password is shown or logged")
	}
}

// TestRecordingExportFailureShown: a recording whose export failed says
// so, with the error and the next attempt, until it is exported.
func TestRecordingExportFailureShown(t *testing.T) {
	e := newEnv(t)
	ten, tok := e.tenant("Acme")
	id := e.recording(ten, "201", "202")
	next := e.now.Add(time.Minute).UTC().Truncate(time.Millisecond)
	if err := e.st.SetRecordingExport(context.Background(), id, store.RecordingExport{State: store.ExportFailed, Attempts: 2, NextAt: next,
		Error: "ssh 192.0.2.7:22: host key mismatch"}); err != nil {
		t.Fatal(err)
	}
	r := e.must(200, "GET", "/api/v1/tenants/"+ten+"/recordings/"+id, tok, nil)
	x, _ := r.obj["export"].(map[string]any)
	if x["state"] != "failed" || x["attempts"] != float64(2) || !strings.Contains(x["error"].(string), "host key") || x["next_attempt_at"] != next.Format(time.RFC3339Nano) {
		t.Fatalf("export: %s", r.raw)
	}
	done := e.now.UTC().Truncate(time.Millisecond)
	if err := e.st.SetRecordingExport(context.Background(), id, store.RecordingExport{State: store.ExportDone, Attempts: 3, ExportedAt: done}); err != nil {
		t.Fatal(err)
	}
	r = e.must(200, "GET", "/api/v1/tenants/"+ten+"/recordings", tok, nil)
	x, _ = r.arr[0].(map[string]any)["export"].(map[string]any)
	if x["state"] != "exported" || x["error"] != nil || x["next_attempt_at"] != nil || x["exported_at"] == nil {
		t.Fatalf("exported: %s", r.raw)
	}
}
