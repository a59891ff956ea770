package main

import (
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/config"
)

// newLogger builds the process logger: JSON in production, readable
// console lines in development.
func newLogger(w io.Writer, cfg config.Config) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel // config.Load already refused bad levels
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
