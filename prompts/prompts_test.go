package prompts

import (
	"context"
	"testing"
	"time"
)

// TestEveryPromptInEveryLanguage: texts.tsv says each prompt once in each
// language.
func TestEveryPromptInEveryLanguage(t *testing.T) {
	texts, err := Texts()
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]map[string]int{}
	for _, x := range texts {
		if langs[x.ID] == nil {
			langs[x.ID] = map[string]int{}
		}
		langs[x.ID][x.Lang]++
	}
	if len(langs) < 100 {
		t.Fatalf("only %d prompts", len(langs))
	}
	for id, by := range langs {
		for _, l := range Languages {
			if by[l] != 1 {
				t.Errorf("prompt %s: %d texts in %s, want 1", id, by[l], l)
			}
		}
	}
}

// TestBuild makes every prompt from the real sources (Debian's Asterisk
// recordings and espeak-ng, installed by interop/install-tools.sh) and
// serves them: each one plays, in each language.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := Build(ctx, dir, DebianSources())
	if err != nil {
		t.Fatalf("%v (install the sources with interop/install-tools.sh)", err)
	}
	texts, _ := Texts()
	if n != len(texts) {
		t.Fatalf("built %d of %d", n, len(texts))
	}
	lib := &Library{Dir: dir}
	frame := make([]int16, 160)
	for _, x := range texts {
		src := lib.Prompt(x.Lang, x.ID)
		if src == nil {
			t.Fatalf("%s/%s missing", x.Lang, x.ID)
		}
		frames, loud := 0, false
		for src.ReadFrame(frame) == nil {
			frames++
			for _, s := range frame {
				loud = loud || s > 1000 || s < -1000
			}
		}
		if frames < 10 || !loud {
			t.Errorf("%s/%s: %d frames, audible %v", x.Lang, x.ID, frames, loud)
		}
	}
	// A language we have no prompts in gets the default one; an unknown
	// prompt is nil.
	if lib.Prompt("de", "vm-goodbye") == nil || lib.Prompt("nl", "no-such-prompt") != nil || lib.Prompt("nl", "../x") != nil {
		t.Fatal("fallbacks wrong")
	}
}
