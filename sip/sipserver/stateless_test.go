package sipserver

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"
)

const invite = "INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%s;rport\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:t@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

// A request answered with RespondStateless keeps no transaction: its
// retransmission (same branch) reaches the handler again, where a kept
// transaction would have absorbed it and resent its answer.
func TestRespondStatelessKeepsNoTransaction(t *testing.T) {
	for _, stateless := range []bool{true, false} {
		s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(testLogOut, nil))})
		if err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		s.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
			calls.Add(1)
			res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			if stateless {
				_ = RespondStateless(tx, res)
			} else {
				_ = tx.Respond(res)
			}
		})
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, err := net.Dial("udp", s.Addr("udp").String())
		if err != nil {
			t.Fatal(err)
		}
		msg := strings.ReplaceAll(invite, "%s", "stateless")
		for i := 0; i < 2; i++ {
			if got := exchange(t, c, msg, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 407") {
				t.Fatalf("stateless=%v: answer %d: %q", stateless, i, got)
			}
		}
		c.Close()
		want := int32(1)
		if stateless {
			want = 2
		}
		if got := calls.Load(); got != want {
			t.Fatalf("stateless=%v: handler ran %d times for a request and its retransmission, want %d", stateless, got, want)
		}
		if n := testutilCount(s, "INVITE", "4xx"); n != float64(want) {
			t.Fatalf("stateless=%v: %v 4xx responses counted, want %d", stateless, n, want)
		}
	}
}

func testutilCount(s *Server, method, class string) float64 {
	var m dto.Metric
	if err := s.Metrics.Responses.WithLabelValues(method, class).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// sipgo ends a transaction of a closing user agent with neither a response
// nor an error; Do and DoDigestAuth make that an error.
func TestNoNilResponse(t *testing.T) {
	if _, err := noNil(nil, nil); !errors.Is(err, ErrNoResponse) {
		t.Fatalf("nil response, nil error: %v", err)
	}
	res := &sip.Response{StatusCode: 200}
	if got, err := noNil(res, nil); got != res || err != nil {
		t.Fatalf("a response: %v %v", got, err)
	}
}
