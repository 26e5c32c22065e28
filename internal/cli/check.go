package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/config"
)

func newCheckCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the environment, secrets, certificates and TRAEFIK_HOME; print every problem, one per line",
		Long: `check reads the environment as run would, and prints every problem, one per
line, naming the variable or file: invalid values, unusable secrets and
certificates, and directories under TRAEFIK_HOME that cannot be written
(tested with a probe file, removed at once). TRAEFIK_* variables that
rancher-traefik does not read are warned about, with the name meant.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runCheck(e) },
	}
}

func runCheck(e env) error {
	cfg, err := readConfig(e.lookup)
	var problems []config.Problem
	code := ExitOK
	if err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) {
			return fail(err)
		}
		problems = append(problems, ce.Problems...)
		code = ExitConfig
	}
	_, _, tlsProblems := loadTLS(cfg)
	if len(tlsProblems) > 0 && code == ExitOK {
		code = ExitTLS
	}
	problems = append(problems, tlsProblems...)
	if !names(problems, "TRAEFIK_HOME") {
		wp := writableProblems(cfg)
		if len(wp) > 0 && code == ExitOK {
			code = ExitConfig
		}
		problems = append(problems, wp...)
	}
	if _, err := renderStatic(cfg); err != nil && code == ExitOK {
		return fail(err)
	}
	for _, p := range problems {
		fmt.Fprintln(e.stdout, p.String())
	}
	unknown := unknownVars(e)
	for _, u := range unknown {
		fmt.Fprintln(e.stdout, "warning: "+u.String())
	}
	if code != ExitOK {
		fmt.Fprintf(e.stderr, "%d problem(s) found\n", len(problems))
		return exitWith(code, nil)
	}
	if len(unknown) > 0 {
		fmt.Fprintf(e.stderr, "configuration is valid, but %d variable(s) are ignored: see the warnings\n", len(unknown))
		return nil
	}
	fmt.Fprintln(e.stderr, "configuration is valid")
	return nil
}

// names reports whether one of problems is about the variable v.
func names(problems []config.Problem, v string) bool {
	for _, p := range problems {
		if p.Var == v {
			return true
		}
	}
	return false
}
