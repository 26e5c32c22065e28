// Package devtools is the command line of rancher-traefik-dev: the tools the
// demo, the compose example and local tests use (a whoami backend,
// throw-away certificates), kept out of the shipped rancher-traefik binary.
package devtools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of rancher-traefik-dev.
const (
	ExitOK      = 0
	ExitFailure = 1  // a command failed (a port in use, a directory that cannot be written)
	ExitUsage   = 64 // bad command line
)

// failure marks an error a command returned, as opposed to cobra refusing
// the command line.
type failure struct{ err error }

func (f failure) Error() string { return f.err.Error() }
func (f failure) Unwrap() error { return f.err }

// fail wraps what a command returns; nil stays nil.
func fail(err error) error {
	if err == nil {
		return nil
	}
	return failure{err}
}

// Main runs the command line and returns the process exit code.
func Main() int {
	return Execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
}

// Execute runs args and returns the exit code: 0, ExitFailure when a
// command failed, ExitUsage when the command line is refused.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var f failure
	if !errors.As(err, &f) {
		code = ExitUsage
		defer fmt.Fprintf(stderr, "Run 'rancher-traefik-dev --help' for usage.\n")
	}
	fmt.Fprintf(stderr, "rancher-traefik-dev: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nrancher-traefik-dev: "))
	return code
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "rancher-traefik-dev",
		Short: "Development tools of rancher-traefik: a test backend and throw-away certificates",
		Long: `rancher-traefik-dev holds what the demo, the compose example and local tests
need beside rancher-traefik: a tiny HTTP backend and throw-away certificates.
It is not part of the product: rancher-traefik, the image's entrypoint, links
none of its code.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newWhoamiCmd(stderr), newDevCertCmd(stdout))
	root.SetHelpTemplate(root.HelpTemplate() + `
Exit codes:
    0  the command succeeded (whoami: stopped by SIGTERM/SIGINT)
    1  the command failed (a port in use, a directory that cannot be written)
   64  bad command line
`)
	return root
}
