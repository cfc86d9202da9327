package voicemail

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"pbx/media"
	"pbx/prompts"
	"pbx/store"
)

// TestPromptsExist: every system prompt this package says is in the list
// the prompts are built from, in every language.
func TestPromptsExist(t *testing.T) {
	texts, err := prompts.Texts()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, x := range texts {
		have[x.Lang+"/"+x.ID] = true
	}
	files, _ := filepath.Glob("*.go")
	used := regexp.MustCompile(`"(vm-[a-z-]+)"`)
	ids := []string{"digit-0", "digit-9", "num-0", "num-99"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllSubmatch(b, -1) {
			ids = append(ids, string(m[1]))
		}
	}
	if len(ids) < 25 {
		t.Fatalf("found only %d prompt ids in the code", len(ids))
	}
	for _, id := range ids {
		for _, l := range prompts.Languages {
			if !have[l+"/"+id] {
				t.Errorf("prompt %s missing in %s", id, l)
			}
		}
	}
}

// namedPrompts is a Prompts that remembers what was asked, in which
// language.
type namedPrompts struct{ asked []string }

func (p *namedPrompts) Prompt(lang, id string) media.Source {
	p.asked = append(p.asked, lang+"/"+id)
	return media.Silence(0)
}

// TestDefaultGreeting: with no greeting of its own a box says, in the
// user's language, who is unavailable (the extension digit by digit) or
// busy; an uploaded greeting replaces it; a temporary one overrides both.
func TestDefaultGreeting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := &namedPrompts{}
	f.svc.Prompts = p
	f.user.Language = "fr"
	if err := f.st.UpdateUser(ctx, f.user); err != nil {
		t.Fatal(err)
	}
	box, _ := f.svc.Box(ctx, f.tenant.ID, f.user.ID)
	lang, _ := f.st.VoicemailLanguage(ctx, box)
	f.svc.greeting(ctx, box, ReasonNoAnswer, lang)
	want := []string{"fr/vm-person", "fr/digit-2", "fr/digit-0", "fr/digit-1", "fr/vm-unavailable", "fr/vm-leave-message"}
	if !slices.Equal(p.asked, want) {
		t.Fatalf("asked %v, want %v", p.asked, want)
	}
	p.asked = nil
	f.svc.greeting(ctx, box, ReasonBusy, lang)
	if p.asked[len(p.asked)-2] != "fr/vm-busy" {
		t.Fatalf("busy: %v", p.asked)
	}
	busy := media.NewClip(make([]int16, 8000))
	if err := f.svc.SetGreeting(ctx, box, store.GreetingBusy, busy); err != nil {
		t.Fatal(err)
	}
	p.asked = nil
	if got := f.svc.greeting(ctx, box, ReasonBusy, lang); len(got) != 1 || len(p.asked) != 0 {
		t.Fatalf("uploaded busy greeting: %d sources, prompts %v", len(got), p.asked)
	}
	if got := f.svc.greeting(ctx, box, ReasonNoAnswer, lang); len(p.asked) == 0 || len(got) < 2 {
		t.Fatalf("unavailable still the default: %d sources, prompts %v", len(got), p.asked)
	}
	if err := f.svc.SetGreeting(ctx, box, store.GreetingTemporary, media.NewClip(make([]int16, 4000))); err != nil {
		t.Fatal(err)
	}
	p.asked = nil
	got := f.svc.greeting(ctx, box, ReasonNoAnswer, lang)
	if len(got) != 1 || len(p.asked) != 0 {
		t.Fatalf("temporary greeting: %d sources, prompts %v", len(got), p.asked)
	}
	if c, ok := got[0].(*media.ClipSource); !ok || c == nil {
		t.Fatalf("temporary greeting source %T", got[0])
	}
}
