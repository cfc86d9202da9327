// Package prompts owns the system prompts: what the softswitch says to
// callers (voicemail menus, "the number you dialled is not in service",
// "your call is being recorded", digits and numbers for counts and queue
// positions) in French, Dutch and English. Their list is texts.tsv, kept
// in the repository; Build makes the sound files from it at install time,
// from Debian's freely licensed Asterisk recordings where one exists and
// with espeak-ng otherwise; a Library serves them to calls by language.
package prompts

import (
	"bufio"
	_ "embed"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"pbx/media"
)

// Languages the prompts exist in.
var Languages = []string{"en", "fr", "nl"}

// DefaultLanguage serves a language we have no prompts in.
const DefaultLanguage = "en"

//go:embed texts.tsv
var textsTSV string

// Text is one prompt in one language and where its sound comes from.
type Text struct {
	ID, Lang string
	// Source is "asterisk:<file>[+<file>...]" or "say:<text>".
	Source string
}

// Texts returns the list of texts.tsv.
func Texts() ([]Text, error) {
	var out []Text
	sc := bufio.NewScanner(strings.NewReader(textsTSV))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[0] == "" || !slices.Contains(Languages, f[1]) ||
			!strings.HasPrefix(f[2], "asterisk:") && !strings.HasPrefix(f[2], "say:") {
			return nil, fmt.Errorf("prompts: texts.tsv line %d: want id, language (en, fr, nl), asterisk:... or say:...", n)
		}
		out = append(out, Text{ID: f[0], Lang: f[1], Source: f[2]})
	}
	return out, sc.Err()
}

// Library serves the built prompts of a directory (<dir>/<lang>/<id>.wav),
// loading each once.
type Library struct {
	Dir string

	mu    sync.Mutex
	clips map[string]*media.Clip // by lang/id; nil: missing
}

// Prompt returns a new source playing prompt id in lang (the default
// language when lang has no prompts); nil when the prompt is missing.
func (l *Library) Prompt(lang, id string) media.Source {
	if !slices.Contains(Languages, lang) {
		lang = DefaultLanguage
	}
	if strings.ContainsAny(id, `/\`) || id == "" {
		return nil
	}
	key := lang + "/" + id
	l.mu.Lock()
	defer l.mu.Unlock()
	c, seen := l.clips[key]
	if !seen {
		c, _ = media.LoadClip(filepath.Join(l.Dir, lang, id+".wav"))
		if l.clips == nil {
			l.clips = map[string]*media.Clip{}
		}
		l.clips[key] = c
	}
	if c == nil {
		return nil
	}
	return c.Source()
}
