package sipserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRouteLibraryLogsDemotesRefWarnings(t *testing.T) {
	// The logger RouteLibraryLogs installs, tested without installing it:
	// sipgo goroutines of the package's other tests may still read the
	// process-wide one.
	var buf bytes.Buffer
	lib := libraryLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "sipgo"))
	lib.Warn("UDP ref went negative on try close", "ref", -1)
	lib.Warn("connection failed", "error", "boom")
	lib.Debug("UDP reference decrement")
	out := buf.String()
	if strings.Contains(out, "ref went negative") || strings.Contains(out, "reference decrement") {
		t.Fatalf("demoted or debug lines shown at info level:\n%s", out)
	}
	if !strings.Contains(out, "connection failed") || !strings.Contains(out, "component=sipgo") {
		t.Fatalf("a real warning was lost:\n%s", out)
	}

	buf.Reset()
	lib = libraryLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	lib.Warn("TCP ref went negative", "ref", -1)
	if !strings.Contains(out+buf.String(), "level=DEBUG msg=\"TCP ref went negative\"") {
		t.Fatalf("at debug level the demoted line should show as debug:\n%s", buf.String())
	}
}
