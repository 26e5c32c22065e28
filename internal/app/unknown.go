package app

import (
	"log/slog"
	"strings"

	"rancher-traefik/internal/config"
)

// unknownVars are the TRAEFIK_* variables of the environment that
// rancher-traefik does not read. Only names are taken from the
// environment: a value may be a secret.
func (a *App) unknownVars() []config.Unknown {
	if a.Environ == nil {
		return nil
	}
	var names []string
	for _, kv := range a.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return config.UnknownVars(names)
}

// warnUnknown logs a warning for each variable rancher-traefik does not
// read: a misspelled name would otherwise change nothing, silently.
func (a *App) warnUnknown(log *slog.Logger) {
	for _, u := range a.unknownVars() {
		log.Warn("environment variable ignored", "variable", u.Name, "hint", u.Hint())
	}
}
