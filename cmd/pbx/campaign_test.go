package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A broadcast campaign of 50 contacts through a carrier: most answer,
// some are busy the first time, some never answer. Each attempt goes out
// through the outbound route presenting the campaign's number; busy and
// unanswered contacts are tried again only once retry_after has passed on
// the campaign's clock, up to max_attempts; then the campaign finishes,
// with never more calls up than max_concurrent.
func TestCampaignBroadcastRetries(t *testing.T) {
	l := newCampaignLab(t)
	number := func(i int) string { return fmt.Sprintf("+325010%04d", i) }
	kind := func(i int) string {
		switch {
		case i%7 == 3:
			return "ring"
		case i%5 == 0:
			return "busy"
		}
		return "answer"
	}
	byNumber := map[string]int{}
	var csv strings.Builder
	csv.WriteString("number,name\n")
	for i := range 50 {
		byNumber[number(i)] = i
		fmt.Fprintf(&csv, "0%s,Contact %d\n", strings.TrimPrefix(number(i), "+32"), i)
	}
	l.behave = func(n string, attempt int) string {
		k := kind(byNumber[n])
		if k == "busy" && attempt > 1 {
			return "answer"
		}
		return k
	}
	id := l.create(t, map[string]any{"max_concurrent": 8, "max_attempts": 2, "retry_after": 600})
	if r := l.upload(t, id, csv.String(), 201); r["added"].(float64) != 50 {
		t.Fatalf("upload: %v", r)
	}
	l.action(t, id, "start")
	// The first pass: every contact tried once, none again before
	// retry_after.
	l.waitFor(t, id, "every contact tried once", func(_ string, p map[string]float64) bool {
		return p["pending"] == 0 && p["dialling"] == 0 && p["busy"]+p["no_answer"]+p["answered"] == 50
	})
	_, p := l.progress(t, id)
	if p["busy"] != 8 || p["no_answer"] != 7 || p["answered"] != 35 {
		t.Fatalf("after the first pass: %v", p)
	}
	time.Sleep(500 * time.Millisecond) // several passes of the scheduler
	if n := l.totalInvites(); n != 50 {
		t.Fatalf("%d INVITEs before retry_after passed", n)
	}
	l.setClock(mondayTen.Add(10 * time.Minute))
	l.waitFor(t, id, "the campaign to finish", func(st string, _ map[string]float64) bool { return st == "finished" })
	res := l.results(t, id)
	for i := range 50 {
		n := number(i)
		want := map[string][2]string{"answer": {"answered", "1"}, "busy": {"answered", "2"}, "ring": {"no_answer", "2"}}[kind(i)]
		if res[n] != want || l.invitesTo(n) != 0+atoi(want[1]) {
			t.Errorf("%s (%s): %v after %d INVITEs, want %v", n, kind(i), res[n], l.invitesTo(n), want)
		}
	}
	if peak := l.peakUp(); peak > 8 {
		t.Fatalf("%d calls up at once with max_concurrent 8", peak)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

// An agents campaign dials no more contacts than there are idle agents:
// two registered agents who answer, six contacts who stay a second each,
// never more than two carrier calls up; each contact talked to an agent.
func TestCampaignAgentsProgressive(t *testing.T) {
	l := newCampaignLab(t)
	l.hold = time.Second
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	for _, acc := range l.accs {
		ph := newSoftphone(t, l.a, acc, "udp")
		go func() {
			for {
				select {
				case pc := <-ph.incoming:
					pc.answer(t, "0")
				case <-done:
					return
				}
			}
		}()
	}
	group := addGroup(t, l.a, l.tenant, map[string]any{"name": "Agents", "strategy": "ring_all", "members": []string{l.accs[0].user.ID, l.accs[1].user.ID},
		"member_timeout": 10, "timeout": 30, "overflow": map[string]any{"type": "user", "id": l.accs[0].user.ID}})
	id := l.create(t, map[string]any{"mode": "agents", "audio": nil, "hunt_group": group, "max_concurrent": 10})
	l.upload(t, id, "number\n050111111\n050111112\n050111113\n050111114\n050111115\n050111116\n", 201)
	l.action(t, id, "start")
	l.waitFor(t, id, "the campaign to finish", func(st string, _ map[string]float64) bool { return st == "finished" })
	if peak := l.peakUp(); peak != 2 {
		t.Fatalf("%d contacts' calls up at once with 2 agents", peak)
	}
	raw := apiText(t, l.a, l.path(id)+"/results")
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[2] != "answered" || (f[6] != l.accs[0].user.ID && f[6] != l.accs[1].user.ID) {
			t.Errorf("result %q: not answered by an agent", line)
		}
	}
}
