package sipserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRouteLibraryLogsDemotesRefWarnings(t *testing.T) {
	var buf bytes.Buffer
	old := sip.DefaultLogger()
	t.Cleanup(func() { sip.SetDefaultLogger(old) })
	RouteLibraryLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "sipgo"))
	sip.DefaultLogger().Warn("UDP ref went negative on try close", "ref", -1)
	sip.DefaultLogger().Warn("connection failed", "error", "boom")
	sip.DefaultLogger().Debug("UDP reference decrement")
	out := buf.String()
	if strings.Contains(out, "ref went negative") || strings.Contains(out, "reference decrement") {
		t.Fatalf("demoted or debug lines shown at info level:\n%s", out)
	}
	if !strings.Contains(out, "connection failed") || !strings.Contains(out, "component=sipgo") {
		t.Fatalf("a real warning was lost:\n%s", out)
	}

	buf.Reset()
	RouteLibraryLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	sip.DefaultLogger().Warn("TCP ref went negative", "ref", -1)
	if !strings.Contains(out+buf.String(), "level=DEBUG msg=\"TCP ref went negative\"") {
		t.Fatalf("at debug level the demoted line should show as debug:\n%s", buf.String())
	}
}
