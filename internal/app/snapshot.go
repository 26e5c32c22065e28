package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"path"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/publish"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
)

// rancherSource is where run reads snapshots: the Rancher server API when
// the configuration asks for it (config.UseAPI), else the metadata
// service. The API is also returned, to run its event stream; why says
// which rule chose. It logs its choice.
func rancherSource(cfg *config.Config, log *slog.Logger) (publish.Source, *rancher.API, string) {
	useAPI, why := cfg.UseAPI()
	if useAPI {
		api := &rancher.API{Endpoint: cfg.RancherEndpoint, AccessKey: cfg.RancherAccessKey, Secret: cfg.RancherSecret, Log: log}
		log.Info("reading the Rancher server API", "endpoint", cfg.RancherEndpoint, "why", why)
		return api, api, why
	}
	log.Info("reading the Rancher metadata service", "url", cfg.RancherMetadataURL, "why", why)
	return &rancher.Client{Base: cfg.RancherMetadataURL}, nil, why
}

// oneSnapshot is the snapshot routes and explain work on, with the options
// run would build it with: replayed from an answers or stack file
// (answers, at the metadata version of TRAEFIK_RANCHER_METADATA_URL), read
// from the metadata service at metadataURL, or else read from the source
// run uses (rancherSource: the API with TRAEFIK_RANCHER_MODE=api).
// from names the source read, for explain's header.
func (a *App) oneSnapshot(ctx context.Context, metadataURL, answers string) (snap *rancher.Snapshot, opts routes.Options, from string, err error) {
	cfg, err := readConfig(a.Lookup)
	if err != nil {
		return nil, routes.Options{}, "", err
	}
	switch {
	case answers != "":
		from = "answers file " + answers
		snap, err = snapshotFromAnswers(answers, path.Base(cfg.RancherMetadataURL))
	case metadataURL != "":
		from = "metadata service " + redactURL(metadataURL)
		snap, err = (&rancher.Client{Base: metadataURL}).Snapshot(ctx)
	default:
		// Quiet (WARN): the choice goes to from, stdout is the command's.
		src, api, why := rancherSource(cfg, NewLogger(a.Stderr, "WARN", cfg.LogFormat))
		from = "metadata service " + redactURL(cfg.RancherMetadataURL) + " (" + why + ")"
		if api != nil {
			from = "Rancher API " + redactURL(cfg.RancherEndpoint) + " (" + why + ")"
		}
		snap, err = src.Snapshot(ctx)
	}
	if err != nil {
		return nil, routes.Options{}, from, err
	}
	opts, err = routesOptions(cfg)
	if err != nil {
		// Offline, say, where TRAEFIK_HOME cannot be written: the routes
		// print the same with credential files named by a key of this run.
		fmt.Fprintln(a.Stderr, "note: credential file names differ from run's: "+err.Error())
		opts.CredentialKey = secrets.New(rand.Text())
	}
	return snap, opts, from, nil
}

// redactURL is u without a user or password (an endpoint may carry keys).
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an unreadable URL)"
	}
	p.User = nil
	return p.String()
}
