package cli

import (
	"context"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/app"
)

// RoutesOptions are routes' flags.
type RoutesOptions struct {
	App         *app.App
	Ctx         context.Context
	MetadataURL string
	Answers     string
}

// NewCmdRoutes prints the dynamic configuration of one snapshot.
func NewCmdRoutes(a *app.App, runF func(*RoutesOptions) error) *cobra.Command {
	o := &RoutesOptions{App: a}
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Print the dynamic configuration (TOML) for one Rancher snapshot; warnings go to stderr",
		Long: `routes prints, as the TOML it would publish, the routes of one snapshot: from
the source run reads (the Rancher API with TRAEFIK_RANCHER_MODE=api, or auto
with an endpoint and keys; else the metadata service at
TRAEFIK_RANCHER_METADATA_URL), from the metadata service at --metadata-url,
or replayed offline from an answers or stack file (--answers FILE, read at
the metadata version named in TRAEFIK_RANCHER_METADATA_URL). For debugging,
bug reports and golden tests.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Ctx = cmd.Context()
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Routes(o.Ctx, o.MetadataURL, o.Answers))
		},
	}
	snapshotFlags(cmd, &o.MetadataURL, &o.Answers)
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitConfig)
}

// ExplainOptions are explain's flags and argument.
type ExplainOptions struct {
	App         *app.App
	Ctx         context.Context
	MetadataURL string
	Answers     string
	Service     string // STACK/SERVICE or STACK; "" for all
}

// NewCmdExplain says, per service, whether it is published and why.
func NewCmdExplain(a *app.App, runF func(*ExplainOptions) error) *cobra.Command {
	o := &ExplainOptions{App: a}
	cmd := &cobra.Command{
		Use:   "explain [STACK/SERVICE | STACK]",
		Short: "Say, per service, whether it is published and why: containers, routers, services, middlewares, problems",
		Long: `explain reads one snapshot the way routes does (the source run uses —
the Rancher API with TRAEFIK_RANCHER_MODE=api —, or --metadata-url, or
--answers FILE) and prints, for every service or the one named, whether it
is published and why not (no traefik.enable, a constraint, a system stack,
label problems, a name taken by another service), each container's state
and health and whether it gets traffic, the routers (rule, priority, entry
points, TLS, middlewares), services (servers) and middlewares it produced,
and every problem reported for it. Middlewares show their option names,
never their values (basic-auth users and header values can be credentials).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			if len(args) == 1 {
				o.Service = args[0]
			}
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Explain(o.Ctx, o.MetadataURL, o.Answers, o.Service))
		},
	}
	snapshotFlags(cmd, &o.MetadataURL, &o.Answers)
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitConfig)
}

// snapshotFlags are the flags of the commands that read one snapshot
// (routes, explain).
func snapshotFlags(cmd *cobra.Command, metadataURL, answers *string) {
	cmd.Flags().StringVar(metadataURL, "metadata-url", "", "read this metadata service URL with its version (default: the source run uses, TRAEFIK_RANCHER_METADATA_URL or the API)")
	cmd.Flags().StringVar(answers, "answers", "", "replay an answers or stack file instead of asking a server")
	// One snapshot has one source: with both, which one was used would be a guess.
	cmd.MarkFlagsMutuallyExclusive("answers", "metadata-url")
}

// MetadataServerOptions are metadata-server's flags.
type MetadataServerOptions struct {
	App *app.App
	Ctx context.Context
	app.MetadataServer
}

// NewCmdMetadataServer serves an answers file as Rancher's metadata service.
func NewCmdMetadataServer(a *app.App, runF func(*MetadataServerOptions) error) *cobra.Command {
	o := &MetadataServerOptions{App: a}
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
			o.Ctx = cmd.Context()
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.ServeMetadata(o.Ctx, o.MetadataServer))
		},
	}
	cmd.Flags().StringVar(&o.Answers, "answers", "", "answers or stack file (YAML or JSON)")
	cmd.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:8090", "address to serve on")
	cmd.Flags().BoolVar(&o.XFF, "xff", false, "take the client address from X-Forwarded-For")
	cmd.Flags().StringVar(&o.APIKeys, "api-keys", "", "also serve the Rancher server API (/v1, /v2-beta, events) with this ACCESS:SECRET key")
	_ = cmd.MarkFlagRequired("answers")
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitConfig)
}
