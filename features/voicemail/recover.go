package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Recover makes messages of what a crash left behind: recordings still
// under their temporary name (the recorder kept their header valid as it
// went, so they play up to the last write) and complete files not yet in
// the store. It runs at start-up, before calls are taken; it returns how
// many messages it made.
func (s *Service) Recover(ctx context.Context) (int, error) {
	metas, err := filepath.Glob(filepath.Join(s.Dir, "*", "*", ".rec-*.json"))
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, meta := range metas {
		dir := filepath.Dir(meta)
		b, err := os.ReadFile(meta)
		var p pending
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		tenant, box := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(meta), ".rec-"), ".json")
		if err != nil || p.ID != id || p.TenantID != tenant || p.BoxID != box || !safeID.MatchString(id) {
			s.log().Warn("voicemail: unreadable pending message left as it is", "path", meta, "error", err)
			continue
		}
		_, tmpErr := os.Stat(filepath.Join(dir, ".rec-"+id+".wav"))
		_, finalErr := os.Stat(filepath.Join(dir, id+".wav"))
		if tmpErr != nil && finalErr != nil {
			os.Remove(meta) // nothing was recorded
			continue
		}
		before, _, _ := s.Store.VoicemailCounts(ctx, tenant, box)
		if err := s.finish(ctx, dir, p); err != nil {
			errs = append(errs, err)
			continue
		}
		if after, _, _ := s.Store.VoicemailCounts(ctx, tenant, box); after > before {
			n++
			s.log().Info("voicemail: message recovered", "box", box, "message", id)
		}
	}
	return n, errors.Join(errs...)
}
