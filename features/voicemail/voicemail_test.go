package voicemail

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/callctl"
	"pbx/callctl/fake"
	"pbx/internal/smtptest"
	"pbx/media"
	"pbx/store"
)

type fixture struct {
	st     *store.Store
	svc    *Service
	tenant store.Tenant
	user   store.User
	mwi    *recordingMWI
	dir    string
}

type recordingMWI struct {
	mu   sync.Mutex
	last [2]int
	n    int
}

func (r *recordingMWI) MessagesChanged(_, _ string, n, o int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.n = [2]int{n, o}, r.n+1
}

func (r *recordingMWI) get() ([2]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.n
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &fixture{st: openStore(t, dir), mwi: &recordingMWI{}, dir: dir}
	var err error
	if f.tenant, err = f.st.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: "acme.test"}); err != nil {
		t.Fatal(err)
	}
	if f.user, err = f.st.CreateUser(ctx, store.User{TenantID: f.tenant.ID, FirstName: "Ann", LastName: "A", Licence: store.LicenceFull, Extension: "201"}); err != nil {
		t.Fatal(err)
	}
	f.svc = &Service{Store: f.st, Dir: filepath.Join(dir, "voicemail"), MWI: f.mwi}
	return f
}

// speech writes d of a 440 Hz tone as the recorder does (a valid header
// kept up to date), and returns the samples.
func speech(t *testing.T, w io.WriteSeeker, d time.Duration, closeIt bool) []int16 {
	t.Helper()
	rec, err := media.NewRecorder(w, 1, media.RecorderOptions{HeaderEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.Start(0)
	n := int(d / (20 * time.Millisecond))
	var all []int16
	for i := 0; i < n; i++ {
		fr := make([]int16, 160)
		for j := range fr {
			fr[j] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
		}
		all = append(all, fr...)
		rec.Write(0, time.Duration(i)*20*time.Millisecond, fr)
	}
	if closeIt {
		rec.Advance(d)
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		rec.Advance(d + 500*time.Millisecond) // written up to 400 ms before
	}
	return all
}

func (f *fixture) deposit(t *testing.T, talk time.Duration, stop callctl.RecordStop) *fake.Leg {
	t.Helper()
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginDevice, TenantID: f.tenant.ID,
		Caller: callctl.Party{Name: "Bob", Number: "0470123456"}}, "201")
	in := call.InboundLeg()
	in.OnRecord = func(w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
		if spec.Max != 3*time.Minute || spec.Silence != 5*time.Second || spec.StopDigits != "#" || !spec.Beep {
			t.Errorf("record spec %+v", spec)
		}
		speech(t, w, talk, true)
		return callctl.RecordResult{Duration: talk, Stop: stop}, nil
	}
	f.svc.Deposit(context.Background(), call, f.tenant.ID, f.user.ID, ReasonNoAnswer)
	if !in.Answered() {
		t.Fatal("the caller was not answered")
	}
	return in
}

func TestDepositKeepsAMessageAndTellsMWI(t *testing.T) {
	f := newFixture(t)
	in := f.deposit(t, 2*time.Second, callctl.RecordHangup)
	box, err := f.svc.Box(context.Background(), f.tenant.ID, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.st.VoicemailMessages(context.Background(), f.tenant.ID, box.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	m := msgs[0]
	if m.Duration < 2*time.Second || m.Duration > 3*time.Second || m.Read || m.Caller != in.Remote().Number {
		t.Fatalf("message %+v", m)
	}
	c, err := media.LoadClip(m.Path)
	if err != nil || c.Duration() != m.Duration {
		t.Fatalf("message file: %v, %v", err, c)
	}
	if last, n := f.mwi.get(); n != 1 || last != [2]int{1, 0} {
		t.Fatalf("mwi %v after %d notifications", last, n)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(m.Path), ".rec-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if h := in.Hangups(); len(h) != 0 {
		t.Fatalf("a caller who hung up was hung up again: %v", h)
	}
	// Read, then deleted: the counts follow.
	if err := f.svc.MarkRead(context.Background(), box, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if last, _ := f.mwi.get(); last != [2]int{0, 1} {
		t.Fatalf("mwi after read %v", last)
	}
	if err := f.svc.DeleteMessage(context.Background(), box, m.ID); err != nil {
		t.Fatal(err)
	}
	if last, _ := f.mwi.get(); last != [2]int{0, 0} {
		t.Fatalf("mwi after delete %v", last)
	}
	if _, err := os.Stat(m.Path); !os.IsNotExist(err) {
		t.Fatalf("deleted message's file: %v", err)
	}
}

func TestDepositDiscardsShortMessagesAndHangsUpAfterHash(t *testing.T) {
	f := newFixture(t)
	in := f.deposit(t, 600*time.Millisecond, callctl.RecordDigit)
	box, _ := f.svc.Box(context.Background(), f.tenant.ID, f.user.ID)
	if msgs, _ := f.st.VoicemailMessages(context.Background(), f.tenant.ID, box.ID); len(msgs) != 0 {
		t.Fatalf("a 0.6 s message was kept: %+v", msgs)
	}
	if h := in.Hangups(); len(h) != 1 || h[0] != callctl.CauseNormal {
		t.Fatalf("hang-ups %v", h)
	}
	if left, _ := filepath.Glob(filepath.Join(f.svc.Dir, "*", "*", "*")); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

// TestRecoverAbandonedRecording: a recording cut off with no Close (the
// process killed) becomes a playable message when the store is opened
// again, once.
func TestRecoverAbandonedRecording(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	box, err := f.svc.Box(ctx, f.tenant.ID, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := f.svc.boxDir(box)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := pending{ID: store.NewVoicemailMessageID(), TenantID: box.TenantID, BoxID: box.ID, Caller: "0470123456", ReceivedAt: time.Now().UTC().Truncate(time.Millisecond)}
	meta, _ := json.Marshal(p)
	if err := writeSynced(filepath.Join(dir, ".rec-"+p.ID+".json"), meta); err != nil {
		t.Fatal(err)
	}
	wf, err := os.Create(filepath.Join(dir, ".rec-"+p.ID+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	sent := speech(t, wf, 3*time.Second, false)
	// Half a sample more, as a write cut short leaves.
	wf.Write([]byte{1})
	wf.Close()

	// "Restart": a new store and service on the same directories.
	f.st.Close()
	st := openStore(t, f.dir)
	svc := &Service{Store: st, Dir: f.svc.Dir}
	n, err := svc.Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d: %v", n, err)
	}
	msgs, err := st.VoicemailMessages(ctx, box.TenantID, box.ID)
	if err != nil || len(msgs) != 1 || msgs[0].Caller != "0470123456" || !msgs[0].ReceivedAt.Equal(p.ReceivedAt) {
		t.Fatalf("messages %+v %v", msgs, err)
	}
	c, err := media.LoadClip(msgs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Samples()
	if len(got) < len(sent)-800 || len(got) > len(sent)+8000 {
		t.Fatalf("recovered %d samples of %d", len(got), len(sent))
	}
	for i := 0; i < len(sent)-800; i++ {
		if got[i] != sent[i] {
			t.Fatalf("sample %d: %d, sent %d", i, got[i], sent[i])
		}
	}
	if n, err := svc.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("second recovery made %d: %v", n, err)
	}
}

func TestPIN(t *testing.T) {
	h, err := HashPIN("1234")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPIN(h, "1234") || CheckPIN(h, "1235") || CheckPIN("", "1234") || CheckPIN("1234", "1234") {
		t.Fatal("PIN check wrong")
	}
	h2, _ := HashPIN("1234")
	if h2 == h {
		t.Fatal("same PIN, same hash: no salt")
	}
	for _, bad := range []string{"", "123", "12345678901", "12a4"} {
		if _, err := HashPIN(bad); err != ErrBadPIN {
			t.Errorf("HashPIN(%q): %v", bad, err)
		}
	}
}

// TestDepositMailsTheMessage: the message goes to the owner's address
// through a real SMTP server that requires STARTTLS, the WAV attached
// byte for byte.
func TestDepositMailsTheMessage(t *testing.T) {
	f := newFixture(t)
	srv := smtptest.Start(t)
	f.user.Email = "ann@example.com"
	if err := f.st.UpdateUser(context.Background(), f.user); err != nil {
		t.Fatal(err)
	}
	f.svc.Mailer = &SMTP{Addr: srv.Addr, From: "voicemail@pbx.test", TLS: srv.TLS}
	in := f.deposit(t, 2*time.Second, callctl.RecordHangup)
	f.svc.Close() // the mail is sent in the background
	msgs := srv.WaitMessages(t, 1)
	m := msgs[0]
	if m.Header.Get("To") != "ann@example.com" || m.Header.Get("From") != "voicemail@pbx.test" {
		t.Fatalf("headers %v", m.Header)
	}
	if subj := m.Header.Get("Subject"); in.Remote().Number == "" || !strings.Contains(subj, "Bob ("+in.Remote().Number+")") {
		t.Fatalf("subject %q", subj)
	}
	box, _ := f.svc.Box(context.Background(), f.tenant.ID, f.user.ID)
	stored, _ := f.st.VoicemailMessages(context.Background(), f.tenant.ID, box.ID)
	want, err := os.ReadFile(stored[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if got := smtptest.Attachment(t, m, "audio/wav"); !bytes.Equal(got, want) {
		t.Fatalf("attachment of %d bytes, message file of %d", len(got), len(want))
	}
	// A box whose mails are turned off sends none.
	if err := f.st.SetVoicemailEmail(context.Background(), f.tenant.ID, box.ID, "", false); err != nil {
		t.Fatal(err)
	}
	f.deposit(t, 2*time.Second, callctl.RecordHangup)
	f.svc.Close()
	if n := len(srv.Messages(t)); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

// TestDepositInAGroupBox: a hunt group's box takes messages too; no lamp
// is told (a group has no phones of its own).
func TestDepositInAGroupBox(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g, err := f.st.CreateHuntGroup(ctx, store.HuntGroup{TenantID: f.tenant.ID, Name: "Sales", Strategy: store.StrategyRingAll,
		Members: []string{f.user.ID}, MemberTimeout: 10 * time.Second, Timeout: 30 * time.Second,
		Overflow: store.Destination{Type: store.DestUser, ID: f.user.ID}})
	if err != nil {
		t.Fatal(err)
	}
	call := fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TenantID: f.tenant.ID}, "+3221234567")
	call.InboundLeg().OnRecord = func(w io.WriteSeeker, spec callctl.RecordSpec) (callctl.RecordResult, error) {
		speech(t, w, 2*time.Second, true)
		return callctl.RecordResult{Duration: 2 * time.Second, Stop: callctl.RecordHangup}, nil
	}
	f.svc.Deposit(ctx, call, f.tenant.ID, g.ID, ReasonUnavailable)
	box, err := f.st.GroupVoicemailBox(ctx, f.tenant.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _ := f.st.VoicemailMessages(ctx, f.tenant.ID, box.ID); len(msgs) != 1 {
		t.Fatalf("%d messages in the group's box", len(msgs))
	}
	if _, n := f.mwi.get(); n != 0 {
		t.Fatalf("%d lamp notifications for a group box", n)
	}
	// An owner that is nobody of the tenant: the caller is told so.
	call = fake.NewCall(callctl.Origin{Kind: callctl.OriginTrunk, TenantID: f.tenant.ID}, "+3221234567")
	f.svc.Deposit(ctx, call, f.tenant.ID, "usr_0123456789abcdef", ReasonUnavailable)
	if h := call.InboundLeg().Hangups(); len(h) != 1 || h[0] != callctl.CauseUnavailable || call.InboundLeg().Answered() {
		t.Fatalf("unknown box: hang-ups %v", h)
	}
}
