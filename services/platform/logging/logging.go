// Package logging sets up structured JSON logs on stderr, which Lambda ships
// to the function's log group. Error records carry the word ERROR, which the
// compute stack's metric filter counts.
package logging

import (
	"log/slog"
	"os"
)

// Init installs a JSON slog handler as the default logger and returns it.
func Init(service string) *slog.Logger {
	l := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", service)
	slog.SetDefault(l)
	return l
}
