package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger logs to w at the level named, as text (key=value, for a terminal) or JSON (one
// object a line, for a log collector or the journal).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{msg: fmt.Sprintf("--log-level %q 无效：可选 debug、info、warn、error", level)}
	}
	opt := &slog.HandlerOptions{Level: l}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opt)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opt)), nil
	}
	return nil, usageError{msg: fmt.Sprintf("--log-format %q 无效：可选 text、json", format)}
}
