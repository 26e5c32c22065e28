package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/publish"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
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
	useAPI, why := cfg.UseAPI()
	if useAPI {
		api := &rancher.API{Endpoint: cfg.RancherEndpoint, AccessKey: cfg.RancherAccessKey, Secret: cfg.RancherSecret, Log: log}
		log.Info("reading the Rancher server API", "endpoint", cfg.RancherEndpoint, "why", why)
		p.Source = api
		return p, api, nil
	}
	log.Info("reading the Rancher metadata service", "url", cfg.RancherMetadataURL, "why", why)
	p.Source = &rancher.Client{Base: cfg.RancherMetadataURL}
	return p, nil, nil
}

// Routes prints, as the TOML Run would publish, the routes of one
// snapshot: replayed from an answers or stack file (answers, read at the
// metadata version of TRAEFIK_RANCHER_METADATA_URL), or read from the
// metadata service at metadataURL (default TRAEFIK_RANCHER_METADATA_URL).
// Warnings go to Stderr.
func (a *App) Routes(ctx context.Context, metadataURL, answers string) error {
	cfg, err := readConfig(a.Lookup)
	if err != nil {
		return err
	}
	var snap *rancher.Snapshot
	if answers != "" {
		snap, err = snapshotFromAnswers(answers, path.Base(cfg.RancherMetadataURL))
	} else {
		u := cfg.RancherMetadataURL
		if metadataURL != "" {
			u = metadataURL
		}
		snap, err = (&rancher.Client{Base: u}).Snapshot(ctx)
	}
	if err != nil {
		return err
	}
	opts, err := routesOptions(cfg)
	if err != nil {
		// Offline, say, where TRAEFIK_HOME cannot be written: the routes
		// print the same with credential files named by a key of this run.
		fmt.Fprintln(a.Stderr, "note: credential file names differ from run's: "+err.Error())
		opts.CredentialKey = secrets.New(rand.Text())
	}
	res := routes.Build(snap, opts)
	for _, w := range res.Warnings {
		fmt.Fprintln(a.Stderr, "warning: "+w.String())
	}
	b, err := routes.Encode(res.Config)
	if err != nil {
		return err
	}
	_, err = a.Stdout.Write(b)
	return err
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
