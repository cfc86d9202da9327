package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"pbx/store"
)

// countExact counts received frames equal to a sent one.
func countExact(sent, got [][]byte) (match, other int) {
	for _, g := range got {
		if isSent(sent, g) {
			match++
		} else {
			other++
		}
	}
	return
}

func TestCallHoldMusicAndResume(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	ans, _ := parseTestSDP(out.reinvite(t, "sendonly"))
	if ans.dir != "recvonly" {
		t.Fatalf("hold answered with a=%s", ans.dir)
	}
	requireMusic(t, out, in, 60, 20, "held party got %d frames of the holder and %d of music")
	ans, _ = parseTestSDP(out.reinvite(t, "sendrecv"))
	if ans.dir != "sendrecv" {
		t.Fatalf("resume answered with a=%s", ans.dir)
	}
	time.Sleep(100 * time.Millisecond)
	frames := randomFrames(50)
	got := stream(t, out, in, 0, 0, frames)
	if match, _ := countExact(frames, got); match < 40 {
		t.Fatalf("after resume the callee received %d of 50 frames", match)
	}
	// The callee holds with a=inactive: the caller hears music.
	in.reinvite(t, "inactive")
	requireMusic(t, in, out, 40, 15, "caller on hold got %d frames of the callee and %d of music")
	endCall(t, a, out, in)
}

func TestCallDTMFPassthrough(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{pts: "0 96"}, nil)
	// Some audio first so both ends latch, then digit 5 (RFC 4733).
	stream(t, out, in, 0, 0, randomFrames(5))
	in.rtp.drain()
	ts := out.rtp.ts
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		end := byte(0x0a)
		if i >= 3 {
			end = 0x8a
		}
		out.rtp.ts = ts
		if err := out.rtp.send(out.remote, 96, i == 0, []byte{5, end, byte(dur >> 8), byte(dur)}, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sawEnd := false
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && !sawEnd; {
		p, err := in.rtp.recv(time.Until(deadline))
		if err != nil {
			break
		}
		if p.PayloadType == 101 {
			if p.Payload[0] != 5 {
				t.Fatalf("event %d relayed, want 5", p.Payload[0])
			}
			sawEnd = p.Payload[1]&0x80 != 0
		}
	}
	if !sawEnd {
		t.Fatal("callee did not receive the telephone-event (with the end bit) on its payload type 101")
	}
	hangupAndWait(t, out, in)
}

func TestCallForwardingAndDND(t *testing.T) {
	a := testApp(t, t.TempDir(), noVoicemail)
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	ctx := context.Background()
	setBob := func(mut func(u *store.User)) {
		u := accs[1].user
		u.NoAnswerSeconds = 20
		mut(&u)
		if err := a.store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	answerOn := func(t *testing.T, p *softphone, before func()) {
		call := startDial(t, alice, "202", dialOpt{})
		if before != nil {
			before()
		}
		in := p.nextIncoming(t)
		in.answer(t, "0 101")
		hangupAndWait(t, call.wait(t), in)
	}
	t.Run("unconditional", func(t *testing.T) {
		setBob(func(u *store.User) { u.ForwardAlways = "203" })
		answerOn(t, carol, nil)
		bob.noIncoming(t, 100*time.Millisecond)
	})
	t.Run("busy", func(t *testing.T) {
		setBob(func(u *store.User) { u.ForwardBusy = "203" })
		answerOn(t, carol, func() { bob.nextIncoming(t).reject(486, "Busy Here") })
	})
	t.Run("no answer", func(t *testing.T) {
		setBob(func(u *store.User) { u.ForwardNoAnswer = "203"; u.NoAnswerSeconds = 1 })
		var ringing *pcall
		answerOn(t, carol, func() { ringing = bob.nextIncoming(t) })
		ringing.waitCancelled(t)
	})
	t.Run("do not disturb", func(t *testing.T) {
		setBob(func(u *store.User) { u.DND = true })
		_, err := alice.dial(t, "202", dialOpt{})
		if statusOf(err) != 486 {
			t.Fatalf("DND: want 486, got %v", err)
		}
		bob.noIncoming(t, 100*time.Millisecond)
	})
	waitIdle(t, a)
	cdrs := waitCDR(t, a, accs[0].tenant.ID, 4)
	answered := 0
	for _, c := range cdrs {
		if c.Disposition == "answered" && c.Callee == "203" {
			answered++
		}
	}
	if answered != 3 || cdrs[0].Disposition != "busy" {
		t.Fatalf("CDRs: %+v", cdrs)
	}
}

func TestCallBlindTransfer(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp"), newSoftphone(t, a, accs[2], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	in.reinvite(t, "sendonly")
	in.refer(t, "<sip:203@acme.test>")
	toCarol := carol.nextIncoming(t)
	if f := toCarol.invite.From(); f.Address.User != "201" {
		t.Fatalf("transfer target sees caller %s, want the transferee 201", f.Address.User)
	}
	toCarol.answer(t, "8 101")
	in.waitNotify(t, "200 OK")
	in.waitEnded(t)
	frames := randomFrames(40)
	if n, _ := countExact(frames, stream(t, toCarol, out, 8, 0, frames)); n != 0 {
		t.Fatal("PCMA carol to PCMU alice cannot be bit-exact")
	}
	frames = randomFrames(40)
	got := stream(t, out, toCarol, 0, 8, frames)
	if len(got) < 30 {
		t.Fatalf("carol received %d frames from alice", len(got))
	}
	endCall(t, a, out, toCarol)
}

func TestCallAttendedTransfer(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	aliceOut, bobIn := connect(t, alice, bob, "202", "0 101")
	bobIn.reinvite(t, "sendonly")
	bobOut, carolIn := connect(t, bob, carol, "203", "0 101")
	local, remote := bobOut.dialogTags()
	replaces := url.QueryEscape(fmt.Sprintf("%s;to-tag=%s;from-tag=%s", bobOut.callID, remote, local))
	bobIn.refer(t, "<sip:203@acme.test?Replaces="+replaces+">")
	bobIn.waitNotify(t, "200 OK")
	bobIn.waitEnded(t)
	bobOut.waitEnded(t)
	requireRelayBoth(t, aliceOut, carolIn, 40, 30, "carol received %d of alice's frames", "alice received %d of carol's frames")
	endCall(t, a, carolIn, aliceOut)
}

func TestCallSRTPFromTLSDevice(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "tls"), newSoftphone(t, a, accs[1], "udp")
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{srtp: true, pts: "0 101"}, func(in *pcall) {
		if sdp, _ := parseTestSDP(in.peerSDP); sdp.crypto != "" {
			t.Fatal("a UDP device was offered SRTP")
		}
	})
	requireRelayBoth(t, out, in, 40, 30, "plain side received %d of 40 SRTP frames", "SRTP side received %d of 40 frames")
	// SRTP over UDP is refused: the keys would travel in clear.
	carol := newSoftphone(t, a, addDevice(t, a, accs[0].tenant, accs[0].user), "udp")
	if _, err := carol.dial(t, "202", dialOpt{srtp: true}); statusOf(err) != 488 {
		t.Fatalf("SDES over UDP: want 488, got %v", err)
	}
	endCall(t, a, out, in)
}

// A device on TLS that does not do SRTP refuses the RTP/SAVP offer: the
// pbx tries it again with plain RTP, so it still rings and talks.
func TestCallSRTPRefusedFallsBackToRTP(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tls")
	bob.noSRTP = true
	out, in := connectWith(t, alice, bob, "202", "0 101", dialOpt{pts: "0 101"}, func(in *pcall) {
		if sdp, _ := parseTestSDP(in.peerSDP); sdp.crypto != "" || strings.Contains(in.peerSDP, "RTP/SAVP") {
			t.Fatalf("retry still offers SRTP:\n%s", in.peerSDP)
		}
		if n := bob.refusedSRTP.Load(); n != 1 {
			t.Fatalf("phone refused %d SRTP offers, want 1", n)
		}
	})
	requireRelayBoth(t, out, in, 40, 30, "callee received %d of 40 frames", "caller received %d of 40 frames")
	hangupAndWait(t, out, in)
	bob.noIncoming(t, 200*time.Millisecond)
	waitIdle(t, a)
}

func TestCallRTPInactivityHangsUp(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.RTPTimeout = time.Second })
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")

	// On hold, the holder stops sending: the call stays up while the held
	// party keeps talking.
	out, in := connect(t, alice, bob, "202", "0 101")
	out.reinvite(t, "sendonly")
	stop := time.Now().Add(3 * time.Second)
	for time.Now().Before(stop) {
		_ = in.rtp.send(in.remote, 0, false, make([]byte, 160), 160)
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-in.ended:
		t.Fatal("a held call was hung up for inactivity")
	case <-out.ended:
		t.Fatal("a held call was hung up for inactivity")
	default:
	}
	hangupAndWait(t, out, in)

	// Silence on both sides ends the call.
	out, in = connect(t, alice, bob, "202", "0 101")
	out.waitEnded(t)
	in.waitEnded(t)
	waitIdle(t, a)
	cdrs := waitCDR(t, a, accs[0].tenant.ID, 2)
	if cdrs[0].HangupCause != "media_timeout" {
		t.Fatalf("CDR %+v", cdrs[0])
	}
}

// Dialling one's own extension rings one's other devices, never the device
// that dials.
func TestCallOwnExtensionRingsOtherDevices(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	mobileAcc := addDevice(t, a, accs[0].tenant, accs[0].user)
	desk, mobile := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, mobileAcc, "udp")
	out, in := connect(t, desk, mobile, "201", "0 101")
	desk.noIncoming(t, 200*time.Millisecond)
	requireRelayBoth(t, out, in, 20, 15, "mobile received %d of 20 frames", "desk received %d of 20 frames")
	endCall(t, a, out, in)
}

// A blind transfer that fails (unknown extension, busy target) is reported
// to the transferor in a NOTIFY, and the original call stays: the
// transferor resumes it and both parties talk again.
func TestCallBlindTransferFails(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp"), newSoftphone(t, a, accs[2], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	in.reinvite(t, "sendonly")
	in.refer(t, "<sip:299@acme.test>")
	in.waitNotify(t, "404")

	in.refer(t, "<sip:203@acme.test>")
	toCarol := carol.nextIncoming(t)
	toCarol.reject(486, "Busy Here")
	in.waitNotify(t, "486")

	select {
	case <-out.ended:
		t.Fatal("the transferee was hung up after a failed transfer")
	case <-in.ended:
		t.Fatal("the transferor was hung up after a failed transfer")
	default:
	}
	in.reinvite(t, "sendrecv")
	requireRelayBoth(t, out, in, 20, 15, "bob received %d of 20 frames", "alice received %d of 20 frames")
	endCall(t, a, out, in)
}
