package main

import "testing"

// dialing is a call placed in the background, so that the test can pick
// it up on the callee's phone meanwhile.
type dialing struct {
	ext string
	ch  chan dialResult
}

type dialResult struct {
	pc  *pcall
	err error
}

// startDial places a call from caller to ext with options o in a goroutine.
func startDial(t *testing.T, caller *softphone, ext string, o dialOpt) *dialing {
	t.Helper()
	d := &dialing{ext: ext, ch: make(chan dialResult, 1)}
	go func() {
		pc, err := caller.dial(t, ext, o)
		d.ch <- dialResult{pc, err}
	}()
	return d
}

// result waits for the final answer to the call.
func (d *dialing) result() (*pcall, error) {
	r := <-d.ch
	return r.pc, r.err
}

// wait waits for the call to be answered and fails the test if it is not.
func (d *dialing) wait(t *testing.T) *pcall {
	t.Helper()
	pc, err := d.result()
	if err != nil {
		t.Fatalf("call to %s: %v", d.ext, err)
	}
	return pc
}

// connect places a call from caller to ext and answers it on callee with
// payload types pts.
func connect(t *testing.T, caller, callee *softphone, ext, calleePTs string) (*pcall, *pcall) {
	t.Helper()
	return connectWith(t, caller, callee, ext, calleePTs, dialOpt{}, nil)
}

// connectWith is connect with the caller's dial options o; ringing, when
// not nil, looks at the incoming call before the callee answers it.
func connectWith(t *testing.T, caller, callee *softphone, ext, calleePTs string, o dialOpt, ringing func(in *pcall)) (*pcall, *pcall) {
	t.Helper()
	call := startDial(t, caller, ext, o)
	in := callee.nextIncoming(t)
	if ringing != nil {
		ringing(in)
	}
	in.answer(t, calleePTs)
	return call.wait(t), in
}

// requireRelay streams n random PCMU frames from one call to the other
// and fails with msg (a format given the count) unless at least atLeast
// of them arrive, every frame that arrives being bit-exact.
func requireRelay(t *testing.T, from, to *pcall, n, atLeast int, msg string) {
	t.Helper()
	frames := randomFrames(n)
	if got := matchExact(t, frames, stream(t, from, to, 0, 0, frames)); got < atLeast {
		t.Fatalf(msg, got)
	}
}

// requireRelayBoth is requireRelay from a to b (failing with aToB), then
// from b to a (failing with bToA).
func requireRelayBoth(t *testing.T, a, b *pcall, n, atLeast int, aToB, bToA string) {
	t.Helper()
	requireRelay(t, a, b, n, atLeast, aToB)
	requireRelay(t, b, a, n, atLeast, bToA)
}

// requireMusic streams n random PCMU frames from one call to the other
// while it is on hold and fails with msg (a format given the counts of
// relayed and of other frames) unless none of them arrives and at least
// atLeast other frames (the music) do.
func requireMusic(t *testing.T, from, to *pcall, n, atLeast int, msg string) {
	t.Helper()
	frames := randomFrames(n)
	if match, other := countExact(frames, stream(t, from, to, 0, 0, frames)); match != 0 || other < atLeast {
		t.Fatalf(msg, match, other)
	}
}

// hangupAndWait sends BYE on by and waits for the pbx to end peer.
func hangupAndWait(t *testing.T, by, peer *pcall) {
	t.Helper()
	by.hangup(t)
	peer.waitEnded(t)
}

// endCall is hangupAndWait, then waitIdle.
func endCall(t *testing.T, a *app, by, peer *pcall) {
	t.Helper()
	hangupAndWait(t, by, peer)
	waitIdle(t, a)
}
