// Command vmbench measures how many voicemail messages the pbx records at
// once without losing audio.
//
// It builds and starts the server (its own data directory, free loopback
// ports, no prompts: callers hear the beep only), provisions licences
// through the REST API, then, at rising steps, has that many callers call
// as many licences with nothing registered, so that each call is a message
// being recorded, all at the same time. Each caller sends 20 ms PCMU of a
// loud noise-like signal for the window, then hangs up. Each message is
// then downloaded over REST and cut in 20 ms blocks: each packet sent
// should be a loud block; the packets without one were lost. (A stall of
// the generator shifts audio in time, as network jitter does; it is not
// counted as loss, but reported as the sender's lag.)
//
//   - voicemail_concurrent_recordings: the largest step whose every call
//     left a message and whose messages lost under 0.1% of the audio;
//   - voicemail_recording_loss_percent: the loss of that step;
//   - voicemail_sender_lag_max_ms: how late the generator's sending was at
//     worst during that step (past 60 ms a gap may be the generator's).
//
// Figures go to stdout as "name value unit", progress to stderr; the exit
// status is 0 unless the command line is wrong.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"pbx/interop"
)

func main() {
	var steps, serveArgs, pbx string
	var window time.Duration
	var keep bool
	flag.StringVar(&steps, "steps", "100,200,300,400", "simultaneous recordings at each step, comma-separated, rising")
	flag.DurationVar(&window, "window", 10*time.Second, "how long each caller speaks")
	flag.StringVar(&pbx, "pbx", "", "pbx binary to run (default: build cmd/pbx)")
	flag.StringVar(&serveArgs, "serve-args", "", "extra `pbx serve` flags, space-separated")
	flag.BoolVar(&keep, "keep", false, "keep the working directory")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || len(ns) > 0 && n <= ns[len(ns)-1] {
			fmt.Fprintln(os.Stderr, "vmbench: -steps: want rising positive numbers")
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(ns, window, pbx, serveArgs, keep); err != nil {
		logf("%v", err)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "vmbench: "+format+"\n", args...) }

func run(steps []int, window time.Duration, pbx, serveArgs string, keep bool) error {
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	// Each step: its callers' setup, the window, the downloads.
	logf("expected run time: about %s, at most 15m0s", (time.Minute + time.Duration(len(steps))*(window+20*time.Second)).Round(time.Minute))
	work, bin, cleanup, err := interop.BenchWorkDir(ctx, "vmbench", pbx, keep, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := interop.StartBenchServer(ctx, bin, work, []string{"--rtp-ports", "2000-32767", "--log-level", "warn", "--prompts", ""}, serveArgs, logf)
	if err != nil {
		return err
	}
	defer srv.Stop()
	maxN := steps[len(steps)-1]
	ten, accs, err := srv.API().CreateCallAccounts(ctx, fmt.Sprintf("Vmbench %d", time.Now().Unix()), 2*maxN, 16,
		interop.CallAccountNaming{FirstExtension: 500000, FirstName: "Bench", EmailPrefix: "v", EmailDomain: "bench.example"})
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	users, err := userIDs(ctx, srv, ten.ID)
	if err != nil {
		return err
	}
	for _, a := range accs[maxN:] {
		boxPaths.Store(a.Extension, "/api/v1/tenants/"+ten.ID+"/users/"+users[a.Extension]+"/voicemail")
	}
	best, bestLoss, bestLag := 0, 0.0, 0.0
	for _, n := range steps {
		callers, boxes := accs[:n], accs[maxN:maxN+n]
		res, err := step(ctx, srv, callers, boxes, window)
		if err != nil {
			logf("%d recordings: %v", n, err)
			break
		}
		logf("%d recordings: %d messages, loss %.4f%%, sender lag max %s", n, res.messages, res.lossPercent, res.lag)
		if res.messages < n || res.lossPercent >= 0.1 {
			break
		}
		best, bestLoss, bestLag = n, res.lossPercent, float64(res.lag)/float64(time.Millisecond)
		// Empty the boxes for the next step.
		if err := clearBoxes(ctx, srv, boxes); err != nil {
			return err
		}
	}
	interop.PrintFigure("voicemail_concurrent_recordings", float64(best), "calls", 1)
	interop.PrintFigure("voicemail_recording_loss_percent", bestLoss, "%", 10000)
	interop.PrintFigure("voicemail_sender_lag_max_ms", bestLag, "ms", 10)
	if !srv.Alive() {
		return fmt.Errorf("the pbx died: %v\n%s", srv.ExitErr(), srv.LogTail(30))
	}
	return nil
}

type stepResult struct {
	messages    int
	lossPercent float64
	lag         time.Duration
}

// call is one caller leaving a message.
type call struct {
	dcs    *sipgo.DialogClientSession
	conn   *net.UDPConn
	remote *net.UDPAddr
	seq    uint16
	ts     uint32
	rng    *rand.Rand
	k      int
}

func step(ctx context.Context, srv *interop.Server, callers, boxes []interop.CallAccount, window time.Duration) (stepResult, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("vmbench"))
	if err != nil {
		return stepResult{}, err
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		return stepResult{}, err
	}
	calls := make([]*call, len(callers))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, client, srv.SIPAddr, callers[i], boxes[i].Extension)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			calls[i] = c
		}(i)
	}
	wg.Wait()
	defer func() {
		for _, c := range calls {
			if c != nil {
				c.conn.Close()
			}
		}
	}()
	if firstErr != nil {
		hangupAll(calls)
		return stepResult{}, firstErr
	}
	// The beep (250 ms) has played on every call by now; all speak for
	// the window, from two senders sharing the calls.
	time.Sleep(500 * time.Millisecond)
	var lagMax atomic.Int64
	const frame = 20 * time.Millisecond
	sent := int((window + frame - 1) / frame) // packets each caller sends
	var swg sync.WaitGroup
	for shard := 0; shard < 2; shard++ {
		swg.Add(1)
		go func(shard int) {
			defer swg.Done()
			start := time.Now()
			for tick := 0; time.Duration(tick)*20*time.Millisecond < window; tick++ {
				due := start.Add(time.Duration(tick) * 20 * time.Millisecond)
				time.Sleep(time.Until(due))
				if lag := time.Since(due); int64(lag) > lagMax.Load() {
					lagMax.Store(int64(lag))
				}
				for i := shard; i < len(calls); i += 2 {
					calls[i].send()
				}
			}
		}(shard)
	}
	swg.Wait()
	hangupAll(calls)
	// The messages: one per box, each checked for lost audio.
	res := stepResult{lag: time.Duration(lagMax.Load())}
	var lost, total int
	deadline := time.Now().Add(time.Minute)
	for _, b := range boxes {
		for {
			msgs, err := listMessages(ctx, srv, b)
			if err != nil {
				return res, err
			}
			if len(msgs) > 0 {
				loud, err := analyse(ctx, srv, b, msgs[0])
				if err != nil {
					return res, err
				}
				lost, total = lost+max(sent-loud, 0), total+sent
				res.messages++
				break
			}
			if time.Now().After(deadline) {
				lost, total = lost+sent, total+sent
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if total > 0 {
		res.lossPercent = 100 * float64(lost) / float64(total)
	}
	return res, nil
}

// dial calls ext (a box) as acc and returns the answered call.
func dial(ctx context.Context, client *sipgo.Client, server string, acc interop.CallAccount, ext string) (*call, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	host, portStr, _ := net.SplitHostPort(server)
	port, _ := strconv.Atoi(portStr)
	dua := &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: "127.0.0.1"}}}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: acc.Username, Host: acc.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: acc.Domain}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		conn.LocalAddr().(*net.UDPAddr).Port))
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dcs, err := dua.WriteInvite(dctx, req)
	if err == nil {
		err = dcs.WaitAnswer(dctx, sipgo.AnswerOptions{Username: acc.Username, Password: acc.Password})
	}
	if err == nil {
		err = dcs.Ack(dctx)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("call to box %s: %w", ext, err)
	}
	remote, err := audioAddr(string(dcs.InviteResponse.Body()))
	if err != nil {
		conn.Close()
		return nil, err
	}
	go drain(conn) // the beep, and whatever else comes back
	return &call{dcs: dcs, conn: conn, remote: remote, rng: rand.New(rand.NewPCG(uint64(port), uint64(len(ext))))}, nil
}

func drain(c *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// send sends the next 20 ms of loud noise.
func (c *call) send() {
	lin := make([]byte, 320)
	for j := 0; j < 160; j++ {
		v := 6000*math.Sin(2*math.Pi*440*float64(c.k)/8000) + 4000*(c.rng.Float64()*2-1)
		binary.LittleEndian.PutUint16(lin[2*j:], uint16(int16(v)))
		c.k++
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: 9}, Payload: g711.EncodeUlaw(lin)}
	c.seq++
	c.ts += 160
	raw, _ := p.Marshal()
	c.conn.WriteToUDP(raw, c.remote)
}

func hangupAll(calls []*call) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, c := range calls {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(c *call) {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c.dcs.Bye(ctx)
			c.dcs.Close()
		}(c)
	}
	wg.Wait()
}

func audioAddr(sdp string) (*net.UDPAddr, error) {
	var ip string
	var port int
	for _, l := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == "" || port == 0 {
		return nil, errors.New("no audio address in the answer")
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}, nil
}

// userIDs maps the tenant's extensions to their user ids.
func userIDs(ctx context.Context, srv *interop.Server, tenantID string) (map[string]string, error) {
	var us []struct {
		ID        string `json:"id"`
		Extension string `json:"extension"`
	}
	if err := srv.API().Do(ctx, "GET", "/api/v1/tenants/"+tenantID+"/users", nil, http.StatusOK, &us); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, u := range us {
		out[u.Extension] = u.ID
	}
	return out, nil
}

// boxPaths maps a box's extension to where its messages are over REST.
var boxPaths sync.Map

type message struct {
	ID string `json:"id"`
}

func listMessages(ctx context.Context, srv *interop.Server, b interop.CallAccount) ([]message, error) {
	p, ok := boxPaths.Load(b.Extension)
	if !ok {
		return nil, fmt.Errorf("no box path for %s", b.Extension)
	}
	var ms []message
	err := srv.API().Do(ctx, "GET", p.(string), nil, http.StatusOK, &ms)
	return ms, err
}

// analyse downloads a message and counts its loud 20 ms blocks.
func analyse(ctx context.Context, srv *interop.Server, b interop.CallAccount, m message) (loud int, err error) {
	p, _ := boxPaths.Load(b.Extension)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.HTTPURL+p.(string)+"/"+m.ID+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	wav, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || len(wav) < 44 {
		return 0, fmt.Errorf("message %s: %d, %d bytes, %v", m.ID, res.StatusCode, len(wav), err)
	}
	data := wav[44:]
	for i := 0; i+320 <= len(data); i += 320 {
		var sum float64
		for j := 0; j < 320; j += 2 {
			v := float64(int16(binary.LittleEndian.Uint16(data[i+j:])))
			sum += v * v
		}
		if math.Sqrt(sum/160) > 1000 {
			loud++
		}
	}
	return loud, nil
}

// clearBoxes deletes the messages of boxes.
func clearBoxes(ctx context.Context, srv *interop.Server, boxes []interop.CallAccount) error {
	for _, b := range boxes {
		ms, err := listMessages(ctx, srv, b)
		if err != nil {
			return err
		}
		for _, m := range ms {
			p, _ := boxPaths.Load(b.Extension)
			if err := srv.API().Do(ctx, "DELETE", p.(string)+"/"+m.ID, nil, http.StatusNoContent, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
