package loadgen

import (
	"net/netip"
	"testing"
	"time"
)

// TestEndsBackToBack sends audio and digits between two RTP ends pointed
// at each other (no server): nothing may be lost and the digits must
// arrive intact.
func TestEndsBackToBack(t *testing.T) {
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	epoch := time.Now()
	ma, err := newMux(lo, epoch)
	if err != nil {
		t.Fatal(err)
	}
	defer ma.close()
	mb, err := newMux(lo, epoch)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.close()
	a, b := ma.newEnd(), mb.newEnd()
	defer a.close()
	defer b.close()
	if err := ma.bind(a, b.local); err != nil {
		t.Fatal(err)
	}
	if err := mb.bind(b, a.local); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(2)
	stopA, stopB := s.add(a), s.add(b)
	const digits = "0123456789*#ABCD"
	a.queueDigits(digits)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st := b.stats(0); st.Events >= int64(len(digits)*(dtmfPackets+dtmfEndRepeats)) && st.Received > 100 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopA()
	stopB()
	time.Sleep(100 * time.Millisecond)
	s.close()
	up, down := b.stats(a.sent.Load()), a.stats(b.sent.Load())
	t.Logf("up %+v", up)
	t.Logf("down %+v", down)
	t.Logf("lag %+v", s.lag())
	for name, st := range map[string]StreamStats{"a->b": up, "b->a": down} {
		if st.Received == 0 || st.Lost() != 0 || st.Received != st.Sent || st.Other != 0 || st.Restarts != 0 {
			t.Errorf("%s: %+v: want every packet sent received, none lost", name, st)
		}
	}
	if up.Digits != digits || up.BadDigits != 0 {
		t.Errorf("digits received %q (%d with a wrong duration), want %q", up.Digits, up.BadDigits, digits)
	}
	if want := int64(len(digits) * (dtmfPackets + dtmfEndRepeats)); up.Events != want {
		t.Errorf("%d telephone-event packets, want %d", up.Events, want)
	}
	if down.Digits != "" {
		t.Errorf("digits in the other direction: %q", down.Digits)
	}
}
