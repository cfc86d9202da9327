package mwi

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// The message-summary bodies are RFC 3842's: the lamp on while a message
// is new, the counts new/old.
func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		n, o int
		want string
	}{
		{0, 0, "Messages-Waiting: no\r\nMessage-Account: sip:201@acme.test\r\nVoice-Message: 0/0 (0/0)\r\n"},
		{2, 1, "Messages-Waiting: yes\r\nMessage-Account: sip:201@acme.test\r\nVoice-Message: 2/1 (0/0)\r\n"},
		{0, 3, "Messages-Waiting: no\r\nMessage-Account: sip:201@acme.test\r\nVoice-Message: 0/3 (0/0)\r\n"},
	} {
		if got := string(Summary("sip:201@acme.test", tc.n, tc.o)); got != tc.want {
			t.Errorf("%d/%d: %q", tc.n, tc.o, got)
		}
	}
}

func TestIsMWI(t *testing.T) {
	for ev, want := range map[string]bool{"message-summary": true, "Message-Summary;id=1": true, "dialog": false, "": false} {
		req := sip.NewRequest(sip.SUBSCRIBE, sip.Uri{Scheme: "sip", User: "201", Host: "acme.test"})
		if ev != "" {
			req.AppendHeader(sip.NewHeader("Event", ev))
		}
		if got := IsMWI(req); got != want {
			t.Errorf("Event %q: %v", ev, got)
		}
	}
}
