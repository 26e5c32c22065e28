package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/app"
)

// Each command is an options struct, filled from its flags, and a run
// function. NewCmdX takes an optional runF that replaces the run function,
// so tests check the flags without running anything (cli/cli's pattern).

// RunOptions are run's: it has no flags.
type RunOptions struct {
	App *app.App
	Ctx context.Context
}

// NewCmdRun prepares the configuration, then runs and supervises Traefik.
func NewCmdRun(a *app.App, runF func(*RunOptions) error) *cobra.Command {
	o := &RunOptions{App: a}
	return exitCodes(&cobra.Command{
		Use:   "run",
		Short: "Prepare the configuration, then run and supervise Traefik (the default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Ctx = cmd.Context()
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Run(o.Ctx))
		},
	})
}

// RenderOptions are render's flags.
type RenderOptions struct {
	App    *app.App
	Stdout bool
}

// NewCmdRender writes every file Traefik needs, or prints traefik.toml.
func NewCmdRender(a *app.App, runF func(*RenderOptions) error) *cobra.Command {
	o := &RenderOptions{App: a}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Prepare every file Traefik needs (certificates, traefik.toml, dynamic files) and exit",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Render(o.Stdout))
		},
	}
	cmd.Flags().BoolVar(&o.Stdout, "stdout", false, "print traefik.toml instead of writing files")
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitTLS, app.ExitConfig)
}

// CheckOptions are check's: it has no flags.
type CheckOptions struct{ App *app.App }

// NewCmdCheck validates the configuration and prints every problem.
func NewCmdCheck(a *app.App, runF func(*CheckOptions) error) *cobra.Command {
	o := &CheckOptions{App: a}
	return exitCodes(&cobra.Command{
		Use:   "check",
		Short: "Validate the environment, secrets, certificates and TRAEFIK_HOME; print every problem, one per line",
		Long: `check reads the environment as run would, and prints every problem, one per
line, naming the variable or file: invalid values, unusable secrets and
certificates, and directories under TRAEFIK_HOME that cannot be written
(tested with a probe file, removed at once). TRAEFIK_* variables that
rancher-traefik does not read are warned about, with the name meant.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Check())
		},
	}, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitTLS, app.ExitConfig)
}

// EnvOptions are env's flags.
type EnvOptions struct {
	App                 *app.App
	Markdown, Effective bool
}

// NewCmdEnv lists every variable, or the value in force of each.
func NewCmdEnv(a *app.App, runF func(*EnvOptions) error) *cobra.Command {
	o := &EnvOptions{App: a}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "List every environment variable with its default and meaning (--effective: the value in force)",
		Long: `env lists every variable rancher-traefik reads, with its default and meaning.
With --effective it shows instead the value in force for each and where it
comes from: default, environment, a file, or a Rancher secret. Secret values
print as [redacted]; a refused value says why.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.PrintEnv(o.Markdown, o.Effective))
		},
	}
	cmd.Flags().BoolVar(&o.Markdown, "markdown", false, "print a Markdown table (for the README)")
	cmd.Flags().BoolVar(&o.Effective, "effective", false, "print the value in force and its source (default, environment, file, Rancher secret); secrets as [redacted]")
	cmd.MarkFlagsMutuallyExclusive("markdown", "effective")
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage)
}

// HealthcheckOptions are healthcheck's flags.
type HealthcheckOptions struct {
	App     *app.App
	Ctx     context.Context
	Timeout time.Duration
	URL     string
}

// NewCmdHealthcheck asks Traefik's /ping, or another URL.
func NewCmdHealthcheck(a *app.App, runF func(*HealthcheckOptions) error) *cobra.Command {
	o := &HealthcheckOptions{App: a}
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when Traefik's /ping answers 200 on the admin port, else 1 with the reason",
		Long: `healthcheck asks Traefik's /ping on the admin entry point, for Docker's
HEALTHCHECK and Rancher's health check (no curl needed in the image). It reads
the same environment as run to find the port. With --url it asks that URL
instead: the health check of the image's other role (metadata-server) and
of the examples' whoami backends, which inherit the image's HEALTHCHECK.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Ctx = cmd.Context()
			if runF != nil {
				return ran(runF(o))
			}
			return ran(o.App.Healthcheck(o.Ctx, o.URL, o.Timeout))
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	cmd.Flags().StringVar(&o.URL, "url", "", "ask this http(s) URL for a 200 instead of Traefik's /ping (e.g. http://127.0.0.1:8090/latest/version for metadata-server)")
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage)
}
