package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// temporalLogger routes the embedded server's logs into our slog handler so
// one level flag controls everything a dev stack prints. The server is
// chatty at info level; the default dev level keeps warnings and errors.
//
// Once shutdown begins the logger goes quiet: services stopping one after
// another log errors about peers that are already gone, which tell a user
// pressing Ctrl-C nothing.
type temporalLogger struct {
	logger   *slog.Logger
	stopping *atomic.Bool
}

var _ log.Logger = temporalLogger{}
var _ log.WithLogger = temporalLogger{}

func (l temporalLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if l.stopping.Load() || !l.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), tagValue(t.Value())))
	}
	l.logger.LogAttrs(ctx, level, msg, attrs...)
}

// tagValue turns error values into their text: slog's JSON and text handlers
// print an error's Error() only when it is the direct value.
func tagValue(v any) any {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return v
}

func (l temporalLogger) Debug(msg string, tags ...tag.Tag) { l.log(slog.LevelDebug, msg, tags) }
func (l temporalLogger) Info(msg string, tags ...tag.Tag)  { l.log(slog.LevelInfo, msg, tags) }
func (l temporalLogger) Warn(msg string, tags ...tag.Tag)  { l.log(slog.LevelWarn, msg, tags) }
func (l temporalLogger) Error(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal keep the server's contract: its callers rely on
// Panic and Fatal not returning.
func (l temporalLogger) DPanic(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }
func (l temporalLogger) Panic(msg string, tags ...tag.Tag) {
	l.log(slog.LevelError, msg, tags)
	panic(msg)
}
func (l temporalLogger) Fatal(msg string, tags ...tag.Tag) {
	l.log(slog.LevelError, msg, tags)
	panic(serverFatal(msg))
}

// serverFatal is the server's Fatal as a panic value startTemporal can
// tell from any other panic and turn into an error.
type serverFatal string

func (f serverFatal) Error() string { return "temporal server fatal: " + string(f) }

func (l temporalLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, 0, 2*len(tags))
	for _, t := range tags {
		args = append(args, t.Key(), tagValue(t.Value()))
	}
	return temporalLogger{logger: l.logger.With(args...), stopping: l.stopping}
}
