package app

import (
	"errors"
	"fmt"
	"strings"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/supervisor"
)

// Kinds of failure. An error carries its kind by wrapping one of these
// (Kind), or one of supervisor's (ErrNotFound, ErrNotStartable,
// ErrCrashLoop); a *config.Error is of kind ErrConfig. ExitCode maps kinds
// to exit codes.
var (
	ErrUsage     = errors.New("bad command line")
	ErrTLS       = errors.New("certificate or key unusable")
	ErrConfig    = errors.New("invalid configuration")
	ErrUnhealthy = errors.New("unhealthy")
)

// Exit codes of rancher-traefik's own failures. Traefik's own exit code (or
// 128+signal) is passed through otherwise (ChildExit).
const (
	ExitOK           = 0
	ExitFailure      = 1
	ExitUsage        = 64  // bad command line
	ExitTLS          = 65  // the certificate or key is unusable
	ExitCrashLoop    = 75  // Traefik kept failing: more than TRAEFIK_RESTART_MAX restarts
	ExitConfig       = 78  // an environment variable is invalid, or files cannot be written
	ExitNotStartable = 126 // the Traefik binary exists but cannot be executed
	ExitNotFound     = 127 // the Traefik binary is not found
)

// Code is one row of the exit-code table: the code, the kind of error that
// ends with it (nil: none of ours, e.g. Traefik's own), and its meaning.
type Code struct {
	Code int
	Kind error
	Doc  string
}

// Codes is the exit-code table, in order: ExitCode follows it, and the help
// and the README print it.
var Codes = []Code{
	{ExitOK, nil, "Traefik stopped cleanly (after SIGTERM/SIGINT), or a command succeeded"},
	{ExitFailure, ErrUnhealthy, "a command failed in another way (also Traefik's own failure code)"},
	{ExitUsage, ErrUsage, "bad command line"},
	{ExitTLS, ErrTLS, "the certificate or key is unusable (missing or unreadable file, bad PEM, key does not match, encrypted key)"},
	{ExitCrashLoop, supervisor.ErrCrashLoop, "Traefik kept failing: more than TRAEFIK_RESTART_MAX restarts inside the backoff window"},
	{ExitConfig, ErrConfig, "an environment variable is invalid (a secret file other than the certificate's or key's cannot be read, too), or the files under TRAEFIK_HOME cannot be written"},
	{ExitNotStartable, supervisor.ErrNotStartable, "TRAEFIK_BINARY exists but cannot be executed"},
	{ExitNotFound, supervisor.ErrNotFound, "TRAEFIK_BINARY is not found"},
	{128 + 9, nil, "Traefik was killed by SIGKILL (e.g. it ignored SIGTERM past its grace); in general 128+signal"},
	{128 + 15, nil, "Traefik was ended by SIGTERM without handling it"},
}

// kindError gives err the kind kind; its message is err's.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// Kind marks err as of kind (one of the Err variables of this package).
func Kind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// ChildExit is Traefik's own exit status, passed through as ours. Its
// cause was already logged.
type ChildExit int

func (c ChildExit) Error() string { return fmt.Sprintf("traefik exited with code %d", int(c)) }

// reported is an error whose message was already printed (check's problem
// list): only its exit code is left to give.
type reported struct{ error }

// Reported marks err as already printed; its kind still gives the exit code.
func Reported(err error) error {
	if err == nil {
		return nil
	}
	return reported{err}
}

func (r reported) Unwrap() error { return r.error }

// Silent reports whether err's message was already printed.
func Silent(err error) bool {
	var r reported
	var c ChildExit
	return errors.As(err, &r) || errors.As(err, &c)
}

// ExitCode is the one mapping from errors to exit codes. The kind given by
// Kind closest to the top of the chain decides; then supervisor's kinds and
// *config.Error; anything else is 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var c ChildExit
	if errors.As(err, &c) {
		return int(c)
	}
	var k *kindError
	if errors.As(err, &k) {
		if code, ok := codeOf(k.kind); ok {
			return code
		}
	}
	for _, c := range Codes {
		if c.Kind != nil && errors.Is(err, c.Kind) {
			return c.Code
		}
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		return ExitConfig
	}
	return ExitFailure
}

func codeOf(kind error) (int, bool) {
	for _, c := range Codes {
		if c.Kind == kind {
			return c.Code, true
		}
	}
	return 0, false
}

// codesOf are the rows of Codes for codes, all of them when codes is empty.
func codesOf(codes []int) []Code {
	if len(codes) == 0 {
		return Codes
	}
	var out []Code
	for _, c := range Codes {
		for _, want := range codes {
			if c.Code == want {
				out = append(out, c)
			}
		}
	}
	return out
}

// CodesHelp is the exit-code table of --help: the rows for codes (a
// command's own), or all of them.
func CodesHelp(codes ...int) string {
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, c := range codesOf(codes) {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.Doc)
	}
	return b.String()
}

// CodesMarkdown is the README's exit-code table.
func CodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| Code | Meaning |\n|---|---|\n")
	for _, c := range Codes {
		fmt.Fprintf(&b, "| %d | %s |\n", c.Code, c.Doc)
	}
	return b.String()
}
