// Package cli is rancher-traefik's command line: the cobra commands, the
// wiring between the other packages, and the one place errors become exit
// codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/supervisor"
)

// version is stamped at build time: -ldflags "-X rancher-traefik/internal/cli.version=v1.2.3".
var version = "dev"

// Exit codes of rancher-traefik's own failures. Traefik's own exit code (or
// 128+signal) is passed through otherwise.
const (
	ExitOK           = 0
	ExitUsage        = 64  // bad command line
	ExitTLS          = 65  // a secret, certificate or key is unusable
	ExitCrashLoop    = 75  // Traefik kept failing: more than TRAEFIK_RESTART_MAX restarts
	ExitConfig       = 78  // an environment variable is invalid, or files cannot be written
	ExitNotStartable = 126 // the Traefik binary exists but cannot be executed
	ExitNotFound     = 127 // the Traefik binary is not found
)

// ExitCodes documents the codes above, in order, for the README and --help.
var ExitCodes = []struct {
	Code int
	Doc  string
}{
	{ExitOK, "Traefik stopped cleanly (after SIGTERM/SIGINT), or a command succeeded"},
	{1, "a command failed in another way (also Traefik's own failure code)"},
	{ExitUsage, "bad command line"},
	{ExitTLS, "a secret, certificate or key is unusable (missing file, bad PEM, key does not match, encrypted key)"},
	{ExitCrashLoop, "Traefik kept failing: more than TRAEFIK_RESTART_MAX restarts inside the backoff window"},
	{ExitConfig, "an environment variable is invalid, or the files under TRAEFIK_HOME cannot be written"},
	{ExitNotStartable, "TRAEFIK_BINARY exists but cannot be executed"},
	{ExitNotFound, "TRAEFIK_BINARY is not found"},
	{128 + 9, "Traefik was killed by SIGKILL (e.g. it ignored SIGTERM past its grace); in general 128+signal"},
	{128 + 15, "Traefik was ended by SIGTERM without handling it"},
}

// exitError carries the exit code a failure ends the process with. A nil
// err means the cause was already reported (or the code is Traefik's own).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitWith attaches code to err.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// fail is how every command returns an error: it attaches the exit code that
// the error's class maps to. This is the only mapping from errors to codes.
func fail(err error) error {
	var ee *exitError
	var ce *config.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case errors.As(err, &ce):
		return exitWith(ExitConfig, err)
	case errors.Is(err, supervisor.ErrNotFound):
		return exitWith(ExitNotFound, err)
	case errors.Is(err, supervisor.ErrNotStartable):
		return exitWith(ExitNotStartable, err)
	case errors.Is(err, supervisor.ErrCrashLoop):
		return exitWith(ExitCrashLoop, err)
	}
	return exitWith(1, err)
}

// env is what commands read from the outside world; tests replace it.
type env struct {
	lookup func(string) (string, bool)
	// environ lists the environment as NAME=value (os.Environ); only the
	// names are used, to find variables rancher-traefik does not read. Nil
	// means none.
	environ func() []string
	stdout  io.Writer
	stderr  io.Writer
}

// Main runs the command line and returns the process exit code.
func Main() int {
	return Execute(context.Background(), os.Args[1:], env{lookup: os.LookupEnv, environ: os.Environ, stdout: os.Stdout, stderr: os.Stderr})
}

// Execute runs args and returns the exit code. Errors our commands return
// carry their code (see fail); anything else is cobra refusing the command
// line, a usage error.
func Execute(ctx context.Context, args []string, e env) int {
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: ExitUsage, err: err}
		defer fmt.Fprintf(e.stderr, "Run 'rancher-traefik --help' for usage.\n")
	}
	if ee.err != nil {
		fmt.Fprintf(e.stderr, "rancher-traefik: %s\n", strings.ReplaceAll(ee.err.Error(), "\n", "\nrancher-traefik: "))
	}
	return ee.code
}

func newRoot(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "rancher-traefik",
		Short: "Publish Rancher 1.x services through Traefik v3",
		Long: `rancher-traefik prepares Traefik v3's configuration from its environment and
Rancher secrets, starts Traefik as its child and supervises it.

With no command it runs (the image's entrypoint). Every variable it reads is
listed by "rancher-traefik env".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return runRun(cmd.Context(), e) },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newRunCmd(e),
		newRenderCmd(e),
		newCheckCmd(e),
		newEnvCmd(e),
		newVersionCmd(e),
		newHealthcheckCmd(e),
		newRoutesCmd(e),
		newMetadataServerCmd(e),
	)
	root.SetHelpTemplate(root.HelpTemplate() + exitCodesHelp())
	return root
}

func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, c := range ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.Doc)
	}
	return b.String()
}

func versionString() string {
	return fmt.Sprintf("rancher-traefik %s (%s %s/%s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(e.stdout, versionString()) },
	}
}

// newLogger makes the process logger: text or JSON on stderr.
func newLogger(w io.Writer, level, format string) *slog.Logger {
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
