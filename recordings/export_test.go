package recordings

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbx/internal/sshdtest"
	"pbx/store"
)

// exportTo points the fixture's tenant at srv, authenticating with key.
func (f *fixture) exportTo(t *testing.T, srv *sshdtest.Server, hostKey, key string, deleteLocal bool) string {
	t.Helper()
	dir := filepath.Join(srv.Dir, "inbox")
	st, err := f.st.RecordingSettings(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	st.Export = store.ExportSettings{Enabled: true, Host: srv.Host, Port: srv.Port, Username: srv.User, HostKey: hostKey, Dir: dir, DeleteLocal: deleteLocal}
	if err := f.st.SetRecordingSettings(context.Background(), st, store.SecretChange{PrivateKey: &key}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (f *fixture) exporter() *Exporter {
	return &Exporter{Library: f.lib, DialTimeout: 10 * time.Second}
}

func (f *fixture) reload(t *testing.T, r store.Recording) store.Recording {
	t.Helper()
	got, err := f.st.Recording(context.Background(), f.tenant.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(x) != string(y) {
		t.Fatalf("%s (%d bytes) differs from %s (%d bytes)", a, len(x), b, len(y))
	}
}

// TestExportToSFTP: two recordings go to a real sshd with key
// authentication and the pinned host key; the copies are verified, and
// ours deleted as the tenant asked, with audit entries.
func TestExportToSFTP(t *testing.T) {
	srv := sshdtest.Start(t)
	f := newFixture(t)
	ctx := context.Background()
	dir := f.exportTo(t, srv, srv.HostKey, srv.ClientKey, false)
	r1, r2 := f.record(t, 8000), f.record(t, 4000)
	if r1.Export.State != store.ExportPending {
		t.Fatalf("export state %q, want pending", r1.Export.State)
	}
	n, err := f.exporter().RunOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("exported %d, %v\n%s", n, err, srv.Log())
	}
	for _, r := range []store.Recording{r1, r2} {
		sameFile(t, f.lib.Path(r), filepath.Join(dir, RemoteName(r)))
		got := f.reload(t, r)
		if got.Export.State != store.ExportDone || got.Export.ExportedAt.IsZero() || got.Export.Error != "" {
			t.Fatalf("after export %+v", got.Export)
		}
	}
	if n, err := f.exporter().RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("exported again: %d %v", n, err)
	}

	// Now the tenant keeps no copy here: ours goes once the remote one
	// is verified.
	dir = f.exportTo(t, srv, srv.HostKey, srv.ClientKey, true)
	r3 := f.record(t, 2000)
	local, _ := os.ReadFile(f.lib.Path(r3))
	if n, err := f.exporter().RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("exported %d, %v", n, err)
	}
	remote, err := os.ReadFile(filepath.Join(dir, RemoteName(r3)))
	if err != nil || string(remote) != string(local) {
		t.Fatalf("remote copy %d bytes, local %d (%v)", len(remote), len(local), err)
	}
	if _, err := os.Stat(f.lib.Path(r3)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("local copy kept: %v", err)
	}
	if _, err := f.st.Recording(ctx, f.tenant.ID, r3.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("row kept: %v", err)
	}
	log, _ := f.st.RecordingAuditLog(ctx, f.tenant.ID, r3.ID)
	if len(log) != 2 || log[0].Action != ActionExported || log[1].Action != ActionDeleted {
		t.Fatalf("audit %+v", log)
	}
}

// TestExportServerDownThenBack: while the server is down the export
// fails, visibly, and waits its back-off; once the server is back the
// next due attempt exports everything.
func TestExportServerDownThenBack(t *testing.T) {
	srv := sshdtest.Start(t)
	f := newFixture(t)
	ctx := context.Background()
	dir := f.exportTo(t, srv, srv.HostKey, srv.ClientKey, true)
	srv.Stop()
	rs := []store.Recording{f.record(t, 800), f.record(t, 1600), f.record(t, 2400)}
	local := map[string][]byte{}
	for _, r := range rs {
		local[r.ID], _ = os.ReadFile(f.lib.Path(r))
	}
	e := f.exporter()
	for attempt := 1; attempt <= 3; attempt++ {
		if n, err := e.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("attempt %d with the server down: exported %d, %v", attempt, n, err)
		}
		for _, r := range rs {
			got := f.reload(t, r)
			if got.Export.State != store.ExportFailed || got.Export.Attempts != attempt || got.Export.Error == "" {
				t.Fatalf("attempt %d: export %+v", attempt, got.Export)
			}
			if want := f.clk.Now().Add(DefaultBackoff(attempt)); !got.Export.NextAt.Equal(want) {
				t.Fatalf("attempt %d: next at %v, want %v", attempt, got.Export.NextAt, want)
			}
			if _, err := os.Stat(f.lib.Path(r)); err != nil {
				t.Fatalf("local copy lost: %v", err)
			}
		}
		// Not due before its back-off.
		if n, _ := e.RunOnce(ctx); n != 0 {
			t.Fatal("retried before the back-off")
		}
		if got := f.reload(t, rs[0]); got.Export.Attempts != attempt {
			t.Fatalf("attempted before the back-off: %+v", got.Export)
		}
		f.clk.Set(f.clk.Now().Add(DefaultBackoff(attempt)))
	}
	if DefaultBackoff(1) != 30*time.Second || DefaultBackoff(3) != 2*time.Minute || DefaultBackoff(20) != time.Hour {
		t.Fatalf("back-off 30s, 2m, 1h expected: %v %v %v", DefaultBackoff(1), DefaultBackoff(3), DefaultBackoff(20))
	}
	srv.Start()
	if n, err := e.RunOnce(ctx); err != nil || n != 3 {
		t.Fatalf("server back: exported %d, %v\n%s", n, err, srv.Log())
	}
	for _, r := range rs {
		remote, err := os.ReadFile(filepath.Join(dir, RemoteName(r)))
		if err != nil || string(remote) != string(local[r.ID]) {
			t.Fatalf("%s: remote %d bytes, local was %d (%v)", r.ID, len(remote), len(local[r.ID]), err)
		}
	}
}

// TestExportChecksumMismatch: a file that no longer matches the checksum
// recorded when it was made (here: a byte changed on our disk) is not
// accepted as exported: the remote copy is removed, ours kept, the error
// shown.
func TestExportChecksumMismatch(t *testing.T) {
	srv := sshdtest.Start(t)
	f := newFixture(t)
	ctx := context.Background()
	dir := f.exportTo(t, srv, srv.HostKey, srv.ClientKey, true)
	r := f.record(t, 800)
	fh, err := os.OpenFile(f.lib.Path(r), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt([]byte{0x55}, 100); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	if n, err := f.exporter().RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("exported %d, %v", n, err)
	}
	got := f.reload(t, r)
	if got.Export.State != store.ExportFailed || !strings.Contains(got.Export.Error, "checksum mismatch") {
		t.Fatalf("export %+v", got.Export)
	}
	if _, err := os.Stat(f.lib.Path(r)); err != nil {
		t.Fatalf("local copy not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, RemoteName(r))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("bad remote copy left: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("remote directory holds %d files", len(ents))
	}
}

// TestExportWrongHostKey: a server whose key is not the pinned one is
// refused before anything is sent.
func TestExportWrongHostKey(t *testing.T) {
	srv := sshdtest.Start(t)
	f := newFixture(t)
	ctx := context.Background()
	other, _ := sshdtest.NewKey(t)
	dir := f.exportTo(t, srv, other, srv.ClientKey, true)
	r := f.record(t, 800)
	if n, err := f.exporter().RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("exported %d, %v", n, err)
	}
	got := f.reload(t, r)
	if got.Export.State != store.ExportFailed || !strings.Contains(got.Export.Error, "host key") {
		t.Fatalf("export %+v", got.Export)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("something reached the server: %v", err)
	}
	if _, err := os.Stat(f.lib.Path(r)); err != nil {
		t.Fatalf("local copy not kept: %v", err)
	}
}
