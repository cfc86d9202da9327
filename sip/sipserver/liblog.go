package sipserver

import (
	"context"
	"log/slog"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// RouteLibraryLogs sends what sipgo's transport layer logs on its own (it
// uses a process-wide logger, not the one given to the user agent) to l.
// Call it once, before any user agent exists.
//
// sipgo warns "ref went negative" when a connection it already released is
// released again as a user agent closes; the connection is closed either way,
// so those lines are demoted to debug instead of filling the log.
func RouteLibraryLogs(l *slog.Logger) {
	sip.SetDefaultLogger(libraryLogger(l))
}

// libraryLogger is the logger RouteLibraryLogs gives sipgo.
func libraryLogger(l *slog.Logger) *slog.Logger { return slog.New(demoteHandler{l.Handler()}) }

type demoteHandler struct{ slog.Handler }

func (h demoteHandler) Enabled(ctx context.Context, level slog.Level) bool {
	// Warnings may be demoted: decide on the record.
	if level == slog.LevelWarn {
		return h.Handler.Enabled(ctx, slog.LevelDebug) || h.Handler.Enabled(ctx, level)
	}
	return h.Handler.Enabled(ctx, level)
}

func (h demoteHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && strings.Contains(r.Message, "ref went negative") {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h demoteHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return demoteHandler{h.Handler.WithAttrs(attrs)}
}

func (h demoteHandler) WithGroup(name string) slog.Handler {
	return demoteHandler{h.Handler.WithGroup(name)}
}
