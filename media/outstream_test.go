package media

import "testing"

// TestMapSequenceWrap runs an input far past a 16-bit sequence wrap, with
// reordering and a source restart, directly through the stream mapping.
func TestMapSequenceWrap(t *testing.T) {
	var o outStream
	o.init(&Session{})
	now := int64(1)
	seq, ts := uint16(65000), uint32(4294960000)
	var lastSeq uint16
	var lastTS uint32
	for i := 0; i < 200000; i++ {
		now += int64(FrameInterval)
		oseq, ots, marker, ok := o.mapLocked(1, 7, 0, seq, ts, false, now)
		if !ok {
			t.Fatalf("packet %d (seq %d) dropped", i, seq)
		}
		if (i == 0) != marker {
			t.Fatalf("packet %d: marker %v", i, marker)
		}
		if i > 0 && (oseq != lastSeq+1 || ots != lastTS+FrameSamples) {
			t.Fatalf("packet %d: seq %d ts %d after %d %d", i, oseq, ots, lastSeq, lastTS)
		}
		lastSeq, lastTS = oseq, ots
		seq++
		ts += FrameSamples
	}
	// A packet reordered by two is passed with its own (older) number.
	oseq, _, _, ok := o.mapLocked(1, 7, 0, seq-3, ts-3*FrameSamples, false, now)
	if !ok || oseq != lastSeq-2 {
		t.Fatalf("reordered packet: %d %v, want %d", oseq, ok, lastSeq-2)
	}
	// A new input continues the stream: next number, time moved on.
	now += int64(FrameInterval)
	oseq, ots, marker, ok := o.mapLocked(2, 99, 0, 5, 12345, false, now)
	if !ok || !marker || oseq != lastSeq+1 || ots != lastTS+FrameSamples {
		t.Fatalf("new input: seq %d ts %d marker %v ok %v; last %d %d", oseq, ots, marker, ok, lastSeq, lastTS)
	}
	// A late packet of input 2 from before its start is dropped.
	o.mapLocked(2, 99, 0, 100, 20000, false, now)
	if _, _, _, ok := o.mapLocked(2, 99, 0, 4, 12185, false, now); ok {
		t.Fatal("packet older than the mapping start accepted")
	}
}
