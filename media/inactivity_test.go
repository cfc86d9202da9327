package media

import (
	"testing"
	"time"
)

func TestInactivityFires(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e)
	fe := newPeer(t)
	if !s.LastReceived().IsZero() {
		t.Fatal("LastReceived set before any packet")
	}
	fired := make(chan struct{}, 2)
	s.OnInactive(600*time.Millisecond, func() { fired <- struct{}{} })

	// Packets every 50 ms keep the call alive (a twelvefold margin for a
	// loaded machine).
	start := time.Now()
	for time.Since(start) < 1200*time.Millisecond {
		fe.send(s.LocalAddr(), 0, payloadOf(1, FrameSamples))
		time.Sleep(50 * time.Millisecond)
		select {
		case <-fired:
			t.Fatal("fired while packets arrive")
		default:
		}
	}
	if lr := s.LastReceived(); lr.IsZero() || time.Since(lr) > 5*time.Second {
		t.Fatalf("LastReceived %v", lr)
	}
	// Then they stop.
	select {
	case <-fired:
	case <-time.After(waitLong):
		t.Fatal("inactivity not reported")
	}
	select {
	case <-fired:
		t.Fatal("fired twice")
	case <-time.After(500 * time.Millisecond):
	}
}

func TestInactivitySuspendedOnHold(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e)
	fired := make(chan struct{}, 1)
	s.OnInactive(100*time.Millisecond, func() { fired <- struct{}{} })
	s.SetExpectMedia(false) // the far end put us on hold
	select {
	case <-fired:
		t.Fatal("fired while no media is expected")
	case <-time.After(600 * time.Millisecond):
	}
	s.SetExpectMedia(true)
	select {
	case <-fired:
	case <-time.After(waitLong):
		t.Fatal("not fired after media is expected again")
	}

	// Closing the session cancels the watch.
	s2 := newTestSession(t, e)
	s2.OnInactive(100*time.Millisecond, func() { fired <- struct{}{} })
	s2.Close()
	select {
	case <-fired:
		t.Fatal("fired after Close")
	case <-time.After(300 * time.Millisecond):
	}
}
