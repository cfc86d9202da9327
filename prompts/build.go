package prompts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"pbx/media"
)

// Sources are where Build finds its material.
type Sources struct {
	// Asterisk is the directory of the Asterisk sounds of each language
	// (Debian: /usr/share/asterisk/sounds/en_US_f_Allison, .../fr_CA_f_June).
	Asterisk map[string]string
	// Espeak is the espeak-ng program (default: found on PATH).
	Espeak string
}

// DebianSources are the sources as Debian's packages install them.
func DebianSources() Sources {
	return Sources{Asterisk: map[string]string{
		"en": "/usr/share/asterisk/sounds/en_US_f_Allison",
		"fr": "/usr/share/asterisk/sounds/fr_CA_f_June",
	}}
}

// espeakVoices are the espeak-ng voices of our languages.
var espeakVoices = map[string]string{"en": "en-gb", "fr": "fr-be", "nl": "nl"}

// Build makes every prompt of texts.tsv as dir/<lang>/<id>.wav (8 kHz mono
// 16-bit). Each file is written under a temporary name and renamed, so a
// Library never sees half a prompt.
func Build(ctx context.Context, dir string, src Sources) (int, error) {
	texts, err := Texts()
	if err != nil {
		return 0, err
	}
	if src.Espeak == "" {
		if src.Espeak, err = exec.LookPath("espeak-ng"); err != nil {
			return 0, fmt.Errorf("prompts: espeak-ng not found (Debian package espeak-ng): %w", err)
		}
	}
	for _, t := range texts {
		clip, err := src.render(ctx, t)
		if err != nil {
			return 0, fmt.Errorf("prompts: %s (%s): %w", t.ID, t.Lang, err)
		}
		if err := writeClip(filepath.Join(dir, t.Lang, t.ID+".wav"), clip); err != nil {
			return 0, err
		}
	}
	return len(texts), nil
}

// render makes the sound of one text.
func (src Sources) render(ctx context.Context, t Text) (*media.Clip, error) {
	if text, ok := strings.CutPrefix(t.Source, "say:"); ok {
		cmd := exec.CommandContext(ctx, src.Espeak, "-v", espeakVoices[t.Lang], "-s", "150", "--stdout", text)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("espeak-ng: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
		return media.DecodeWAV(&out)
	}
	files := strings.TrimPrefix(t.Source, "asterisk:")
	base := src.Asterisk[t.Lang]
	if base == "" {
		return nil, fmt.Errorf("no Asterisk sounds directory for %s", t.Lang)
	}
	var samples []int16
	for _, f := range strings.Split(files, "+") {
		if strings.Contains(f, "..") {
			return nil, fmt.Errorf("bad file %q", f)
		}
		c, err := media.LoadClip(filepath.Join(base, f+".wav"))
		if err != nil {
			return nil, err
		}
		samples = append(samples, c.Samples()...)
	}
	return media.NewClip(samples), nil
}

func writeClip(path string, c *media.Clip) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".prompt-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	bw := bufio.NewWriter(tmp)
	err = c.WriteWAV(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}
