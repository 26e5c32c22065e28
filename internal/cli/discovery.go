package cli

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/filewatch"
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

func newRoutesCmd(e env) *cobra.Command {
	var metadataURL, answers string
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Print the dynamic configuration (TOML) for one Rancher snapshot; warnings go to stderr",
		Long: `routes prints, as the TOML it would publish, the routes of one snapshot: from
the metadata service (--metadata-url, default TRAEFIK_RANCHER_METADATA_URL) or
replayed offline from an answers or stack file (--answers FILE, read at the
metadata version named in TRAEFIK_RANCHER_METADATA_URL). For debugging, bug
reports and golden tests.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := readConfig(e.lookup)
			if err != nil {
				return fail(err)
			}
			var snap *rancher.Snapshot
			if answers != "" {
				snap, err = snapshotFromAnswers(answers, path.Base(cfg.RancherMetadataURL))
			} else {
				u := cfg.RancherMetadataURL
				if metadataURL != "" {
					u = metadataURL
				}
				snap, err = (&rancher.Client{Base: u}).Snapshot(cmd.Context())
			}
			if err != nil {
				return fail(err)
			}
			opts, err := routesOptions(cfg)
			if err != nil {
				// Offline, say, where TRAEFIK_HOME cannot be written: the
				// routes print the same with credential files named by a
				// key of this run.
				fmt.Fprintln(e.stderr, "note: credential file names differ from run's: "+err.Error())
				opts.CredentialKey = secrets.New(rand.Text())
			}
			res := routes.Build(snap, opts)
			for _, w := range res.Warnings {
				fmt.Fprintln(e.stderr, "warning: "+w.String())
			}
			b, err := routes.Encode(res.Config)
			if err != nil {
				return fail(err)
			}
			_, err = e.stdout.Write(b)
			return fail(err)
		},
	}
	cmd.Flags().StringVar(&metadataURL, "metadata-url", "", "metadata service URL with its version (default TRAEFIK_RANCHER_METADATA_URL)")
	cmd.Flags().StringVar(&answers, "answers", "", "replay an answers or stack file instead of asking a server")
	// One snapshot has one source: with both, which one was used would be a guess.
	cmd.MarkFlagsMutuallyExclusive("answers", "metadata-url")
	return cmd
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

func newMetadataServerCmd(e env) *cobra.Command {
	var answers, listen, apiKeys string
	var xff bool
	cmd := &cobra.Command{
		Use:   "metadata-server",
		Short: "Serve an answers or stack file the way Rancher's metadata service does (for local testing)",
		Long: `metadata-server emulates rancher-metadata: versions and latest, addressing by
index, name or uuid, JSON/YAML/text answers, self by client IP, long-poll on
any path. It reloads --answers when the file changes or on SIGHUP, and bumps
the version. A file with a top-level "stacks" key is a compact stack file
(stacks → services with labels → containers with ip, state, health_state).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(e.stderr, "INFO", "text")
			a, err := metadataserver.Load(answers)
			if err != nil {
				return exitWith(ExitConfig, fmt.Errorf("--answers: %w", err))
			}
			srv := metadataserver.New(a, log)
			srv.XFF = xff
			if apiKeys != "" {
				access, secret, ok := strings.Cut(apiKeys, ":")
				if !ok || access == "" || secret == "" {
					return exitWith(ExitUsage, fmt.Errorf("--api-keys: want ACCESS:SECRET"))
				}
				srv.API = &metadataserver.APIKeys{Access: access, Secret: secret}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			reload := func() error {
				a, err := metadataserver.Load(answers)
				if err != nil {
					return err
				}
				srv.Set(a)
				return nil
			}
			// Primed now: an edit made while the server starts counts.
			w := &filewatch.Watcher{Files: []string{answers}, Reload: reload, Log: log, Settle: 50 * time.Millisecond, Poll: 2 * time.Second,
				Rejected: "the new answers file is invalid; still serving the previous one"}
			w.Prime()
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return srv.ListenAndServe(gctx, listen) })
			g.Go(func() error { return w.Run(gctx) })
			g.Go(func() error {
				hup := make(chan os.Signal, 1)
				signal.Notify(hup, syscall.SIGHUP)
				defer signal.Stop(hup)
				for {
					select {
					case <-gctx.Done():
						return nil
					case <-hup:
						if err := reload(); err != nil {
							log.Error("reload on SIGHUP failed; still serving the previous answers", "err", err)
						}
					}
				}
			})
			if err := g.Wait(); err != nil {
				return fail(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&answers, "answers", "", "answers or stack file (YAML or JSON)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address to serve on")
	cmd.Flags().BoolVar(&xff, "xff", false, "take the client address from X-Forwarded-For")
	cmd.Flags().StringVar(&apiKeys, "api-keys", "", "also serve the Rancher server API (/v1, /v2-beta, events) with this ACCESS:SECRET key")
	_ = cmd.MarkFlagRequired("answers")
	return cmd
}
