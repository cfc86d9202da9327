package b2bua

import (
	"io"
	"log/slog"
	"testing"

	"pbx/callctl"
)

func bareLeg() *Leg {
	return &Leg{id: "leg-1", svc: &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		digits: make(chan rune, digitBuffer)}
}

// The stream behaves the same whether the program asked for it before the
// events (a channel) or after (they waited in a slice).
func TestEventsDropOldestAndEndWithHangup(t *testing.T) {
	t.Run("asked first", func(t *testing.T) {
		l := bareLeg()
		l.Events()
		testEventsDropOldest(t, l)
	})
	t.Run("asked after the hang-up", func(t *testing.T) { testEventsDropOldest(t, bareLeg()) })
}

func testEventsDropOldest(t *testing.T, l *Leg) {
	const n = eventBuffer + 36
	for i := range n {
		l.emit(callctl.Event{Kind: callctl.EventDTMF, Digit: rune('0' + i%10)})
	}
	// Full: the hang-up event still goes in, and closes the stream.
	l.emit(callctl.Event{Kind: callctl.EventHangup, Cause: callctl.CauseNormal})
	l.emit(callctl.Event{Kind: callctl.EventDTMF, Digit: '9'}) // after the end: discarded
	var got []callctl.Event
	for ev := range l.Events() {
		got = append(got, ev)
	}
	if len(got) != eventBuffer {
		t.Fatalf("%d events, want %d", len(got), eventBuffer)
	}
	last := got[len(got)-1]
	if last.Kind != callctl.EventHangup || last.Cause != callctl.CauseNormal {
		t.Fatalf("last event %+v", last)
	}
	// The oldest were dropped: what is left is the newest, in order.
	first := n - (eventBuffer - 1)
	for i, ev := range got[:len(got)-1] {
		if want := rune('0' + (first+i)%10); ev.Digit != want || ev.At.IsZero() {
			t.Fatalf("event %d: %+v, want digit %q", i, ev, want)
		}
	}
}

func TestDigitsTypeAheadBoundedAndUnread(t *testing.T) {
	l := bareLeg()
	for i := range digitBuffer + 3 {
		l.dtmf(rune('0' + i%10))
	}
	if len(l.digits) != digitBuffer {
		t.Fatalf("%d digits buffered", len(l.digits))
	}
	if d := <-l.digits; d != '3' { // 0, 1, 2 were the oldest, dropped
		t.Fatalf("oldest kept digit %q", d)
	}
	l.unreadDigit('*')
	if d := <-l.digits; d != '*' {
		t.Fatalf("unread digit not first: %q", d)
	}
	if d := <-l.digits; d != '4' {
		t.Fatalf("order lost after unread: %q", d)
	}
	l.flushDigits()
	if len(l.digits) != 0 {
		t.Fatal("flush left digits")
	}
}

func TestInfoDigit(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		want     rune
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"Application/DTMF-Relay; charset=x", "Duration=100\nsignal= #\n", '#', true},
		{"application/dtmf-relay", "Signal=11\r\n", '#', true},
		{"application/dtmf-relay", "Signal=10\r\n", '*', true},
		{"application/dtmf", "a", 'A', true},
		{"application/dtmf", " 9\r\n", '9', true},
		{"application/dtmf", "x", 0, false},
		{"application/dtmf-relay", "Duration=160", 0, false},
		{"application/media_control+xml", "5", 0, false},
	} {
		d, ok := infoDigit(tc.ct, []byte(tc.body))
		if d != tc.want || ok != tc.ok {
			t.Errorf("%s %q: %q %v, want %q %v", tc.ct, tc.body, d, ok, tc.want, tc.ok)
		}
	}
}
