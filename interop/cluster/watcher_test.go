//go:build linux

package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/interop/loadgen"
)

// watcher is a desk phone's busy-lamp key: a dialog-event subscription
// (RFC 4235) to a colleague's extension, through the edge; the NOTIFY
// bodies it receives arrive on notes.
type watcher struct {
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	cli   *sipgo.Client
	conn  net.PacketConn
	done  chan struct{}
	notes chan string
}

func newWatcher(t *testing.T) *watcher {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("cluster-watcher"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		ua.Close()
		t.Fatal(err)
	}
	w := &watcher{ua: ua, conn: conn, done: make(chan struct{}), notes: make(chan string, 64)}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	w.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err == nil {
		w.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port), sipgo.WithClientLogger(quiet))
	}
	if err != nil {
		conn.Close()
		ua.Close()
		t.Fatal(err)
	}
	w.srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		select {
		case w.notes <- string(req.Body()):
		default:
		}
	})
	go func() {
		defer close(w.done)
		_ = w.srv.ServeUDP(conn)
	}()
	t.Cleanup(func() {
		w.cli.Close()
		w.srv.Close()
		w.ua.Close()
		w.conn.Close()
		<-w.done
	})
	return w
}

// subscribe watches ext as account acc, through the edge at edge.
func (w *watcher) subscribe(ctx context.Context, edge string, acc loadgen.Account, ext string) error {
	target := sip.Uri{Scheme: "sip", User: ext, Host: acc.Domain}
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: acc.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: target, Params: sip.NewParams()})
	local := w.conn.LocalAddr().(*net.UDPAddr)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: "127.0.0.1", Port: local.Port}})
	req.AppendHeader(sip.NewHeader("Event", "dialog"))
	req.AppendHeader(sip.NewHeader("Accept", "application/dialog-info+xml"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.SetDestination(edge)
	res, err := w.cli.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if res, err = w.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: acc.Username, Password: acc.Password}); err != nil {
			return err
		}
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("SUBSCRIBE %s: %s", ext, res.StartLine())
	}
	return nil
}

// await waits for a NOTIFY whose dialog state is state ("confirmed",
// "terminated"); a body with no dialog is the idle state, terminated.
func (w *watcher) await(t *testing.T, ctx context.Context, state string, limit time.Duration) {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case body := <-w.notes:
			got := "terminated"
			if i := strings.Index(body, "<state"); i >= 0 {
				rest := body[i:]
				if j := strings.Index(rest, ">"); j >= 0 {
					if k := strings.Index(rest[j:], "<"); k >= 0 {
						got = strings.TrimSpace(rest[j+1 : j+k])
					}
				}
			}
			if got == state {
				return
			}
			seen = append(seen, got)
		case <-timer.C:
			t.Fatalf("no NOTIFY with state %s within %s (states seen: %v)", state, limit, seen)
		case <-ctx.Done():
			t.Fatalf("no NOTIFY with state %s: %v (states seen: %v)", state, ctx.Err(), seen)
		}
	}
}
