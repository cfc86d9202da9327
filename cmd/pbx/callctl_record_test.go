package main

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zaf/g711"

	"pbx/callctl"
)

// toneFrames is n PCMU frames of a hz sine, continuous across frames.
func toneFrames(hz float64, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		lin := make([]byte, 320)
		for j := 0; j < 160; j++ {
			v := int16(8000 * math.Sin(2*math.Pi*hz*float64(i*160+j)/8000))
			binary.LittleEndian.PutUint16(lin[2*j:], uint16(v))
		}
		out[i] = g711.EncodeUlaw(lin)
	}
	return out
}

// sendPaced sends frames from pc in real time (20 ms apart), as a phone
// does, so that the recorder places them by their arrival.
func sendPaced(t *testing.T, pc *pcall, frames [][]byte) {
	t.Helper()
	next := time.Now()
	for _, f := range frames {
		if err := pc.rtp.send(pc.remote, 0, false, f, 160); err != nil {
			t.Fatal(err)
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
}

// goertzel is the power of frequency hz in samples.
func goertzel(samples []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for _, x := range samples {
		s := float64(x) + k*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// blockTones says, for each 20 ms block of a channel, which of the test
// frequencies dominates it (0: none).
func blockTones(ch []int16, freqs ...float64) []float64 {
	var out []float64
	for i := 0; i+160 <= len(ch); i += 160 {
		b := ch[i : i+160]
		best, bestP := 0.0, 1e9 // a floor well above noise and silence
		for _, f := range freqs {
			if p := goertzel(b, f); p > bestP {
				best, bestP = f, p
			}
		}
		out = append(out, best)
	}
	return out
}

// readStereoWAV reads a 16-bit stereo WAV written by the recorder.
func readStereoWAV(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file (%d bytes)", len(b))
	}
	if ch := binary.LittleEndian.Uint16(b[22:]); ch != 2 {
		t.Fatalf("%d channels", ch)
	}
	data := b[44:]
	if n := binary.LittleEndian.Uint32(b[40:]); int(n) != len(data) {
		t.Fatalf("data size %d in the header, %d in the file", n, len(data))
	}
	for i := 0; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right
}

// runs finds the first and last block where f dominates.
func span(blocks []float64, f float64) (first, last, count int) {
	first, last = -1, -1
	for i, b := range blocks {
		if b == f {
			if first < 0 {
				first = i
			}
			last = i
			count++
		}
	}
	return
}

// TestBridgeRecordingStereoAcrossHoldAndReplace records a bridge while
// each party sends its own tone, one party holds and resumes, and then a
// third party takes the first one's place: each channel holds exactly
// its party's audio, at the right time.
func TestBridgeRecordingStereoAcrossHoldAndReplace(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	path := filepath.Join(t.TempDir(), "bridge.wav")
	parked := make(chan callctl.Leg, 2)
	recording := make(chan error, 1)
	replaceNow := make(chan struct{})
	replaced := make(chan error, 1)
	stopNow := make(chan struct{})
	stopped := make(chan callctl.RecordResult, 1)
	var n atomic.Int32
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			return
		}
		switch n.Add(1) {
		case 1, 3: // alice, then carol: wait for the bridge
			parked <- in
			<-in.Done()
			return
		}
		first := <-parked
		br, err := c.Bridge(first, in, callctl.BridgeOptions{})
		if err != nil {
			recording <- err
			return
		}
		f, err := os.Create(path)
		if err != nil {
			recording <- err
			return
		}
		defer f.Close()
		rec, err := br.Record(ctx, f, callctl.RecordSpec{})
		recording <- err
		if err != nil {
			return
		}
		// A failed test never says when: the call's context ends at
		// shutdown and frees the program.
		select {
		case <-replaceNow:
		case <-ctx.Done():
			return
		}
		replaced <- br.Replace(first, <-parked)
		first.Hangup(callctl.CauseNormal)
		select {
		case <-stopNow:
		case <-ctx.Done():
		}
		stopped <- rec.Stop()
		<-br.Done()
	})
	const fa, fb, fc = 500, 1500, 2500
	aout, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	bout, err := bob.dial(t, "501", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-recording; err != nil {
		t.Fatal(err)
	}
	sendPaced(t, aout, toneFrames(fa, 50))
	sendPaced(t, bout, toneFrames(fb, 50))
	if ans, _ := parseTestSDP(aout.reinvite(t, "sendonly")); ans.dir != "recvonly" {
		t.Fatalf("hold answered with a=%s", ans.dir)
	}
	sendPaced(t, bout, toneFrames(fb, 25)) // bob talks while alice holds
	if ans, _ := parseTestSDP(aout.reinvite(t, "sendrecv")); ans.dir != "sendrecv" {
		t.Fatalf("resume answered with a=%s", ans.dir)
	}
	sendPaced(t, aout, toneFrames(fa, 50))
	cout, err := carol.dial(t, "502", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	close(replaceNow)
	if err := <-replaced; err != nil {
		t.Fatal(err)
	}
	aout.waitEnded(t)
	sendPaced(t, cout, toneFrames(fc, 50))
	close(stopNow)
	res := <-stopped
	if res.Err != nil || res.Stop != callctl.RecordCancelled {
		t.Fatalf("recording: %+v", res)
	}

	left, right := readStereoWAV(t, path)
	if got := time.Duration(len(left)) * time.Second / 8000; got < 4*time.Second || res.Duration < 4*time.Second {
		t.Fatalf("recording of %v (result %v), want at least the 4.5 s sent", got, res.Duration)
	}
	lb, rb := blockTones(left, fa, fb, fc), blockTones(right, fa, fb, fc)
	a1, a2, na := span(lb, fa)
	b1, b2, nb := span(rb, fb)
	c1, _, nc := span(lb, fc)
	if na < 80 || nb < 60 || nc < 40 {
		t.Fatalf("blocks of alice on the left %d (of 100), bob on the right %d (of 75), carol on the left %d (of 50)", na, nb, nc)
	}
	if _, _, n := span(rb, fa); n != 0 {
		t.Fatalf("alice heard on the right in %d blocks", n)
	}
	if _, _, n := span(rb, fc); n != 0 {
		t.Fatalf("carol heard on the right in %d blocks", n)
	}
	if _, _, n := span(lb, fb); n != 0 {
		t.Fatalf("bob heard on the left in %d blocks", n)
	}
	// Aligned: bob started a second after alice; alice's second burst
	// came after bob's last words (held), and carol after alice.
	if d := b1 - a1; d < 40 || d > 100 {
		t.Fatalf("bob's first words %d blocks after alice's, want about 50", d)
	}
	if a2 <= b2 || c1 <= a2 {
		t.Fatalf("order lost: alice until block %d, bob until %d, carol from %d", a2, b2, c1)
	}
	hangupAndWait(t, bout, cout)
	waitIdle(t, a)
}

// readMonoWAV reads a 16-bit mono WAV written by the recorder.
func readMonoWAV(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 1 {
		t.Fatalf("not a mono WAV file (%d bytes)", len(b))
	}
	var out []int16
	for i := 44; i+2 <= len(b); i += 2 {
		out = append(out, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return out
}

// recvEvents collects up to want RFC 4733 events (payload type pt) that
// end on r, one per event (the end packet's copies are counted once).
func recvEvents(t *testing.T, r *rtpEnd, pt uint8, want int) []byte {
	t.Helper()
	var got []byte
	lastTS, have := uint32(0), false
	for deadline := time.Now().Add(10 * time.Second); len(got) < want && time.Now().Before(deadline); {
		p, err := r.recv(time.Until(deadline))
		if err != nil {
			break
		}
		if p.PayloadType != pt || p.Payload[1]&0x80 == 0 || (have && p.Timestamp == lastTS) {
			continue
		}
		lastTS, have = p.Timestamp, true
		got = append(got, p.Payload[0])
	}
	return got
}

// TestLegMusicDTMFAndRecording: a program plays music to a caller and
// stops it, sends it digits, then records it after a beep until it
// presses #.
func TestLegMusicDTMFAndRecording(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	path := filepath.Join(t.TempDir(), "message.wav")
	step := make(chan struct{})
	errs := make(chan error, 4)
	recorded := make(chan callctl.RecordResult, 1)
	a.calls.router.setProgram(func(ctx context.Context, c progCall) {
		in := inboundLeg(c)
		if err := in.Answer(ctx); err != nil {
			errs <- err
			return
		}
		errs <- in.StartMusic("")
		<-step
		in.StopMusic()
		<-step
		errs <- in.SendDTMF(ctx, "19#")
		f, err := os.Create(path)
		if err != nil {
			errs <- err
			return
		}
		defer f.Close()
		res, err := in.Record(ctx, f, callctl.RecordSpec{Beep: true, StopDigits: "#", Max: 30 * time.Second})
		if err != nil {
			res.Err = err
		}
		recorded <- res
		<-in.Done()
	})
	out, err := alice.dial(t, "500", dialOpt{pts: "0 101"})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal("music:", err)
	}
	hearAudio(t, out.rtp, 20, "music")
	step <- struct{}{}
	audioStops(t, out.rtp, "StopMusic")
	step <- struct{}{}
	if got := recvEvents(t, out.rtp, 101, 3); string(got) != string([]byte{1, 9, 11}) {
		t.Fatalf("events %v, want 1 9 11", got)
	}
	if err := <-errs; err != nil {
		t.Fatal("send dtmf:", err)
	}
	hearAudio(t, out.rtp, 5, "the beep")
	audioStops(t, out.rtp, "the beep")
	sendDigit(t, out, 101, 7) // not a stop digit
	sendPaced(t, out, toneFrames(700, 50))
	sendDigit(t, out, 101, 11)
	var res callctl.RecordResult
	select {
	case res = <-recorded:
	case <-time.After(20 * time.Second):
		t.Fatal("recording did not stop on #")
	}
	if res.Err != nil || res.Stop != callctl.RecordDigit || res.Digit != '#' || res.Duration < 900*time.Millisecond {
		t.Fatalf("recording: %+v", res)
	}
	_, _, n := span(blockTones(readMonoWAV(t, path), 700), 700)
	if n < 40 {
		t.Fatalf("%d blocks of the caller's tone in the recording, want 50", n)
	}
	out.hangup(t)
	waitIdle(t, a)
}
