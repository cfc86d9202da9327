package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pbx/media"
	"pbx/store"
)

// Hold music lives where the media engine's music classes read it: the
// tenant's default class is DataDir/moh/<tenant>/*.wav, a named class
// DataDir/moh/<tenant>/<class>/*.wav (hunt group queues and call flows
// name them). Classes see new files without a restart.

type musicJSON struct {
	ID         string `json:"id"`
	Class      string `json:"class" doc:"the music class; empty for the tenant's default class"`
	DurationMS int64  `json:"duration_ms"`
	Size       int64  `json:"size" doc:"bytes of the stored 8 kHz mono WAV"`
}

// musicDir is the folder of a tenant's class ("" = its default class).
func (s *server) musicDir(tenantID, class string) (string, error) {
	if s.dataDir == "" {
		return "", httpProblem(http.StatusServiceUnavailable, "music storage is not configured on this server")
	}
	// musicClassRE (the names hunt group queues accept) keeps a class one
	// path element.
	if !safeID.MatchString(tenantID) || class != "" && !musicClassRE.MatchString(class) {
		return "", fmt.Errorf("music path from %q, %q", tenantID, class)
	}
	return filepath.Join(s.dataDir, "moh", tenantID, class), nil
}

func (s *server) uploadMusic(c *call) error {
	class := strings.TrimSpace(c.r.URL.Query().Get("class"))
	if class != "" && !musicClassRE.MatchString(class) {
		return invalid("class", "must be 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
	}
	data, _, err := c.readUpload()
	if err != nil {
		return err
	}
	clip, err := decodeAudio(data)
	if err != nil {
		return invalid("file", "%v", err)
	}
	dir, err := s.musicDir(c.tenant.ID, class)
	if err != nil {
		return err
	}
	id := store.NewID("mus")
	size, err := writeAudioFile(filepath.Join(dir, id+".wav"), clip)
	if err != nil {
		return fmt.Errorf("store music %s: %w", id, err)
	}
	return c.created(v1+"/tenants/"+c.tenant.ID+"/music/"+id, musicJSON{ID: id, Class: class, DurationMS: clip.Duration().Milliseconds(), Size: size})
}

// tenantMusic lists a tenant's music files.
func (s *server) tenantMusic(tenantID string) ([]musicJSON, map[string]string, error) {
	root, err := s.musicDir(tenantID, "")
	if err != nil {
		return nil, nil, err
	}
	out := []musicJSON{}
	paths := map[string]string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".wav") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		id := strings.TrimSuffix(d.Name(), ".wav")
		class, _ := filepath.Rel(root, filepath.Dir(p))
		if class == "." {
			class = ""
		}
		var dur time.Duration
		if c, err := media.LoadClip(p); err == nil {
			dur = c.Duration()
		}
		var size int64
		if fi, err := d.Info(); err == nil {
			size = fi.Size()
		}
		out = append(out, musicJSON{ID: id, Class: class, DurationMS: dur.Milliseconds(), Size: size})
		paths[id] = p
		return nil
	})
	return out, paths, err
}

func (s *server) listMusic(c *call) error {
	out, _, err := s.tenantMusic(c.tenant.ID)
	if err != nil {
		return err
	}
	return c.reply(200, out)
}

func (s *server) deleteMusic(c *call) error {
	id := c.path("music")
	_, paths, err := s.tenantMusic(c.tenant.ID)
	if err != nil {
		return err
	}
	p, ok := paths[id]
	if !ok || !safeID.MatchString(id) {
		return notFound("music %q not found", id)
	}
	if err := os.Remove(p); err != nil {
		return err
	}
	return c.noContent()
}
