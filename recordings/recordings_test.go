package recordings

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type fixture struct {
	st     *store.Store
	lib    *Library
	clk    *clock
	tenant store.Tenant
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(ctx, store.Tenant{Name: "Acme", Domain: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 10, 9, 30, 0, 0, time.UTC)}
	return &fixture{st: st, clk: clk, tenant: ten, lib: &Library{Store: st, Dir: filepath.Join(t.TempDir(), "rec"), Now: clk.Now}}
}

// record writes a complete recording of frames stereo frames (left i,
// right -i) and returns its row.
func (f *fixture) record(t *testing.T, frames int) store.Recording {
	t.Helper()
	ctx := context.Background()
	w, err := f.lib.Begin(ctx, Meta{TenantID: f.tenant.ID, CallID: "call-1", Parties: []store.RecordingParty{{Number: "201"}, {Number: "+3225550000"}}})
	if err != nil {
		t.Fatal(err)
	}
	var h [wavHeader]byte
	putHeader(h[:], int64(frames*frameBytes))
	if _, err := w.Write(append(h[:], frameData(frames)...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := f.st.Recording(ctx, f.tenant.ID, w.Recording().ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func frameData(frames int) []byte {
	b := make([]byte, frames*frameBytes)
	for i := 0; i < frames; i++ {
		binary.LittleEndian.PutUint16(b[i*4:], uint16(int16(i)))
		binary.LittleEndian.PutUint16(b[i*4+2:], uint16(-int16(i)))
	}
	return b
}

// TestRetentionDay89KeptDay90Gone: a recording lives 90 days; on day 89
// the purge keeps it, on day 90 the file and the row are gone together
// and the audit says what, when and why.
func TestRetentionDay89KeptDay90Gone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t0 := f.clk.Now()
	r := f.record(t, 8000)
	if !r.Complete || r.Duration != time.Second || r.Size != wavHeader+32000 || len(r.SHA256) != 64 || !r.ExpiresAt.Equal(t0.AddDate(0, 0, 90)) {
		t.Fatalf("recording %+v", r)
	}
	path := f.lib.Path(r)
	f.clk.Set(t0.AddDate(0, 0, 89))
	if n, err := f.lib.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("day 89: purged %d, %v", n, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("day 89: file gone: %v", err)
	}
	if _, err := f.st.Recording(ctx, f.tenant.ID, r.ID); err != nil {
		t.Fatalf("day 89: row gone: %v", err)
	}
	day90 := t0.AddDate(0, 0, 90)
	f.clk.Set(day90)
	if n, err := f.lib.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("day 90: purged %d, %v", n, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("day 90: file still there: %v", err)
	}
	if _, err := f.st.Recording(ctx, f.tenant.ID, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("day 90: row still there: %v", err)
	}
	log, err := f.st.RecordingAuditLog(ctx, f.tenant.ID, r.ID)
	if err != nil || len(log) != 1 {
		t.Fatalf("audit %+v %v", log, err)
	}
	if a := log[0]; a.Action != ActionPurged || !a.At.Equal(day90) || !strings.Contains(a.Reason, "retention") || a.CallID != "call-1" {
		t.Fatalf("audit entry %+v", a)
	}
	if n, err := f.lib.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("second purge: %d, %v", n, err)
	}
}

// TestRetentionShorterByTenant: a tenant that keeps recordings 7 days
// loses them on day 7; a change of its setting does not move the expiry
// of recordings already made.
func TestRetentionShorterByTenant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, _ := f.st.RecordingSettings(ctx, f.tenant.ID)
	st.RetentionDays = 7
	if err := f.st.SetRecordingSettings(ctx, st, store.SecretChange{}); err != nil {
		t.Fatal(err)
	}
	t0 := f.clk.Now()
	short := f.record(t, 800)
	st.RetentionDays = 90
	if err := f.st.SetRecordingSettings(ctx, st, store.SecretChange{}); err != nil {
		t.Fatal(err)
	}
	long := f.record(t, 800)
	f.clk.Set(t0.AddDate(0, 0, 7))
	if n, err := f.lib.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("day 7: purged %d, %v", n, err)
	}
	if _, err := f.st.Recording(ctx, f.tenant.ID, short.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("7-day recording kept: %v", err)
	}
	if _, err := f.st.Recording(ctx, f.tenant.ID, long.ID); err != nil {
		t.Fatalf("90-day recording gone: %v", err)
	}
	if got := Retention(store.RecordingSettings{RetentionDays: 365}); got != 90*24*time.Hour {
		t.Fatalf("retention of 365 days gives %v", got)
	}
}

// TestRepairUnfinished: a recording whose process died (header sizes
// behind, half a frame at the end) is repaired, hashed and listed.
func TestRepairUnfinished(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w, err := f.lib.Begin(ctx, Meta{TenantID: f.tenant.ID, CallID: "call-2"})
	if err != nil {
		t.Fatal(err)
	}
	var h [wavHeader]byte
	putHeader(h[:], 4000*frameBytes) // the last header update, half a second in
	data := append(frameData(12000), 1, 2)
	if _, err := w.Write(append(h[:], data...)); err != nil {
		t.Fatal(err)
	}
	w.File.Close() // killed: no Finish
	if rs, _ := f.st.Recordings(ctx, f.tenant.ID, store.RecordingFilter{}); len(rs) != 1 || rs[0].Complete {
		t.Fatalf("before repair %+v", rs)
	}
	n, err := f.lib.Repair(ctx)
	if err != nil || n != 1 {
		t.Fatalf("repaired %d, %v", n, err)
	}
	rs, err := f.st.Recordings(ctx, f.tenant.ID, store.RecordingFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("listed %+v %v", rs, err)
	}
	r := rs[0]
	if !r.Complete || !r.Repaired || r.Duration != 1500*time.Millisecond || r.Size != wavHeader+48000 {
		t.Fatalf("repaired recording %+v", r)
	}
	size, sum, err := hashFile(f.lib.Path(r))
	if err != nil || size != r.Size || sum != r.SHA256 {
		t.Fatalf("file %d %s, row %d %s (%v)", size, sum, r.Size, r.SHA256, err)
	}
	if d, err := wavDuration(f.lib.Path(r)); err != nil || d != 1500*time.Millisecond {
		t.Fatalf("header says %v (%v)", d, err)
	}
	if n, err := f.lib.Repair(ctx); err != nil || n != 0 {
		t.Fatalf("second repair: %d, %v", n, err)
	}
}

// TestDeleteAndDownloadAreAudited: a download opens the file and leaves
// an entry; a delete removes file and row and leaves one; another
// tenant reaches neither.
func TestDeleteAndDownloadAreAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.record(t, 80)
	other, err := f.st.CreateTenant(ctx, store.Tenant{Name: "Other", Domain: "other.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.lib.Open(ctx, other.ID, r.ID, "tok_x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant opens it: %v", err)
	}
	if err := f.lib.Delete(ctx, other.ID, r.ID, "tok_x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant deletes it: %v", err)
	}
	file, _, err := f.lib.Open(ctx, f.tenant.ID, r.ID, "tok_a")
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	f.clk.Set(f.clk.Now().Add(time.Minute))
	if err := f.lib.Delete(ctx, f.tenant.ID, r.ID, "tok_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.lib.Path(r)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file kept: %v", err)
	}
	log, _ := f.st.RecordingAuditLog(ctx, f.tenant.ID, r.ID)
	if len(log) != 2 || log[0].Action != ActionDownloaded || log[0].Actor != "tok_a" || log[1].Action != ActionDeleted {
		t.Fatalf("audit %+v", log)
	}
}

// TestDiscard: a recording whose call ended before it started leaves no
// file and no row, only an audit entry.
func TestDiscard(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w, err := f.lib.Begin(ctx, Meta{TenantID: f.tenant.ID, CallID: "call-3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.lib.Path(w.Recording())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file kept: %v", err)
	}
	if rs, _ := f.st.Recordings(ctx, f.tenant.ID, store.RecordingFilter{}); len(rs) != 0 {
		t.Fatalf("rows kept: %+v", rs)
	}
	if log, _ := f.st.RecordingAuditLog(ctx, f.tenant.ID, w.Recording().ID); len(log) != 1 || log[0].Action != ActionDiscarded {
		t.Fatalf("audit %+v", log)
	}
}

// TestPurgeDeletedTenant: the files of a deleted tenant (whose rows went
// with it) are removed by the next purge, each with an audit entry.
func TestPurgeDeletedTenant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.record(t, 80)
	if err := f.st.DeleteTenant(ctx, f.tenant.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := f.lib.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Dir(f.lib.Path(r))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tenant folder kept: %v", err)
	}
	log, _ := f.st.RecordingAuditLog(ctx, f.tenant.ID, r.ID)
	if len(log) != 1 || log[0].Action != ActionPurged || log[0].Reason != "tenant deleted" {
		t.Fatalf("audit %+v", log)
	}
}
