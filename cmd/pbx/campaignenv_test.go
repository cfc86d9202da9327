package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// campaignLab is a softswitch with a tenant (201, 202 registered as
// agents), a public number, an uploaded message, and a carrier played by
// a sipgo UA behind the default outbound route, which treats each number
// as the test scripts: answer (and hang up a moment later), busy, or ring
// without answering. The campaigns' clock is the lab's, moved by hand.
type campaignLab struct {
	t       *testing.T
	a       *app
	dir     string // the data directory, for a restart
	accs    []account
	tenant  string
	audio   string
	carrier *carrier

	mu       sync.Mutex
	now      time.Time
	behave   func(number string, attempt int) string // "answer", "busy" or "ring"
	hold     time.Duration                           // how long an answered call stays up
	invites  map[string]int
	calls    map[string]bool // Call-IDs of the calls up
	up, peak int
}

// mondayTen is a Monday, 10:00 in Brussels.
var mondayTen = time.Date(2026, 3, 2, 10, 0, 0, 0, brusselsZone())

func brusselsZone() *time.Location {
	l, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		panic(err)
	}
	return l
}

func newCampaignLab(t *testing.T) *campaignLab {
	t.Helper()
	l := &campaignLab{t: t, now: mondayTen, hold: 300 * time.Millisecond, invites: map[string]int{}, calls: map[string]bool{},
		behave: func(string, int) string { return "answer" }}
	l.dir = t.TempDir()
	l.start(t)
	l.accs = seedTenant(t, l.a, "Acme", "201", "202")
	l.tenant = l.accs[0].tenant.ID
	addNumber(t, l.a, l.tenant, "+3250400000", map[string]any{"type": "user", "id": l.accs[0].user.ID})
	l.audio = apiRaw(t, l.a, "POST", "/api/v1/tenants/"+l.tenant+"/audio?name=message", "audio/wav", toneWAV(time.Second), 201)["id"].(string)
	l.carrier = newCarrier(t, l.onInvite)
	trunk := addOutTrunk(t, l.a, "Carrier", int(l.carrier.addr.Port()), nil)
	apiCall(t, l.a, "POST", "/api/v1/routes", map[string]any{"prefix": "", "trunks": []string{trunk}}, 201)
	return l
}

// start starts the softswitch on the lab's data directory, on the lab's
// clock.
func (l *campaignLab) start(t *testing.T) {
	t.Helper()
	l.a = testApp(t, l.dir, func(c *config) { c.CampaignPoll, c.WebhookAllowPrivate = 100*time.Millisecond, true })
	l.a.calls.clock.set(l.clock)
}

func (l *campaignLab) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *campaignLab) setClock(t time.Time) {
	l.mu.Lock()
	l.now = t
	l.mu.Unlock()
}

// onInvite plays the contact the INVITE is for; a call counts as up from
// its INVITE until the carrier hangs up, answers busy, or reads the
// pbx's CANCEL or BYE.
func (l *campaignLab) onInvite(cc *carrierCall) {
	number, id := cc.req.Recipient.User, cc.req.CallID().Value()
	l.mu.Lock()
	// The CANCELs read before this INVITE end their calls first: the
	// socket is read in order, the handlers run concurrently.
	l.cancelled()
	l.invites[number]++
	attempt := l.invites[number]
	l.up++
	l.peak = max(l.peak, l.up)
	l.calls[id] = true
	hold := l.hold
	what := l.behave(number, attempt)
	l.mu.Unlock()
	switch what {
	case "busy":
		l.end(id)
		cc.respond(486, "Busy Here", nil)
	case "ring":
		cc.respond(180, "Ringing", nil)
		go func() { <-cc.dlg.Context().Done(); l.end(id) }()
	case "optout":
		// Answers and presses 9 (RFC 4733) during the message; the pbx
		// hangs up.
		cc.respond(200, "OK", cc.sdp(l.t))
		go func() {
			time.Sleep(200 * time.Millisecond)
			pressNine(cc.rtp, cc.offerAddr(l.t))
			<-cc.dlg.Context().Done()
			l.end(id)
		}()
	default:
		cc.respond(200, "OK", cc.sdp(l.t))
		go func() {
			select {
			case <-cc.dlg.Context().Done():
				l.end(id)
			case <-time.After(hold):
				l.end(id) // before the BYE, which lets the pbx place the next call
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = cc.dlg.Bye(ctx)
				cancel()
			}
		}()
	}
}

// pressNine sends the digit 9 as telephone events (payload type 101)
// to the pbx's media address.
func pressNine(r *rtpEnd, to netip.AddrPort) {
	ts := r.ts
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		end := byte(0x0a)
		if i >= 3 {
			end = 0x8a
		}
		r.ts = ts
		if err := r.send(to, 101, i == 0, []byte{9, end, byte(dur >> 8), byte(dur)}, 0); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// end counts the call with Call-ID id as over, once.
func (l *campaignLab) end(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endLocked(id)
}

func (l *campaignLab) endLocked(id string) {
	if l.calls[id] {
		delete(l.calls, id)
		l.up--
	}
}

// cancelled ends the calls whose CANCEL the carrier has read (l.mu held).
func (l *campaignLab) cancelled() {
	for {
		select {
		case raw := <-l.carrier.cancels:
			l.endLocked(headerOf(raw, "Call-ID"))
		default:
			return
		}
	}
}

func (l *campaignLab) invitesTo(number string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.invites[number]
}

func (l *campaignLab) totalInvites() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.invites {
		n += v
	}
	return n
}

func (l *campaignLab) peakUp() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

// create makes a campaign with settings over the defaults (broadcast of
// the lab's message, every day all day) and returns its id.
func (l *campaignLab) create(t *testing.T, settings map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "Spring", "mode": "broadcast", "audio": l.audio, "caller_id": "050 40 00 00",
		"window":         map[string]any{"time_zone": "Europe/Brussels", "hours": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "from": "00:00", "to": "24:00"}}},
		"max_concurrent": 20, "calls_per_minute": 600, "max_attempts": 1, "retry_after": 60, "ring_timeout": 10}
	for k, v := range settings {
		body[k] = v
	}
	return apiCall(t, l.a, "POST", "/api/v1/tenants/"+l.tenant+"/campaigns", body, 201)["id"].(string)
}

func (l *campaignLab) path(id string) string {
	return "/api/v1/tenants/" + l.tenant + "/campaigns/" + id
}

// upload posts a CSV of contacts and returns the answer.
func (l *campaignLab) upload(t *testing.T, id, csv string, want int) map[string]any {
	t.Helper()
	return apiRaw(t, l.a, "POST", l.path(id)+"/contacts", "text/csv", []byte(csv), want)
}

func (l *campaignLab) action(t *testing.T, id, action string) {
	t.Helper()
	apiCall(t, l.a, "POST", l.path(id)+"/"+action, nil, 200)
}

// progress is the campaign's state and its contacts counted by result.
func (l *campaignLab) progress(t *testing.T, id string) (string, map[string]float64) {
	t.Helper()
	c := apiCall(t, l.a, "GET", l.path(id), nil, 200)
	out := map[string]float64{}
	for k, v := range c["progress"].(map[string]any) {
		out[k] = v.(float64)
	}
	return c["state"].(string), out
}

// waitFor polls the campaign (generously, in real time) until cond holds.
func (l *campaignLab) waitFor(t *testing.T, id, what string, cond func(state string, p map[string]float64) bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, p := l.progress(t, id)
		if cond(st, p) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: campaign %s, %v", what, st, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// results reads the results CSV: status and attempts by number.
func (l *campaignLab) results(t *testing.T, id string) map[string][2]string {
	t.Helper()
	raw := apiText(t, l.a, l.path(id)+"/results")
	out := map[string][2]string{}
	for i, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		f := strings.Split(line, ",")
		if i == 0 || len(f) < 7 {
			continue
		}
		out[f[0]] = [2]string{f[2], f[3]}
	}
	return out
}

// apiRaw sends a body that is not JSON (a file) with the admin token.
func apiRaw(t *testing.T, a *app, method, path, contentType string, body []byte, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.httpLn.Addr().String()+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	return out
}

// apiText GETs a text document with the admin token.
func apiText(t *testing.T, a *app, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.httpLn.Addr().String()+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.cfg.AdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, raw)
	}
	return string(raw)
}
