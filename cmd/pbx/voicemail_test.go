package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/zaf/g711"

	"pbx/internal/smtptest"
	"pbx/media"
	"pbx/store"
)

// noVoicemail turns voicemail off, for tests of the failure statuses.
func noVoicemail(c *config) { c.Voicemail = false }

// noPrompts: callers hear the beep only, so that a test knows when to
// speak whatever prompts are installed on the machine.
func noPrompts(c *config) { c.Prompts = "" }

// speechFrames is n PCMU frames of a deterministic noise-like signal (a
// chirp under noise), so that its place in a recording is found by
// correlation with one clear peak; and the linear samples the pbx decodes
// from them.
func speechFrames(seed uint64, n int) (frames [][]byte, decoded []int16) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		lin := make([]byte, 320)
		for j := 0; j < 160; j++ {
			k := float64(i*160 + j)
			f := 300 + 2500*math.Mod(k/8000, 1) // a chirp restarting every second
			v := 5000*math.Sin(2*math.Pi*f*k/8000) + 3000*(rng.Float64()*2-1)
			binary.LittleEndian.PutUint16(lin[2*j:], uint16(int16(v)))
		}
		enc := g711.EncodeUlaw(lin)
		frames = append(frames, enc)
		dec := g711.DecodeUlaw(enc)
		for j := 0; j < 160; j++ {
			decoded = append(decoded, int16(binary.LittleEndian.Uint16(dec[2*j:])))
		}
	}
	return frames, decoded
}

// bestCorrelation slides probe over rec and returns the highest
// normalised correlation (1: identical shape) and its offset.
func bestCorrelation(rec, probe []int16) (best float64, at int) {
	var pp float64
	for _, x := range probe {
		pp += float64(x) * float64(x)
	}
	for off := 0; off+len(probe) <= len(rec); off++ {
		var rp, rr float64
		w := rec[off : off+len(probe)]
		for i, x := range probe {
			y := float64(w[i])
			rp += y * float64(x)
			rr += y * y
		}
		if rr == 0 {
			continue
		}
		if c := rp / math.Sqrt(pp*rr); c > best {
			best, at = c, off
		}
	}
	return best, at
}

// waitMessages waits until the box holds n messages.
func waitMessages(t *testing.T, a *app, tenantID, userID string, n int) []store.VoicemailMessage {
	t.Helper()
	ctx := context.Background()
	box, err := a.store.UserVoicemailBox(ctx, tenantID, userID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs, err := a.store.VoicemailMessages(ctx, tenantID, box.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages in the box, want %d", len(msgs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaveMessage calls ext (which reaches voicemail), waits for the beep,
// says 2 s of speech and hangs up; it returns what the pbx decoded of it.
func leaveMessage(t *testing.T, caller *softphone, ext string, seed uint64, end func(pc *pcall)) []int16 {
	t.Helper()
	pc, err := caller.dial(t, ext, dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatalf("voicemail did not answer: %v", err)
	}
	hearAudio(t, pc.rtp, 12, "the beep") // all of it (250 ms): a stall inside it is not its end
	audioStops(t, pc.rtp, "the beep")
	frames, decoded := speechFrames(seed, 100)
	sendPaced(t, pc, frames)
	end(pc)
	return decoded
}

// requireSpeech checks that audio holds what was said: quarter-second
// pieces spread over it are each found in audio, nearly unchanged, in
// order. One piece may miss (a packet lost on a loaded machine shifts what
// follows, which a single long probe would not survive).
func requireSpeech(t *testing.T, audio, said []int16, what string) {
	t.Helper()
	found, last := 0, -1
	var scores []string
	for off := 2000; off+2000 <= len(said)-1000; off += 3000 {
		c, at := bestCorrelation(audio, said[off:off+2000])
		scores = append(scores, fmt.Sprintf("%.2f@%d", c, at))
		if c >= 0.95 && at > last {
			found, last = found+1, at
		}
	}
	if len(scores) < 4 || found < len(scores)-1 {
		t.Fatalf("%s does not hold what was said: pieces found %d of %d (%s) in %d samples", what, found, len(scores), strings.Join(scores, " "), len(audio))
	}
}

// requireRecorded checks that the message's file holds what was said.
func requireRecorded(t *testing.T, m store.VoicemailMessage, said []int16) {
	t.Helper()
	clip, err := media.LoadClip(m.Path)
	if err != nil {
		t.Fatalf("the message is not a playable WAV: %v", err)
	}
	if clip.Duration() < 1500*time.Millisecond || (m.Duration-clip.Duration()).Abs() >= time.Millisecond {
		t.Fatalf("message of %s, file of %s", m.Duration, clip.Duration())
	}
	requireSpeech(t, clip.Samples(), said, "the message")
}

// TestVoicemailDepositByHangup: a call to a licence with nothing
// registered reaches its box; the caller hangs up mid-message and the
// message is kept, with the audio that was sent, the caller and a
// duration.
//
// The message is mailed to the callee through a real SMTP server on
// loopback that requires STARTTLS, the WAV attached.
func TestVoicemailDepositByHangup(t *testing.T) {
	smtp := smtptest.Start(t)
	a := testApp(t, t.TempDir(), noPrompts, func(c *config) { c.SMTP, c.SMTPCA, c.SMTPFrom = smtp.Addr, smtp.CertFile, "vm@acme.test" })
	accs := seedTenant(t, a, "Acme", "201", "202")
	bob := accs[1].user
	bob.Email = "bob@acme.test"
	if err := a.store.UpdateUser(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	alice := newSoftphone(t, a, accs[0], "udp")
	said := leaveMessage(t, alice, "202", 7, func(pc *pcall) { pc.hangup(t) })
	msgs := waitMessages(t, a, accs[1].tenant.ID, accs[1].user.ID, 1)
	m := msgs[0]
	if m.Caller != "201" || m.Read {
		t.Fatalf("message %+v", m)
	}
	requireRecorded(t, m, said)

	mail := smtp.WaitMessages(t, 1)[0]
	if mail.Header.Get("To") != "bob@acme.test" || mail.Header.Get("From") != "vm@acme.test" || !strings.Contains(mail.Header.Get("Subject"), "201") {
		t.Fatalf("mail headers %v", mail.Header)
	}
	wav := smtptest.Attachment(t, mail, "audio/wav")
	file, err := os.ReadFile(m.Path)
	if err != nil || !bytes.Equal(wav, file) {
		t.Fatalf("attachment of %d bytes, message of %d (%v)", len(wav), len(file), err)
	}
	waitIdle(t, a)
}

// TestVoicemailDepositEndsOnHash: # ends the message; the pbx hangs up.
func TestVoicemailDepositEndsOnHash(t *testing.T) {
	a := testApp(t, t.TempDir(), noPrompts)
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice := newSoftphone(t, a, accs[0], "udp")
	said := leaveMessage(t, alice, "202", 8, func(pc *pcall) {
		sendDigit(t, pc, 101, 11)
		pc.waitEnded(t)
	})
	requireRecorded(t, waitMessages(t, a, accs[1].tenant.ID, accs[1].user.ID, 1)[0], said)
	waitIdle(t, a)
}

// summaryOf reads the counts of a message-summary body ("new/old").
func summaryOf(t *testing.T, body string) string {
	t.Helper()
	for _, line := range strings.Split(body, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Voice-Message: "); ok {
			counts, _, _ := strings.Cut(v, " ")
			return counts
		}
	}
	t.Fatalf("not a message-summary body:\n%s", body)
	return ""
}

// nextSummary waits for a message-summary NOTIFY on ch with counts want,
// skipping older ones (NOTIFYs of quick changes may cross).
func nextSummary(t *testing.T, ch <-chan string, want, what string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var last string
	for {
		select {
		case body := <-ch:
			if last = summaryOf(t, body); last == want {
				lamp := "Messages-Waiting: yes"
				if strings.HasPrefix(want, "0/") {
					lamp = "Messages-Waiting: no"
				}
				if !strings.Contains(body, lamp) {
					t.Fatalf("%s: lamp wrong for %s:\n%s", what, want, body)
				}
				return
			}
		case <-deadline:
			t.Fatalf("%s: no NOTIFY of %s (last %q)", what, want, last)
		}
	}
}

// unsolicitedSummaries makes p collect the message-summary NOTIFYs it
// gets outside any subscription.
func unsolicitedSummaries(p *softphone) <-chan string {
	ch := make(chan string, 16)
	p.server.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		if ev := req.GetHeader("Event"); ev != nil && ev.Value() == "message-summary" {
			select {
			case ch <- string(req.Body()):
			default:
			}
		}
	})
	return ch
}

// hearSamples collects d of the audio the pbx sends to pc, decoded.
func hearSamples(t *testing.T, pc *pcall, d time.Duration) []int16 {
	t.Helper()
	var out []int16
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		p, err := pc.rtp.recv(500 * time.Millisecond)
		if err != nil {
			continue
		}
		if p.PayloadType != 0 {
			continue
		}
		dec := g711.DecodeUlaw(p.Payload)
		for j := 0; j+1 < len(dec); j += 2 {
			out = append(out, int16(binary.LittleEndian.Uint16(dec[j:])))
		}
	}
	return out
}

// TestVoicemailMWIAndListening: a busy callee's box takes a message; the
// callee's subscribed phone and its other registered phone are told
// 1 new; the callee dials *98, hears the message (the audio that was
// left), which makes it saved (0/1), deletes it with 3 (0/0). Reads over
// REST move the lamps too.
func TestVoicemailMWIAndListening(t *testing.T) {
	a := testApp(t, t.TempDir(), noPrompts)
	accs := seedTenant(t, a, "Acme", "201", "202")
	second := addDevice(t, a, accs[1].tenant, accs[1].user)
	alice := newSoftphone(t, a, accs[0], "udp")
	desk, mobile := newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, second, "tcp")
	unsolicited := unsolicitedSummaries(mobile)

	res, lamp := subscribe(t, desk, "202", "message-summary", 600)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %s", res.StartLine())
	}
	nextSummary(t, lamp.pc.notifies, "0/0", "first NOTIFY")

	// Both of bob's phones are busy: the caller reaches the box.
	call := startDial(t, alice, "202", dialOpt{pts: "0 101"})
	desk.nextIncoming(t).reject(486, "Busy Here")
	mobile.nextIncoming(t).reject(486, "Busy Here")
	pc, err := call.result()
	if err != nil {
		t.Fatalf("voicemail did not answer: %v", err)
	}
	hearAudio(t, pc.rtp, 12, "the beep") // all of it (250 ms): a stall inside it is not its end
	audioStops(t, pc.rtp, "the beep")
	frames, said := speechFrames(9, 100)
	sendPaced(t, pc, frames)
	pc.hangup(t)
	msgs := waitMessages(t, a, accs[1].tenant.ID, accs[1].user.ID, 1)
	requireRecorded(t, msgs[0], said)
	nextSummary(t, lamp.pc.notifies, "1/0", "subscribed phone after the message")
	nextSummary(t, unsolicited, "1/0", "unsolicited, after the message")

	// A phone of bob's that starts (registers) learns it at once.
	third := addDevice(t, a, accs[1].tenant, accs[1].user)
	booted := newPhone(t, a, third, "udp")
	bootedSummaries := make(chan string, 16)
	booted.server.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		select {
		case bootedSummaries <- string(req.Body()):
		default:
		}
	})
	if res := booted.register(600, third.password); res.StatusCode != 200 {
		t.Fatalf("register: %s", res.StartLine())
	}
	nextSummary(t, bootedSummaries, "1/0", "a phone that registers")

	// Over REST: read, then new again.
	base := "/api/v1/tenants/" + accs[1].tenant.ID + "/users/" + accs[1].user.ID + "/voicemail/" + msgs[0].ID
	apiCall(t, a, "PATCH", base, map[string]any{"read": true}, 200)
	nextSummary(t, lamp.pc.notifies, "0/1", "after a read over REST")
	nextSummary(t, unsolicited, "0/1", "unsolicited, after a read over REST")
	apiCall(t, a, "PATCH", base, map[string]any{"read": false}, 200)
	nextSummary(t, lamp.pc.notifies, "1/0", "after marking new over REST")

	// By phone: *98 from bob's desk, no PIN; 1: new messages.
	lst, err := desk.dial(t, "*98", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatalf("*98: %v", err)
	}
	sendDigit(t, lst, 101, 1)
	requireSpeech(t, hearSamples(t, lst, 4*time.Second), said, "the message played by phone")
	nextSummary(t, lamp.pc.notifies, "0/1", "heard by phone")
	sendDigit(t, lst, 101, 3) // delete
	nextSummary(t, lamp.pc.notifies, "0/0", "deleted by phone")
	nextSummary(t, unsolicited, "0/0", "unsolicited, deleted by phone")
	if _, err := os.Stat(msgs[0].Path); !os.IsNotExist(err) {
		t.Fatalf("the deleted message's file: %v", err)
	}
	waitMessages(t, a, accs[1].tenant.ID, accs[1].user.ID, 0)
	sendDigit(t, lst, 101, 10) // *: main menu
	sendDigit(t, lst, 101, 10) // *: goodbye
	lst.waitEnded(t)
	waitIdle(t, a)
}
