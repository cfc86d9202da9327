package media

import (
	"net/netip"
	"testing"
	"time"
)

// TestNoLeaks creates, bridges, uses and closes 2,000 sessions, with music,
// playback and inactivity watches on some, then checks that every port,
// goroutine and file descriptor is given back: the sockets kept for reuse
// are closed by the engine once their reuse period is over, with no next
// session to prompt it.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const quarantine = 200 * time.Millisecond
	e, err := NewEngine(Config{
		BindIP:      netip.MustParseAddr("127.0.0.1"),
		PortMin:     testPortMin,
		PortMax:     testPortMax,
		Quarantine:  quarantine,
		SocketReuse: quarantine,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fe := newPeer(t)
	class := e.Music("leak", MusicFiles(DefaultMusicDir))

	// Warm up so lazily created runtime resources (netpoller, timers)
	// exist before the baseline.
	w, _ := e.NewSession()
	w.StartMusic(class)
	time.Sleep(50 * time.Millisecond)
	w.Close()
	waitFor(t, "warm-up music to stop", func() bool { return e.Stats().MusicStreams == 0 })
	time.Sleep(2*quarantine + 1500*time.Millisecond) // its sockets closed by the reaper
	g0, fd0 := goroutines(), openFDs(t)

	const calls = 1000 // 2,000 sessions
	for i := 0; i < calls; i++ {
		a, err := e.NewSession()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		b, err := e.NewSession()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		a.SetRemote(fe.addr())
		b.SetRemote(fe.addr())
		br, err := NewBridge(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			fe.send(a.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
		}
		switch i % 4 {
		case 1:
			br.Close()
			b.StartMusic(class)
		case 2:
			a.Play(Melody())
		case 3:
			a.OnInactive(time.Hour, func() {})
		}
		if i%2 == 0 {
			a.Close()
			b.Close()
		} else {
			b.Close()
			a.Close()
			a.Close() // idempotent
		}
	}
	st := e.Stats()
	t.Logf("after closing: %+v", st)
	if st.Sessions != 0 || st.PortsInUse != 0 {
		t.Fatalf("sessions or ports still in use: %+v", st)
	}
	if st.PortsResting == 0 {
		t.Error("no port resting right after the calls")
	}
	waitFor(t, "quarantine to end", func() bool { return e.Stats().PortsResting == 0 })
	st = e.Stats()
	if total := (testPortMax - testPortMin + 1) &^ 1; st.PortsFree != total {
		t.Fatalf("%d ports free, want %d", st.PortsFree, total)
	}
	waitFor(t, "goroutines to return", func() bool { return goroutines() <= g0 })
	waitFor(t, "file descriptors to close", func() bool { return openFDs(t) <= fd0 })
	t.Logf("goroutines %d (baseline %d), fds %d (baseline %d)", goroutines(), g0, openFDs(t), fd0)
}

func TestEngineCloseClosesSessions(t *testing.T) {
	g0 := goroutines()
	e, err := NewEngine(Config{BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: testPortMin, PortMax: testPortMax})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.NewSession()
	b, _ := e.NewSession()
	NewBridge(a, b)
	a.Play(Melody())
	b.StartMusic(e.Music("x", nil))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Sessions != 0 || st.PortsInUse != 0 || st.MusicStreams != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	if _, err := e.NewSession(); err == nil {
		t.Fatal("NewSession after Close")
	}
	if _, err := a.Play(Melody()); err == nil {
		t.Fatal("Play on a closed session")
	}
	waitFor(t, "goroutines", func() bool { return goroutines() <= g0 })
}
