package recordings

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pbx/store"
)

// Purge removes the recordings whose expiry has come: the file, then the
// row with an audit entry, so that a purge cut short is finished by the
// next one; and the files of deleted tenants (their rows went with them).
// It returns how many were purged.
func (l *Library) Purge(ctx context.Context) (int, error) {
	n, err := l.purgeDeletedTenants(ctx)
	if err != nil {
		return n, err
	}
	for {
		now := l.now()
		rs, err := l.Store.ExpiredRecordings(ctx, now, 100)
		if err != nil || len(rs) == 0 {
			return n, err
		}
		for _, r := range rs {
			reason := fmt.Sprintf("retention: expired at %s", r.ExpiresAt.Format(time.RFC3339))
			if err := l.remove(ctx, r, ActionPurged, reason, "system"); err != nil {
				return n, err
			}
			n++
		}
	}
}

// purgeDeletedTenants removes the folders of tenants that no longer exist,
// each file with an audit entry.
func (l *Library) purgeDeletedTenants(ctx context.Context) (int, error) {
	dirs, err := os.ReadDir(l.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		tenantID := d.Name()
		if _, err := l.Store.Tenant(ctx, tenantID); !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return n, err
			}
			continue
		}
		dir := filepath.Join(l.Dir, tenantID)
		files, err := os.ReadDir(dir)
		if err != nil {
			return n, err
		}
		for _, f := range files {
			id := strings.TrimSuffix(f.Name(), ".wav")
			if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return n, err
			}
			if err := l.Store.AuditRecording(ctx, store.RecordingAudit{TenantID: tenantID, RecordingID: id, Action: ActionPurged,
				Reason: "tenant deleted", Actor: "system", At: l.now()}); err != nil {
				return n, err
			}
			n++
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		l.log().Info("recordings of a deleted tenant purged", "tenant", tenantID, "files", len(files))
	}
	return n, nil
}

// remove deletes a recording's file and then its row with an audit entry.
func (l *Library) remove(ctx context.Context, r store.Recording, action, reason, actor string) error {
	if err := os.Remove(l.Path(r)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("recordings: remove %s: %w", r.ID, err)
	}
	err := l.Store.RemoveRecording(ctx, r, store.RecordingAudit{Action: action, Reason: reason, Actor: actor, At: l.now()})
	if errors.Is(err, store.ErrNotFound) {
		return nil // removed meanwhile, with its own audit entry
	}
	if err == nil {
		l.log().Info("recording removed", "recording", r.ID, "tenant", r.TenantID, "action", action, "reason", reason)
	}
	return err
}
