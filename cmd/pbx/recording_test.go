package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zaf/g711"

	"pbx/features/recording"
	"pbx/store"
)

// The test prompts are tones the test can tell apart.
const (
	startedHz = 1000 // "your call is being recorded"
	stoppedHz = 700  // "recording stopped"
	aliceHz   = 500
	bobHz     = 1500
)

// promptTones writes the recording prompts as 600 ms tones in a prompt
// directory of every language.
func promptTones(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, lang := range []string{"en", "fr", "nl"} {
		if err := os.MkdirAll(filepath.Join(dir, lang), 0o700); err != nil {
			t.Fatal(err)
		}
		for id, hz := range map[string]float64{recording.PromptStarted: startedHz, recording.PromptStopped: stoppedHz} {
			if err := os.WriteFile(filepath.Join(dir, lang, id+".wav"), sineWAV(hz, 600*time.Millisecond), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// sineWAV is a mono 8 kHz 16-bit WAV of a hz sine lasting d.
func sineWAV(hz float64, d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := range n {
		binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*hz*float64(i)/8000)))
	}
	return b.Bytes()
}

// hearTone waits until n received 20 ms packets are dominated by hz.
func hearTone(t *testing.T, pc *pcall, hz float64, n int, what string) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(15 * time.Second); got < n; {
		p, err := pc.rtp.recv(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: %d packets of %v Hz of %d, then %v", what, got, hz, n, err)
		}
		if p.PayloadType != 0 {
			continue
		}
		if bt := blockTones(pcmOf(p.Payload), startedHz, stoppedHz, aliceHz, bobHz); len(bt) == 1 && bt[0] == hz {
			got++
		}
	}
}

func pcmOf(ulaw []byte) []int16 {
	lin := g711.DecodeUlaw(ulaw)
	out := make([]int16, len(lin)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(lin[2*i:]))
	}
	return out
}

// apiList GETs a JSON array with the admin token.
func apiList(t *testing.T, a *app, path string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.httpLn.Addr().String()+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return out
}

// setRecording sets a policy and the tenant's announcement over REST.
func setRecording(t *testing.T, a *app, acc account, kindPath, id, mode string, announce bool) {
	t.Helper()
	base := "/api/v1/tenants/" + acc.tenant.ID
	if got := apiCall(t, a, "PATCH", base+kindPath+id, map[string]any{"recording": mode}, 200); got["recording"] != mode {
		t.Fatalf("policy: %v", got)
	}
	apiCall(t, a, "PATCH", base+"/recording_settings", map[string]any{"announce": announce}, 200)
}

// waitRecordings waits until the tenant has n recordings, complete ones
// at least done of them, and returns them oldest first.
func waitRecordings(t *testing.T, a *app, tenantID string, n, done int) []store.Recording {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		rs, err := a.store.Recordings(context.Background(), tenantID, store.RecordingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for _, r := range rs {
			if r.Complete {
				c++
			}
		}
		if len(rs) == n && c >= done {
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d recordings (%d complete), want %d (%d)", len(rs), c, n, done)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// channelTones counts, in a stereo recording, the 20 ms blocks of each
// channel dominated by each of the parties' tones.
func channelTones(t *testing.T, path string) (left, right map[float64]int) {
	t.Helper()
	l, r := readStereoWAV(t, path)
	left, right = map[float64]int{}, map[float64]int{}
	for _, f := range blockTones(l, aliceHz, bobHz, startedHz, stoppedHz) {
		left[f]++
	}
	for _, f := range blockTones(r, aliceHz, bobHz, startedHz, stoppedHz) {
		right[f]++
	}
	return left, right
}

// TestRecordingAlwaysStereoWithAnnouncement: a user whose calls are always
// recorded calls a colleague; both hear the announcement, then each
// party's tone lands on its own channel of a WAV the store describes
// (size, SHA-256, 90-day expiry) and REST lists.
func TestRecordingAlwaysStereoWithAnnouncement(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.Prompts = promptTones(t) })
	accs := seedTenant(t, a, "Acme", "201", "202")
	setRecording(t, a, accs[0], "/users/", accs[0].user.ID, "always", true)
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	aout, bin := connect(t, alice, bob, "202", "0 101")
	hearTone(t, aout, startedHz, 20, "the caller hears the announcement")
	hearTone(t, bin, startedHz, 20, "the callee hears the announcement")
	waitRecordings(t, a, accs[0].tenant.ID, 1, 0)
	sendPaced(t, aout, toneFrames(aliceHz, 50))
	sendPaced(t, bin, toneFrames(bobHz, 50))
	hangupAndWait(t, aout, bin)
	r := waitRecordings(t, a, accs[0].tenant.ID, 1, 1)[0]
	path := a.calls.rec.library.Path(r)
	left, right := channelTones(t, path)
	if left[aliceHz] < 40 || right[bobHz] < 40 || left[bobHz] != 0 || right[aliceHz] != 0 {
		t.Fatalf("left %v, right %v: want alice (%d Hz) on the left only, bob (%d Hz) on the right only", left, right, aliceHz, bobHz)
	}
	if left[startedHz]+right[startedHz] != 0 {
		t.Fatalf("the announcement is in the recording: left %v right %v", left, right)
	}
	b, _ := os.ReadFile(path)
	if int64(len(b)) != r.Size || len(r.SHA256) != 64 || r.Duration < 2*time.Second || !r.ExpiresAt.Equal(r.StartedAt.AddDate(0, 0, 90)) ||
		len(r.Parties) != 2 || r.Parties[0].UserID != accs[0].user.ID || r.Parties[1].UserID != accs[1].user.ID {
		t.Fatalf("recording %+v (file %d bytes)", r, len(b))
	}
	if list := apiList(t, a, "/api/v1/tenants/"+accs[0].tenant.ID+"/recordings?user="+accs[1].user.ID); len(list) != 1 || list[0]["id"] != r.ID {
		t.Fatalf("listed over REST: %v", list)
	}
	got := apiCall(t, a, "GET", "/api/v1/tenants/"+accs[0].tenant.ID+"/recordings/"+r.ID, nil, 200)
	if got["call_id"] == "" || got["sha256"] != r.SHA256 {
		t.Fatalf("over REST: %v", got)
	}
	waitIdle(t, a)
}

// TestRecordingOnDemandToggle: with on_demand, nothing is recorded until
// a party dials *1; *1 again stops it (each stretch is a recording); the
// parties hear when it starts and stops.
func TestRecordingOnDemandToggle(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.Prompts = promptTones(t) })
	accs := seedTenant(t, a, "Acme", "201", "202")
	setRecording(t, a, accs[1], "/users/", accs[1].user.ID, "on_demand", true)
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	aout, bin := connect(t, alice, bob, "202", "0 101")
	ten := accs[0].tenant.ID
	sendPaced(t, aout, toneFrames(aliceHz, 25))
	if rs, _ := a.store.Recordings(context.Background(), ten, store.RecordingFilter{}); len(rs) != 0 {
		t.Fatalf("recorded before *1: %d", len(rs))
	}
	toggle := func(pc *pcall) {
		sendDigit(t, pc, 101, 10) // *
		sendDigit(t, pc, 101, 1)
	}
	toggle(bin) // the callee starts it
	hearTone(t, aout, startedHz, 15, "the caller hears recording start")
	hearTone(t, bin, startedHz, 15, "the callee hears recording start")
	waitRecordings(t, a, ten, 1, 0)
	sendPaced(t, aout, toneFrames(aliceHz, 50))
	sendPaced(t, bin, toneFrames(bobHz, 50))
	toggle(aout) // the caller stops it
	waitRecordings(t, a, ten, 1, 1)
	hearTone(t, aout, stoppedHz, 15, "the caller hears recording stop")
	hearTone(t, bin, stoppedHz, 15, "the callee hears recording stop")
	sendPaced(t, aout, toneFrames(aliceHz, 25)) // not recorded
	toggle(aout)
	hearTone(t, bin, startedHz, 15, "the callee hears recording start again")
	waitRecordings(t, a, ten, 2, 1)
	sendPaced(t, bin, toneFrames(bobHz, 50))
	hangupAndWait(t, aout, bin)
	rs := waitRecordings(t, a, ten, 2, 2)

	left, right := channelTones(t, a.calls.rec.library.Path(rs[0]))
	if left[aliceHz] < 40 || right[bobHz] < 40 || left[bobHz] != 0 || right[aliceHz] != 0 {
		t.Fatalf("first stretch: left %v, right %v", left, right)
	}
	if rs[0].Duration > 5*time.Second {
		t.Fatalf("first stretch lasts %v: it went on after *1", rs[0].Duration)
	}
	left, right = channelTones(t, a.calls.rec.library.Path(rs[1]))
	if left[aliceHz] != 0 || right[bobHz] < 40 || right[aliceHz] != 0 {
		t.Fatalf("second stretch: left %v, right %v (alice spoke only while it was off)", left, right)
	}
	waitIdle(t, a)
}

// TestRecordingNeverCostsNothing: a call no policy records writes no
// file and no row.
func TestRecordingNeverCostsNothing(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	aout, bin := connect(t, alice, bob, "202", "0 101")
	requireRelayBoth(t, aout, bin, 50, 45, "alice to bob %d", "bob to alice %d")
	hangupAndWait(t, aout, bin)
	waitIdle(t, a)
	if rs, _ := a.store.Recordings(context.Background(), accs[0].tenant.ID, store.RecordingFilter{}); len(rs) != 0 {
		t.Fatalf("%d recordings of an unrecorded call", len(rs))
	}
	if ents, _ := os.ReadDir(filepath.Join(a.cfg.DataDir, "recordings")); len(ents) != 0 {
		t.Fatalf("%d files for an unrecorded call", len(ents))
	}
}

// TestRecordingFollowsBlindTransfer: the callee of a recorded call
// transfers it; the recording goes on, the transfer target taking the
// callee's channel.
func TestRecordingFollowsBlindTransfer(t *testing.T) {
	const carolHz = 2500
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	setRecording(t, a, accs[0], "/users/", accs[0].user.ID, "always", false)
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	ten := accs[0].tenant.ID
	waitRecordings(t, a, ten, 1, 0)
	sendPaced(t, in, toneFrames(bobHz, 50))
	in.refer(t, "<sip:203@acme.test>")
	toCarol := carol.nextIncoming(t)
	toCarol.answer(t, "0 101")
	in.waitNotify(t, "200 OK")
	in.waitEnded(t)
	sendPaced(t, out, toneFrames(aliceHz, 50))
	sendPaced(t, toCarol, toneFrames(carolHz, 50))
	hangupAndWait(t, out, toCarol)
	r := waitRecordings(t, a, ten, 1, 1)[0]
	l, rt := readStereoWAV(t, a.calls.rec.library.Path(r))
	left, right := map[float64]int{}, map[float64]int{}
	for _, f := range blockTones(l, aliceHz, bobHz, carolHz) {
		left[f]++
	}
	for _, f := range blockTones(rt, aliceHz, bobHz, carolHz) {
		right[f]++
	}
	if left[aliceHz] < 40 || right[bobHz] < 40 || right[carolHz] < 40 || left[bobHz]+left[carolHz] != 0 || right[aliceHz] != 0 {
		t.Fatalf("left %v, right %v: want alice on the left, bob then carol on the right", left, right)
	}
	waitIdle(t, a)
}

// TestRecordingOnDemandAfterTransfer: once a call is transferred, the
// toggle code of the transfer target counts.
func TestRecordingOnDemandAfterTransfer(t *testing.T) {
	const carolHz = 2500
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	setRecording(t, a, accs[0], "/users/", accs[0].user.ID, "on_demand", false)
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	in.refer(t, "<sip:203@acme.test>")
	toCarol := carol.nextIncoming(t)
	toCarol.answer(t, "0 101")
	in.waitNotify(t, "200 OK")
	in.waitEnded(t)
	ten := accs[0].tenant.ID
	sendDigit(t, toCarol, 101, 10)
	sendDigit(t, toCarol, 101, 1)
	waitRecordings(t, a, ten, 1, 0)
	sendPaced(t, toCarol, toneFrames(carolHz, 50))
	hangupAndWait(t, out, toCarol)
	r := waitRecordings(t, a, ten, 1, 1)[0]
	_, rt := readStereoWAV(t, a.calls.rec.library.Path(r))
	if _, _, n := span(blockTones(rt, carolHz), carolHz); n < 40 {
		t.Fatalf("%d blocks of carol on the right, want 50", n)
	}
	waitIdle(t, a)
}
