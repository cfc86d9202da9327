package voicemail

import (
	"context"
	"io"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/store"
)

// listen runs Listen for a caller who types keys (all at once: the menus
// keep type-ahead).
func (f *fixture) listen(t *testing.T, owner string, pin bool, keys string, onRecord func(w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error)) *fake.Leg {
	t.Helper()
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginDevice, TenantID: f.tenant.ID}, "*98")
	in := call.InboundLeg()
	in.OnRecord = onRecord
	in.Type(keys)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.svc.Listen(context.Background(), call, f.tenant.ID, owner, pin)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not end")
	}
	if h := in.Hangups(); len(h) == 0 {
		t.Fatal("the caller was not hung up at the end")
	}
	return in
}

// TestListenFromAnotherPhone: the mailbox and its PIN are asked; a wrong
// PIN three times gets nothing; the right one gets in, and the PIN can be
// changed from the phone.
func TestListenFromAnotherPhone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	box, _ := f.svc.Box(ctx, f.tenant.ID, f.user.ID)
	if err := f.svc.SetPIN(ctx, box, "1234"); err != nil {
		t.Fatal(err)
	}
	f.deposit(t, 2*time.Second, callctl.RecordHangup)

	// Wrong three times (an unknown mailbox among them): no access, the
	// message stays new.
	f.listen(t, "", true, "201#9999#"+"299#1234#"+"201#4321#"+"1", nil)
	if n, o, _ := f.st.VoicemailCounts(ctx, f.tenant.ID, box.ID); n != 1 || o != 0 {
		t.Fatalf("counts after failed logins %d/%d", n, o)
	}
	// Right: 0 options, 6 new PIN twice, * back, 1 new messages (heard:
	// saved), * back, * leave.
	f.listen(t, "", true, "201#1234#"+"0"+"6"+"5678#5678#"+"*"+"1"+"*"+"*", nil)
	b, _ := f.st.VoicemailBoxByID(ctx, f.tenant.ID, box.ID)
	if !CheckPIN(b.PINHash, "5678") || CheckPIN(b.PINHash, "1234") {
		t.Fatal("PIN not changed")
	}
	if n, o, _ := f.st.VoicemailCounts(ctx, f.tenant.ID, box.ID); n != 0 || o != 1 {
		t.Fatalf("counts after listening %d/%d", n, o)
	}
	// Different PINs typed: unchanged.
	f.listen(t, f.user.ID, false, "0"+"6"+"1111#2222#"+"*"+"*", nil)
	b, _ = f.st.VoicemailBoxByID(ctx, f.tenant.ID, box.ID)
	if !CheckPIN(b.PINHash, "5678") {
		t.Fatal("PIN changed by two different entries")
	}
}

// TestListenDeletesAndRecordsGreetings: from the owner's phone (no PIN),
// 2 saved messages, 3 deletes; 0 then 1 records the unavailable greeting,
// which callers then hear.
func TestListenDeletesAndRecordsGreetings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	box, _ := f.svc.Box(ctx, f.tenant.ID, f.user.ID)
	f.deposit(t, 2*time.Second, callctl.RecordHangup)
	msgs, _ := f.st.VoicemailMessages(ctx, f.tenant.ID, box.ID)
	if err := f.svc.MarkRead(ctx, box, msgs[0].ID, true); err != nil {
		t.Fatal(err)
	}
	f.listen(t, f.user.ID, false, "2"+"3"+"*", nil)
	if left, _ := f.st.VoicemailMessages(ctx, f.tenant.ID, box.ID); len(left) != 0 {
		t.Fatalf("%d messages left after a delete", len(left))
	}
	if last, _ := f.mwi.get(); last != [2]int{0, 0} {
		t.Fatalf("lamps after the delete %v", last)
	}
	f.listen(t, f.user.ID, false, "0"+"1"+"*"+"*", func(w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
		if spec.StopDigits != "#" || !spec.Beep {
			t.Errorf("greeting record spec %+v", spec)
		}
		speech(t, w, 1500*time.Millisecond, true)
		return callctl.RecordResult{Duration: 1500 * time.Millisecond, Stop: callctl.RecordDigit, Digit: '#'}, nil
	})
	gs, err := f.st.VoicemailGreetings(ctx, box.ID)
	if err != nil || gs[store.GreetingUnavailable] == "" {
		t.Fatalf("greetings %v %v", gs, err)
	}
	if got := f.svc.greeting(ctx, box, ReasonNoAnswer, "en"); len(got) != 1 {
		t.Fatalf("callers hear %d sources, want the recorded greeting", len(got))
	}
}
