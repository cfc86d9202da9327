package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/interop"
	"pbx/interop/loadgen"
)

// watchers are busy-lamp subscribers: devices that subscribe to the
// dialog state of the called extensions, as a desk phone's BLF keys do,
// from one UDP socket that answers the NOTIFYs.
type watchers struct {
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	cli      *sipgo.Client
	conn     net.PacketConn
	server   sip.Uri
	port     int
	subs     []watch
	notifies atomic.Int64
}

type watch struct {
	acc  interop.CallAccount
	ext  string
	call string // Call-ID of the subscription, kept across refreshes
	tag  string // our From tag
	to   string // the server's To tag, once subscribed
	cseq uint32
}

func newWatchers(server string, accs []interop.CallAccount, pairs [][2]loadgen.Account, n int) (*watchers, error) {
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		return nil, err
	}
	sport, _ := strconv.Atoi(portStr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("soak-blf"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		return nil, err
	}
	w := &watchers{ua: ua, server: sip.Uri{Scheme: "sip", Host: host, Port: sport}}
	w.srv, _ = sipgo.NewServer(ua)
	w.srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		w.notifies.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	w.conn, err = net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		ua.Close()
		return nil, err
	}
	w.port = w.conn.LocalAddr().(*net.UDPAddr).Port
	go w.srv.ServeUDP(w.conn)
	w.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(w.port))
	if err != nil {
		w.close()
		return nil, err
	}
	for i := 0; i < n && i < len(accs) && len(pairs) > 0; i++ {
		w.subs = append(w.subs, watch{acc: accs[i], ext: pairs[i%len(pairs)][1].Extension, call: fmt.Sprintf("blf-%d-%d@soak", time.Now().UnixNano(), i), tag: "w" + strconv.Itoa(i)})
	}
	return w, nil
}

func (w *watchers) close() {
	if w.cli != nil {
		w.cli.Close()
	}
	w.ua.Close()
	w.conn.Close()
}

// run subscribes every watcher at once and refreshes each every minute
// (Expires 120); at the end the subscriptions are ended (Expires 0).
func (w *watchers) run(ctx context.Context, fail *failures) {
	for {
		for i := range w.subs {
			if err := w.subscribe(ctx, &w.subs[i], 120); err != nil && ctx.Err() == nil {
				fail.subscribe.Add(1)
				logf("subscribe: %v", err)
			}
		}
		t := time.NewTimer(time.Minute)
		select {
		case <-ctx.Done():
			t.Stop()
			ectx, c := context.WithTimeout(context.Background(), 10*time.Second)
			for i := range w.subs {
				_ = w.subscribe(ectx, &w.subs[i], 0)
			}
			c()
			return
		case <-t.C:
		}
	}
}

func (w *watchers) subscribe(ctx context.Context, s *watch, expires int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ruri := w.server
	ruri.User = s.ext
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: s.acc.Username, Host: s.acc.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", s.tag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: s.ext, Host: s.acc.Domain}, Params: sip.NewParams()}
	if s.to != "" {
		// A refresh is sent within the subscription's dialog.
		to.Params.Add("tag", s.to)
	}
	req.AppendHeader(to)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: s.acc.Username, Host: "127.0.0.1", Port: w.port}})
	cid := sip.CallIDHeader(s.call)
	req.AppendHeader(&cid)
	s.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(sip.NewHeader("Event", "dialog"))
	req.AppendHeader(sip.NewHeader("Accept", "application/dialog-info+xml"))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := w.cli.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		s.cseq++
		res, err = w.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: s.acc.Username, Password: s.acc.Password})
	}
	if err != nil {
		return fmt.Errorf("%s -> %s: %w", s.acc.Username, s.ext, err)
	}
	if res.StatusCode/100 != 2 {
		s.to = "" // the next attempt starts a new subscription
		return fmt.Errorf("%s -> %s: %s", s.acc.Username, s.ext, res.StartLine())
	}
	if tag, ok := res.To().Params.Get("tag"); ok {
		s.to = tag
	}
	return nil
}
