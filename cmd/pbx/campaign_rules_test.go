package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pbx/webhook"
)

// The do-not-call lists: a number on the platform's list is refused at
// upload, with the file's other bad lines, and nothing is imported; a
// number the tenant adds after the upload is skipped at dial time and
// never reaches the carrier. The tenant's webhook hears the campaign's
// progress, signed.
func TestCampaignDoNotCall(t *testing.T) {
	l := newCampaignLab(t)
	events := make(chan webhookHit, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case events <- webhookHit{r.Header.Clone(), b}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	const secret = "campaign-webhook-secret-0123"
	apiCall(t, l.a, "PUT", "/api/v1/tenants/"+l.tenant+"/webhook", map[string]any{"url": srv.URL, "secret": secret}, 200)
	apiRaw(t, l.a, "PUT", "/api/v1/do_not_call", "text/plain", []byte("# register of 2026-03-01\n050 22 22 22\n+3250333333\n"), 200)
	id := l.create(t, nil)
	bad := "number,name\n050 11 11 11,Good\n050/22.22.22,Registered\nnot a number,Bad\n050 11 11 11,Twice\n"
	r := l.upload(t, id, bad, 422)
	var fields []string
	for _, e := range r["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	if strings.Join(fields, "|") != "line 3: number|line 4: number|line 5: number" || !strings.Contains(r["detail"].(string), "line 3") {
		t.Fatalf("report: %v", r)
	}
	if _, p := l.progress(t, id); p["total"] != 0 {
		t.Fatalf("a rejected file imported %v contacts", p["total"])
	}
	l.upload(t, id, "number\n050 11 11 11\n050 44 44 44\n050 55 55 55\n", 201)
	apiCall(t, l.a, "POST", "/api/v1/tenants/"+l.tenant+"/do_not_call", map[string]any{"number": "0032 50 44 44 44"}, 201)
	l.action(t, id, "start")
	l.waitFor(t, id, "the campaign to finish", func(st string, _ map[string]float64) bool { return st == "finished" })
	res := l.results(t, id)
	if res["+3250111111"][0] != "answered" || res["+3250555555"][0] != "answered" || res["+3250444444"] != [2]string{"skipped", "0"} {
		t.Fatalf("results: %v", res)
	}
	if n := l.invitesTo("+3250444444"); n != 0 {
		t.Fatalf("the carrier got %d INVITEs for a do-not-call number", n)
	}
	seen := map[string]bool{}
	for !seen["campaign.finished"] {
		select {
		case h := <-events:
			if err := webhook.Verify(secret, h.header, h.body, time.Now(), 5*time.Minute); err != nil {
				t.Fatalf("webhook signature: %v", err)
			}
			var p struct {
				Event string `json:"event"`
				Data  struct {
					CampaignID string             `json:"campaign_id"`
					Progress   map[string]float64 `json:"progress"`
				} `json:"data"`
			}
			if err := json.Unmarshal(h.body, &p); err != nil || p.Data.CampaignID != id {
				t.Fatalf("webhook body %s: %v", h.body, err)
			}
			seen[p.Event] = true
			if p.Event == "campaign.finished" && (p.Data.Progress["answered"] != 2 || p.Data.Progress["skipped"] != 1) {
				t.Fatalf("finished event: %s", h.body)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("webhook events: %v", seen)
		}
	}
	if !seen["campaign.started"] || !seen["campaign.progress"] {
		t.Fatalf("webhook events: %v", seen)
	}
}

// Outside its weekly window a running campaign dials nothing, and starts
// when the window opens on the campaign's clock; paused it dials nothing
// more, resumed it goes on to the end.
func TestCampaignWindowPauseResume(t *testing.T) {
	l := newCampaignLab(t)
	l.setClock(time.Date(2026, 3, 7, 12, 0, 0, 0, brusselsZone())) // a Saturday
	id := l.create(t, map[string]any{"max_concurrent": 1, "window": map[string]any{"time_zone": "Europe/Brussels",
		"hours": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "from": "09:00", "to": "17:00"}}}})
	l.upload(t, id, "number\n050 11 11 11\n050 22 22 22\n050 33 33 33\n050 44 44 44\n", 201)
	l.action(t, id, "start")
	time.Sleep(time.Second)                                        // ten passes of the scheduler
	l.setClock(time.Date(2026, 3, 9, 8, 59, 0, 0, brusselsZone())) // Monday, a minute early
	time.Sleep(time.Second)
	if n := l.totalInvites(); n != 0 {
		t.Fatalf("%d calls placed outside the window", n)
	}
	if st, _ := l.progress(t, id); st != "running" {
		t.Fatalf("campaign %s outside its window", st)
	}
	l.setClock(time.Date(2026, 3, 9, 9, 0, 0, 0, brusselsZone()))
	l.waitFor(t, id, "the first call", func(_ string, p map[string]float64) bool { return p["answered"] >= 1 })
	l.action(t, id, "pause")
	l.waitFor(t, id, "the call under way to end", func(_ string, p map[string]float64) bool { return p["dialling"] == 0 })
	before := l.totalInvites()
	time.Sleep(time.Second)
	if st, p := l.progress(t, id); st != "paused" || l.totalInvites() != before || p["pending"] == 0 {
		t.Fatalf("paused campaign: %s, %v, %d INVITEs then %d", st, p, before, l.totalInvites())
	}
	l.action(t, id, "resume")
	l.waitFor(t, id, "the campaign to finish", func(st string, _ map[string]float64) bool { return st == "finished" })
	if _, p := l.progress(t, id); p["answered"] != 4 || l.totalInvites() != 4 {
		t.Fatalf("after resuming: %v, %d INVITEs", p, l.totalInvites())
	}
	// A finished campaign cannot be resumed.
	apiCall(t, l.a, "POST", l.path(id)+"/resume", nil, 409)
}

// A running campaign survives a restart: the node stops between two
// calls (calls_per_minute holds the second back) and the campaign goes on
// when it starts again on the same database.
func TestCampaignSurvivesRestart(t *testing.T) {
	l := newCampaignLab(t)
	id := l.create(t, map[string]any{"calls_per_minute": 1})
	l.upload(t, id, "number\n050 11 11 11\n050 22 22 22\n", 201)
	l.action(t, id, "start")
	l.waitFor(t, id, "the first call", func(_ string, p map[string]float64) bool { return p["answered"] == 1 && p["dialling"] == 0 })
	time.Sleep(500 * time.Millisecond) // several passes: the second waits for the next minute
	if n := l.totalInvites(); n != 1 {
		t.Fatalf("%d calls in the first minute with calls_per_minute 1", n)
	}
	if err := l.a.close(); err != nil {
		t.Fatal(err)
	}
	l.start(t)
	l.setClock(mondayTen.Add(time.Minute))
	l.waitFor(t, id, "the campaign to finish after the restart", func(st string, _ map[string]float64) bool { return st == "finished" })
	if res := l.results(t, id); res["+3250111111"] != [2]string{"answered", "1"} || res["+3250222222"] != [2]string{"answered", "1"} {
		t.Fatalf("results: %v", res)
	}
}

// A contact who presses 9 during the message is put on the tenant's
// do-not-call list and never called again, by this campaign or another.
func TestCampaignOptOutKey(t *testing.T) {
	l := newCampaignLab(t)
	l.behave = func(n string, _ int) string {
		if n == "+3250222222" {
			return "optout"
		}
		return "answer"
	}
	id := l.create(t, nil)
	l.upload(t, id, "number\n050 11 11 11\n050 22 22 22\n", 201)
	l.action(t, id, "start")
	l.waitFor(t, id, "the campaign to finish", func(st string, _ map[string]float64) bool { return st == "finished" })
	if res := l.results(t, id); res["+3250222222"] != [2]string{"opted_out", "1"} || res["+3250111111"][0] != "answered" {
		t.Fatalf("results: %v", res)
	}
	next := l.create(t, nil)
	r := l.upload(t, next, "number\n050 22 22 22\n", 422)
	if !strings.Contains(r["detail"].(string), "line 2: number") || !strings.Contains(string(mustJSON(r)), "tenant do-not-call") {
		t.Fatalf("upload of the opted-out number: %v", r)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
