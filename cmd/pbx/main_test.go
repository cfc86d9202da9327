package main

import (
	"log/slog"
	"os"
	"testing"

	"pbx/internal/pgtest"
	"pbx/sip/sipserver"
)

func TestMain(m *testing.M) {
	// What sipgo logs on its own goes where the app's logs go in tests.
	level := slog.LevelWarn
	if os.Getenv("PBX_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	sipserver.RouteLibraryLogs(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("component", "sipgo"))
	os.Exit(pgtest.Main(m)) // stops the PostgreSQL a test may have started
}
