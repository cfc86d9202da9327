package campaign

import (
	"context"
	"errors"
	"testing"
	"time"

	"pbx/callctl/fake"
	"pbx/store"
)

// Busy, unanswered and failed attempts are retried after retry_after, up
// to max_attempts; the campaign finishes when nothing is left; a 9 during
// the message opts the contact out for good.
func TestBroadcastRetriesAndFinishes(t *testing.T) {
	r := newRig(t)
	r.net.script["+3221000001"] = []fake.Outcome{fake.Answer}
	r.net.script["+3221000002"] = []fake.Outcome{fake.Busy, fake.Answer}
	r.net.script["+3221000003"] = []fake.Outcome{fake.NoAnswer}
	r.net.script["+3221000004"] = []fake.Outcome{fake.Unavailable, fake.Busy, fake.Answer}
	r.net.press["+3221000005"] = OptOutDigit
	c := r.campaign(store.Campaign{MaxAttempts: 3, RetryAfter: 10 * time.Minute}, "+3221000001", "+3221000002", "+3221000003", "+3221000004", "+3221000005")

	r.step()
	got := r.results(c)
	for n, want := range map[string]string{"+3221000001": store.ContactAnswered, "+3221000002": store.ContactBusy, "+3221000003": store.ContactNoAnswer,
		"+3221000004": store.ContactFailed, "+3221000005": store.ContactOptedOut} {
		if got[n].Status != want || got[n].Attempts != 1 {
			t.Errorf("%s after the first pass: %s, %d attempts; want %s", n, got[n].Status, got[n].Attempts, want)
		}
	}
	if l, _ := r.st.DoNotCall(context.Background(), r.tenant.ID, "+3221000005"); l != "tenant" {
		t.Errorf("the opted-out number is not on the tenant's list: %q", l)
	}
	// Before retry_after nothing is dialled again.
	r.clk.add(9 * time.Minute)
	r.step()
	if n := r.net.dialled("+3221000002"); n != 1 {
		t.Fatalf("busy number dialled %d times before retry_after", n)
	}
	r.clk.add(time.Minute)
	r.step()
	r.clk.add(10 * time.Minute)
	r.step()
	r.step() // the pass after the last call finishes the campaign
	got = r.results(c)
	for n, want := range map[string]struct {
		status   string
		attempts int
	}{"+3221000001": {store.ContactAnswered, 1}, "+3221000002": {store.ContactAnswered, 2}, "+3221000003": {store.ContactNoAnswer, 3},
		"+3221000004": {store.ContactAnswered, 3}, "+3221000005": {store.ContactOptedOut, 1}} {
		if got[n].Status != want.status || got[n].Attempts != want.attempts {
			t.Errorf("%s at the end: %s, %d attempts; want %s, %d", n, got[n].Status, got[n].Attempts, want.status, want.attempts)
		}
	}
	if st := r.state(c); st != store.CampaignFinished {
		t.Fatalf("campaign %s after its last attempt", st)
	}
	if !r.notes.has(EventStarted) || !r.notes.has(EventProgress) || !r.notes.has(EventFinished) {
		t.Fatalf("webhook events: %v", r.notes.events)
	}
}

// Never more than max_concurrent calls at once, nor more than
// calls_per_minute started in a minute.
func TestPacing(t *testing.T) {
	r := newRig(t)
	r.net.hold = true
	var numbers []string
	for i := range 10 {
		numbers = append(numbers, "+32210001"+string(rune('0'+i))+"0")
	}
	c := r.campaign(store.Campaign{MaxConcurrent: 2, CallsPerMinute: 3}, numbers...)
	r.step()
	eventually(t, "two calls held", func() bool { return r.net.heldCount() == 2 })
	r.step() // still two up: no room
	if n := r.net.heldCount(); n != 2 {
		t.Fatalf("%d calls up with max_concurrent 2", n)
	}
	r.net.release()
	eventually(t, "the calls to end", func() bool { return r.progress(c).Answered == 2 })
	r.step() // one more: the third of this minute
	eventually(t, "a third call", func() bool { return r.net.heldCount() == 1 })
	r.net.release()
	eventually(t, "the third call to end", func() bool { return r.progress(c).Answered == 3 })
	r.step()
	if n := r.net.heldCount(); n != 0 {
		t.Fatalf("%d calls started beyond calls_per_minute", n)
	}
	r.clk.add(time.Minute)
	r.step()
	eventually(t, "calls in the next minute", func() bool { return r.net.heldCount() == 2 })
	r.net.release()
	r.s.calls.Wait()
	if r.net.peakUp() > 2 {
		t.Fatalf("%d calls up at once", r.net.peakUp())
	}
}

func (r *rig) progress(c store.Campaign) Progress {
	counts, err := r.st.CampaignProgress(context.Background(), c.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return ProgressOf(counts)
}

// Outside the window nothing is dialled; the campaign goes on when it
// opens.
func TestWindow(t *testing.T) {
	r := newRig(t)
	r.clk.set(time.Date(2026, 3, 7, 12, 0, 0, 0, mustZone("Europe/Brussels"))) // a Saturday
	c := r.campaign(store.Campaign{}, "+3221000001")
	r.step()
	r.clk.set(time.Date(2026, 3, 9, 8, 59, 0, 0, mustZone("Europe/Brussels"))) // Monday, 08:59
	r.step()
	r.clk.set(time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)) // Monday 17:00 in Brussels
	r.step()
	if n := r.net.dialled("+3221000001"); n != 0 || r.state(c) != store.CampaignRunning {
		t.Fatalf("dialled %d times outside the window (campaign %s)", n, r.state(c))
	}
	r.clk.set(time.Date(2026, 3, 9, 9, 0, 0, 0, mustZone("Europe/Brussels")))
	r.step()
	if n := r.net.dialled("+3221000001"); n != 1 {
		t.Fatalf("dialled %d times when the window opened", n)
	}
}

// A number put on a do-not-call list after the upload is skipped at dial
// time, whichever list holds it.
func TestDoNotCallAtDialTime(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.campaign(store.Campaign{}, "+3221000001", "+3221000002", "+3221000003")
	if err := r.st.AddTenantDNC(ctx, r.tenant.ID, "+3221000002", DNCSourceAPI, r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.st.ReplacePlatformDNC(ctx, []string{"+3221000003"}, r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.step()
	got := r.results(c)
	if got["+3221000001"].Status != store.ContactAnswered || got["+3221000002"].Status != store.ContactSkipped || got["+3221000003"].Status != store.ContactSkipped {
		t.Fatalf("results: %+v", got)
	}
	if r.net.dialled("+3221000002")+r.net.dialled("+3221000003") != 0 {
		t.Fatal("a number on a do-not-call list was dialled")
	}
}

// Paused, a campaign dials nothing; resumed, it goes on; cancelled, it is
// finished. Actions out of turn conflict.
func TestPauseResumeCancel(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.campaign(store.Campaign{MaxConcurrent: 1}, "+3221000001", "+3221000002", "+3221000003")
	if _, err := r.s.Pause(ctx, r.tenant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	r.step()
	if r.net.dialled("+3221000001") != 0 {
		t.Fatal("a paused campaign dialled")
	}
	if _, err := r.s.Pause(ctx, r.tenant.ID, c.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("pause twice: %v", err)
	}
	if _, err := r.s.Resume(ctx, r.tenant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	r.step()
	if r.net.dialled("+3221000001") != 1 || r.net.dialled("+3221000002") != 0 {
		t.Fatal("a resumed campaign did not dial its next contact alone")
	}
	if _, err := r.s.Cancel(ctx, r.tenant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	r.step()
	if r.net.dialled("+3221000002") != 0 || r.state(c) != store.CampaignFinished {
		t.Fatal("a cancelled campaign went on")
	}
	if _, err := r.s.Resume(ctx, r.tenant.ID, c.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("resume a finished campaign: %v", err)
	}
	if !r.notes.has(EventPaused) || !r.notes.has(EventResumed) || !r.notes.has(EventFinished) {
		t.Fatalf("webhook events: %v", r.notes.events)
	}
}

// A running campaign survives a restart: a new scheduler on the same
// store counts the attempt left under way as failed and dials it again.
func TestRunningSurvivesRestart(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.campaign(store.Campaign{MaxAttempts: 2}, "+3221000001")
	// The previous run claimed the contact and stopped mid-call.
	if ok, err := r.st.ClaimCampaignContact(ctx, c.ID, 1, r.clk.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	r.s = &Scheduler{Store: r.st, Calls: r.ctl, Network: r.net, Audio: audio{}, Clock: r.clk}
	if err := r.s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	r.step()
	r.step()
	got := r.results(c)["+3221000001"]
	if got.Status != store.ContactAnswered || got.Attempts != 2 || r.state(c) != store.CampaignFinished {
		t.Fatalf("after the restart: %+v, campaign %s", got, r.state(c))
	}
}
