package trunkreg

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"pbx/sip/sipserver"
)

// account is what a trunk's registration is made of; a change of any
// field makes a new registration.
type account struct {
	id, host  string
	port      int
	transport string
	username  string
	password  string
}

// worker keeps one trunk's registration. One Call-ID and an increasing
// CSeq serve every REGISTER of it (RFC 3261 §10.2).
type worker struct {
	r      *Registrations
	acc    account
	callID string
	tag    string
	cseq   uint32
	cancel context.CancelFunc
	done   chan struct{}
}

func startWorker(r *Registrations, acc account) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{r: r, acc: acc, callID: sip.GenerateTagN(16) + "@trunkreg", tag: sip.GenerateTagN(10), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// stop ends the worker and waits for it (and its un-registration).
func (w *worker) stop() {
	w.cancel()
	<-w.done
}

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	cfg := &w.r.cfg
	// boundUntil is until when the carrier may hold our binding: a
	// failed refresh leaves the last one standing, and a REGISTER cut
	// short by stop may have been granted.
	var boundUntil time.Time
	failures := 0
	for {
		granted, status, err := w.register(ctx, cfg.Expires)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				boundUntil = time.Now().Add(cfg.Expires)
				break
			}
			failures++
			wait = backoff(failures, cfg.RetryMin, cfg.RetryMax)
			w.r.setState(w, State{State: StateFailed, Status: status, Error: err.Error()})
			cfg.Log.Warn("trunk registration failed", "trunk", w.acc.id, "host", w.acc.host, "status", status, "error", err, "retry_in", wait)
		} else {
			if failures > 0 || boundUntil.IsZero() {
				cfg.Log.Info("trunk registered", "trunk", w.acc.id, "host", w.acc.host, "expires", granted)
			}
			failures, boundUntil = 0, time.Now().Add(granted)
			wait = refreshAfter(granted, cfg.MinRefresh)
			w.r.setState(w, State{State: StateRegistered, Status: status, ExpiresAt: time.Now().Add(granted)})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if time.Now().Before(boundUntil) {
		// The worker's context is over: un-register on a context of its own.
		// Bounded short: shutdown must not wait on a carrier gone silent.
		uctx, cancel := context.WithTimeout(context.Background(), min(cfg.Timeout, unregisterTimeout))
		defer cancel()
		if _, _, err := w.register(uctx, 0); err != nil {
			cfg.Log.Warn("trunk un-registration failed", "trunk", w.acc.id, "error", err)
		}
	}
}

// unregisterTimeout bounds the REGISTER that removes a binding.
const unregisterTimeout = 4 * time.Second

// refreshAfter is when to refresh a binding granted for d: at half of it,
// never sooner than min (nor later than the binding lasts).
func refreshAfter(d, min time.Duration) time.Duration {
	r := d / 2
	if r < min {
		r = min
	}
	if d > 0 && r > d {
		r = d
	}
	return r
}

// backoff is the wait after the n-th failure in a row: min doubled each
// time, capped at max.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// register sends a REGISTER asking for expires (0 removes the binding),
// answering one digest challenge, and returns what the carrier granted
// and the final status.
func (w *worker) register(ctx context.Context, expires time.Duration) (granted time.Duration, status int, err error) {
	cfg := &w.r.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req := w.newRegister(expires)
	res, err := sipserver.Do(ctx, cfg.Client, req)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = sipserver.DoDigestAuth(ctx, cfg.Client, req, res, sipgo.DigestAuth{Username: w.acc.username, Password: w.acc.password})
		w.cseq = req.CSeq().SeqNo // DoDigestAuth sent it again with the next CSeq
		if err != nil {
			return 0, 0, err
		}
	}
	if !res.IsSuccess() {
		return 0, res.StatusCode, fmt.Errorf("REGISTER answered %d %s", res.StatusCode, res.Reason)
	}
	return grantedExpires(res, req.Contact(), expires), res.StatusCode, nil
}

func (w *worker) newRegister(expires time.Duration) *sip.Request {
	cfg := &w.r.cfg
	transport := strings.ToLower(w.acc.transport)
	recipient := sip.Uri{Scheme: "sip", Host: w.acc.host, Port: w.acc.port, UriParams: sip.HeaderParams{}}
	if transport != "" && transport != "udp" {
		recipient.UriParams.Add("transport", transport)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: w.acc.username, Host: w.acc.host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", w.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(w.callID)
	req.AppendHeader(&cid)
	w.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: w.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: cfg.Contact(transport)})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	if transport != "" {
		req.SetTransport(strings.ToUpper(transport))
	}
	return req
}

// grantedExpires is the binding's lifetime the carrier granted: the
// expires parameter of our Contact in the 200, else its Expires header,
// else what we asked for.
func grantedExpires(res *sip.Response, ours *sip.ContactHeader, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || ours == nil || c.Address.Host != ours.Address.Host || c.Address.Port != ours.Address.Port {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
