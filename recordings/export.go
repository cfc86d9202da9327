package recordings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"pbx/store"
)

// Exporter copies complete recordings to the SFTP servers of the tenants
// that ask for it. A copy counts only once the remote file has the
// recorded size and SHA-256; then, if the tenant asked, our copy is
// deleted (with an audit entry). A failure leaves the recording where it
// is, visible with its error, and retried with back-off: nothing is lost.
type Exporter struct {
	Library *Library
	// Backoff is the wait before attempt n+1 after n failures (default:
	// 30 s doubling up to an hour).
	Backoff func(failures int) time.Duration
	// DialTimeout bounds connecting and the SSH handshake (default 15 s).
	DialTimeout time.Duration
	Logger      *slog.Logger
}

// DefaultBackoff waits 30 s after the first failure, doubling up to an hour.
func DefaultBackoff(failures int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < failures && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (e *Exporter) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return e.Library.log()
}

// RunOnce exports the recordings that are due now, tenant by tenant over
// one connection each, and returns how many were exported.
func (e *Exporter) RunOnce(ctx context.Context) (int, error) {
	l := e.Library
	due, err := l.Store.DueExports(ctx, l.now(), 200)
	if err != nil {
		return 0, err
	}
	byTenant := map[string][]store.Recording{}
	var order []string
	for _, r := range due {
		if _, ok := byTenant[r.TenantID]; !ok {
			order = append(order, r.TenantID)
		}
		byTenant[r.TenantID] = append(byTenant[r.TenantID], r)
	}
	n := 0
	var errs []error
	for _, t := range order {
		k, err := e.exportTenant(ctx, t, byTenant[t])
		n += k
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

func (e *Exporter) exportTenant(ctx context.Context, tenantID string, rs []store.Recording) (int, error) {
	l := e.Library
	st, err := l.Store.RecordingSettings(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	if !st.Export.Enabled {
		// Export was turned off after these were queued: they stay here.
		for _, r := range rs {
			if err := l.Store.SetRecordingExport(ctx, r.ID, store.RecordingExport{State: store.ExportNone}); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	client, closeFn, err := e.connect(ctx, tenantID, st.Export)
	if err != nil {
		for _, r := range rs {
			if ferr := e.failed(ctx, r, err); ferr != nil {
				return 0, ferr
			}
		}
		return 0, nil
	}
	defer closeFn()
	n := 0
	for _, r := range rs {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if err := e.upload(client, st.Export.Dir, r); err != nil {
			if ferr := e.failed(ctx, r, err); ferr != nil {
				return n, ferr
			}
			continue
		}
		if err := e.exported(ctx, r, st.Export.DeleteLocal); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// connect opens an SFTP session on the tenant's server, whose host key
// must be the one pinned.
func (e *Exporter) connect(ctx context.Context, tenantID string, x store.ExportSettings) (*sftp.Client, func(), error) {
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(x.HostKey))
	if err != nil {
		return nil, nil, fmt.Errorf("pinned host key: %w", err)
	}
	sec, err := e.Library.Store.RecordingExportSecrets(ctx, tenantID)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	var auth []ssh.AuthMethod
	if sec.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(sec.PrivateKey))
		if err != nil {
			return nil, nil, fmt.Errorf("private key: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if sec.Password != "" {
		pw := sec.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			out := make([]string, len(qs))
			for i := range out {
				out[i] = pw
			}
			return out, nil
		}))
	}
	if len(auth) == 0 {
		return nil, nil, errors.New("no password or private key configured")
	}
	timeout := cmpOr(e.DialTimeout, 15*time.Second)
	cfg := &ssh.ClientConfig{User: x.Username, Auth: auth, HostKeyCallback: ssh.FixedHostKey(pinned), Timeout: timeout}
	addr := net.JoinHostPort(x.Host, strconv.Itoa(cmpOr(x.Port, 22)))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	// The handshake honours ctx too: a server that accepts and says
	// nothing must not hold the exporter.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(timeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	conn.SetDeadline(time.Time{})
	sc := ssh.NewClient(c, chans, reqs)
	client, err := sftp.NewClient(sc)
	if err != nil {
		sc.Close()
		return nil, nil, fmt.Errorf("sftp %s: %w", addr, err)
	}
	return client, func() { client.Close(); sc.Close() }, nil
}

// RemoteName is the name a recording gets on the customer's server: its
// start (UTC) first, so that a directory listing sorts by time.
func RemoteName(r store.Recording) string {
	return r.StartedAt.UTC().Format("20060102T150405Z") + "_" + r.ID + ".wav"
}

// upload copies a recording under a temporary name, renames it into
// place, and verifies the remote file's size and SHA-256 against those
// recorded when the recording was completed. A remote file that does not
// match is removed.
func (e *Exporter) upload(c *sftp.Client, dir string, r store.Recording) error {
	local, err := os.Open(e.Library.Path(r))
	if err != nil {
		return fmt.Errorf("local file: %w", err)
	}
	defer local.Close()
	if dir != "" {
		if err := c.MkdirAll(dir); err != nil {
			return fmt.Errorf("remote directory %s: %w", dir, err)
		}
	}
	final := path.Join(dir, RemoteName(r))
	tmp := final + ".part"
	rf, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("remote create %s: %w", tmp, err)
	}
	_, err = rf.ReadFrom(local)
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.Remove(tmp)
		return fmt.Errorf("remote write %s: %w", tmp, err)
	}
	if err := c.PosixRename(tmp, final); err != nil {
		c.Remove(tmp)
		return fmt.Errorf("remote rename %s: %w", final, err)
	}
	size, sum, err := remoteHash(c, final)
	if err == nil && (size != r.Size || sum != r.SHA256) {
		err = fmt.Errorf("checksum mismatch: remote %d bytes sha256 %s, recorded %d bytes sha256 %s", size, sum, r.Size, r.SHA256)
		c.Remove(final)
	}
	return err
}

// remoteHash reads a remote file back: SFTP has no checksum request that
// every server answers, so the copy is verified by reading it.
func remoteHash(c *sftp.Client, name string) (int64, string, error) {
	f, err := c.Open(name)
	if err != nil {
		return 0, "", fmt.Errorf("remote verify %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := f.WriteTo(h)
	if err != nil {
		return 0, "", fmt.Errorf("remote verify %s: %w", name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func (e *Exporter) failed(ctx context.Context, r store.Recording, cause error) error {
	l := e.Library
	n := r.Export.Attempts + 1
	backoff := e.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	x := store.RecordingExport{State: store.ExportFailed, Attempts: n, NextAt: l.now().Add(backoff(n)), Error: cause.Error()}
	e.log().Warn("recordings: export failed", "recording", r.ID, "tenant", r.TenantID, "attempts", n, "retry_at", x.NextAt, "error", cause)
	return l.Store.SetRecordingExport(ctx, r.ID, x)
}

func (e *Exporter) exported(ctx context.Context, r store.Recording, deleteLocal bool) error {
	l := e.Library
	now := l.now()
	if err := l.Store.SetRecordingExport(ctx, r.ID, store.RecordingExport{State: store.ExportDone, Attempts: r.Export.Attempts + 1, ExportedAt: now}); err != nil {
		return err
	}
	if err := l.Store.AuditRecording(ctx, store.RecordingAudit{TenantID: r.TenantID, RecordingID: r.ID, CallID: r.CallID,
		Action: ActionExported, Reason: "copied and verified: " + RemoteName(r), Actor: "system", At: now}); err != nil {
		return err
	}
	e.log().Info("recording exported", "recording", r.ID, "tenant", r.TenantID)
	if !deleteLocal {
		return nil
	}
	return l.remove(ctx, r, ActionDeleted, "exported and verified; the tenant keeps no copy here", "system")
}

// Run exports every interval until ctx ends.
func (e *Exporter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil {
			e.log().Error("recordings: export", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
