package features

import (
	"os"
	"path/filepath"
	"testing"

	"pbx/media"
)

func TestHoldMusicNamedClasses(t *testing.T) {
	eng, err := media.NewEngine(media.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "t1", "jazz"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &HoldMusic{Engine: eng, TenantDir: dir}
	c := h.Named("t1", "jazz")
	if c == nil || c.Name() != "tenant:t1:jazz" || h.Named("t1", "jazz") != c {
		t.Fatalf("class %v", c)
	}
	for _, tc := range [][2]string{{"t1", "rock"}, {"t2", "jazz"}, {"t1", ".."}, {"..", "t1"}, {"t1", ""}, {"t1", "jazz/x"}} {
		if c := h.Named(tc[0], tc[1]); c != nil {
			t.Errorf("Named(%q, %q) = %s", tc[0], tc[1], c.Name())
		}
	}
	if (&HoldMusic{Engine: eng}).Named("t1", "jazz") != nil {
		t.Error("a class without a tenant folder")
	}
}
