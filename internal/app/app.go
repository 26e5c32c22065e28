// Package app is rancher-traefik's application, what the commands call:
// prepare the files, run and supervise Traefik, reload certificates, wire
// the publisher, follow Rancher's certificate store, keep the cluster ACME
// role, map errors to exit codes, and the diagnostics (check, env,
// healthcheck, routes).
package app

import (
	"errors"
	"io"
	"log/slog"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/secrets"
)

// App is what the application reads from the outside world; tests replace
// every part.
type App struct {
	// Lookup reads one environment variable (os.LookupEnv).
	Lookup func(string) (string, bool)
	// Environ lists the environment as NAME=value (os.Environ); only the
	// names are used, to find variables rancher-traefik does not read. Nil
	// means none.
	Environ func() []string
	Stdout  io.Writer
	Stderr  io.Writer
	// Version is rancher-traefik's version, stamped into traefik.toml.
	Version string
}

// LoadConfig reads the environment and makes the logger it asks for. On a
// configuration error the logger still works (at INFO, text).
func (a *App) LoadConfig() (*config.Config, *slog.Logger, error) {
	cfg, err := readConfig(a.Lookup)
	if err != nil {
		return cfg, NewLogger(a.Stderr, "INFO", "text"), Kind(a.configKind(cfg, err), err)
	}
	return cfg, NewLogger(a.Stderr, cfg.LogLevel, cfg.LogFormat), nil
}

// tlsSecrets are the variables of the main certificate pair.
var tlsSecrets = []string{"TRAEFIK_SSL_CERT", "TRAEFIK_SSL_PRIVATE_KEY"}

// configKind is the kind of a configuration error: ErrTLS when every
// problem is the certificate's or the key's secret that cannot be read
// (a missing or unreadable file, or VAR and VAR_FILE both set), ErrConfig
// otherwise (a pair with one half unset is a configuration mistake).
func (a *App) configKind(cfg *config.Config, err error) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return ErrConfig
	}
	res := secrets.Resolver{Dir: cfg.SecretsDir}
	unreadable := map[string]bool{}
	for _, name := range tlsSecrets {
		if _, _, err := res.Resolve(name, a.Lookup, false); err != nil {
			unreadable[name], unreadable[name+"_FILE"] = true, true
		}
	}
	for _, p := range ce.Problems {
		if !unreadable[p.Var] {
			return ErrConfig
		}
	}
	return ErrTLS
}

// NewLogger makes the process logger: text or JSON on w.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slogLevel(level)}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func slogLevel(l string) slog.Level {
	switch l {
	case "TRACE":
		return slog.LevelDebug - 4
	case "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL", "PANIC":
		return slog.LevelError
	}
	return slog.LevelInfo
}
