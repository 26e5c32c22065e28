package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/publish"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
)

// newPublisher wires the chosen source (API or metadata) to the routes
// file, or returns nil when discovery is off. The API source's event
// stream, when there is one, is returned to be run beside it.
func newPublisher(cfg *config.Config, log *slog.Logger) (*publish.Publisher, *rancher.API, error) {
	if cfg.RancherMode == "off" {
		log.Info("Rancher discovery is off (TRAEFIK_RANCHER_MODE=off): only files in the dynamic directory are served", "dir", cfg.DynamicDir())
		return nil, nil, nil
	}
	opts, err := routesOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	p := &publish.Publisher{
		Options:   opts,
		Path:      cfg.RancherFile(),
		Stage:     cfg.StagingDir(),
		Refresh:   cfg.RancherRefresh,
		Debounce:  cfg.RancherDebounce,
		Guard:     cfg.RancherGuard,
		GuardHold: cfg.RancherGuardHold,
		Log:       log,
	}
	src, api, _ := rancherSource(cfg, log)
	p.Source = src
	return p, api, nil
}

// Routes prints, as the TOML Run would publish, the routes of one
// snapshot (oneSnapshot), with the credentials that stay in it (those with
// no file form: redactConfig) shown as [redacted]. Warnings go to Stderr.
func (a *App) Routes(ctx context.Context, metadataURL, answers string) error {
	snap, opts, _, err := a.oneSnapshot(ctx, metadataURL, answers)
	if err != nil {
		return err
	}
	res := routes.Build(snap, opts)
	for _, w := range res.Warnings {
		fmt.Fprintln(a.Stderr, severityPrefix(w.Severity)+w.String())
	}
	cfg, n := redactConfig(res.Config)
	if n > 0 {
		fmt.Fprintf(a.Stderr, "note: %d values that are credentials (header values, Redis's username or password, plugin settings, a URL's user:password) print as %s; the published file holds them\n", n, redacted)
	}
	b, err := routes.Encode(cfg)
	if err != nil {
		return err
	}
	_, err = a.Stdout.Write(b)
	return err
}

// severityPrefix begins the line of a warning of severity sev (routes and
// explain print the same words).
func severityPrefix(sev routes.Severity) string {
	switch sev {
	case routes.Dropped:
		return "dropped: "
	case routes.Note:
		return "note: "
	}
	return "warning: "
}

// snapshotFromAnswers decodes the default tree of version in an answers file.
func snapshotFromAnswers(file, version string) (*rancher.Snapshot, error) {
	a, err := metadataserver.Load(file)
	if err != nil {
		return nil, err
	}
	tree, ok := a[version]["default"]
	if !ok {
		return nil, fmt.Errorf("%s has no default answers for metadata version %s", file, version)
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("encoding answers: %w", err)
	}
	return rancher.Decode(b)
}
