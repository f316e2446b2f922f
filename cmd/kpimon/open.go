package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/sqlite"
)

// openAssessment loads the config and opens the database, printing config warnings.
func openAssessment(ctx context.Context, configPath, dbPath string, stderr io.Writer) (*kpi.Assessment, *sqlite.DB, error) {
	a, err := kpi.LoadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range a.Warnings {
		fmt.Fprintf(stderr, "%s:%d: 提示：%s\n", configPath, w.Line, w.Message)
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, nil, err
	}
	return a, db, nil
}

// newLogger logs text to w at the level named.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level %q: use debug, info, warn or error", level)}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
