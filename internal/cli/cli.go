// Package cli is rancher-traefik's command line: the cobra commands, each an
// options struct and a run function calling into app.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/app"
)

// version is stamped at build time: -ldflags "-X rancher-traefik/internal/cli.version=v1.2.3".
var version = "dev"

// Main runs the command line and returns the process exit code.
func Main() int {
	a := &app.App{Lookup: os.LookupEnv, Environ: os.Environ, Stdout: os.Stdout, Stderr: os.Stderr, Version: version}
	return Execute(context.Background(), os.Args[1:], a)
}

// ranError is an error a command's run function returned, as opposed to
// cobra refusing the command line.
type ranError struct{ error }

func (e ranError) Unwrap() error { return e.error }

// ran marks err as a command's own.
func ran(err error) error {
	if err == nil {
		return nil
	}
	return ranError{err}
}

// Execute runs args and returns the exit code: app.ExitCode of the error,
// where anything but a command's own error is cobra refusing the command
// line, a usage error.
func Execute(ctx context.Context, args []string, a *app.App) int {
	root := NewCmdRoot(a)
	root.SetArgs(args)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.As(err, new(ranError)) {
		err = app.Kind(app.ErrUsage, err)
		defer fmt.Fprintf(a.Stderr, "Run 'rancher-traefik --help' for usage.\n")
	}
	if err != nil && !app.Silent(err) {
		fmt.Fprintf(a.Stderr, "rancher-traefik: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nrancher-traefik: "))
	}
	return app.ExitCode(err)
}

// NewCmdRoot is rancher-traefik with every command; with none, it runs.
func NewCmdRoot(a *app.App) *cobra.Command {
	root := NewCmdRun(a, nil)
	root.Use = "rancher-traefik"
	root.Short = "Publish Rancher 1.x services through Traefik v3"
	root.Long = `rancher-traefik prepares Traefik v3's configuration from its environment and
Rancher secrets, starts Traefik as its child and supervises it.

With no command it runs (the image's entrypoint). Every variable it reads is
listed by "rancher-traefik env".`
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.Version = versionString(a.Version)
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		NewCmdRun(a, nil),
		NewCmdRender(a, nil),
		NewCmdCheck(a, nil),
		NewCmdEnv(a, nil),
		NewCmdVersion(a),
		NewCmdHealthcheck(a, nil),
		NewCmdRoutes(a, nil),
		NewCmdExplain(a, nil),
		NewCmdMetadataServer(a, nil),
	)
	return root
}

// exitCodes ends cmd's help with the exit codes it can return (all of them
// when none are named).
func exitCodes(cmd *cobra.Command, codes ...int) *cobra.Command {
	cmd.SetHelpTemplate(cmd.HelpTemplate() + app.CodesHelp(codes...))
	return cmd
}

func versionString(v string) string {
	return fmt.Sprintf("rancher-traefik %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// NewCmdVersion prints the version.
func NewCmdVersion(a *app.App) *cobra.Command {
	return exitCodes(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(a.Stdout, versionString(a.Version)) },
	}, app.ExitOK, app.ExitUsage)
}
