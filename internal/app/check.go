package app

import (
	"errors"
	"fmt"
	"slices"

	"rancher-traefik/internal/config"
)

// Check reads the environment as Run would and prints every problem, one per
// line on Stdout, naming the variable or file: invalid values, unusable
// secrets and certificates, directories under TRAEFIK_HOME that cannot be
// written. Unknown TRAEFIK_* variables are warnings. The error's kind is the
// first kind of problem found; its message is the count, already printed.
func (a *App) Check() error {
	cfg, err := readConfig(a.Lookup)
	var (
		problems []config.Problem
		kind     error
	)
	if err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) {
			return err
		}
		problems = append(problems, ce.Problems...)
		kind = a.configKind(cfg, err)
	}
	if _, dp := dnsCredentials(cfg, a.Lookup); len(dp) > 0 {
		problems = append(problems, dp...)
		if kind == nil {
			kind = ErrConfig
		}
	}
	_, _, tlsProblems := loadTLS(cfg)
	if len(tlsProblems) > 0 && kind == nil {
		kind = ErrTLS
	}
	problems = append(problems, tlsProblems...)
	if !slices.ContainsFunc(problems, func(p config.Problem) bool { return p.Var == "TRAEFIK_HOME" }) {
		wp := writableProblems(cfg)
		if len(wp) > 0 && kind == nil {
			kind = ErrConfig
		}
		problems = append(problems, wp...)
	}
	if _, err := renderStatic(cfg, a.Version, true, restPlaceholder(cfg)); err != nil && kind == nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(a.Stdout, p.String())
	}
	unknown := a.unknownVars()
	for _, u := range unknown {
		fmt.Fprintln(a.Stdout, "warning: "+u.String())
	}
	switch {
	case kind != nil:
		fmt.Fprintf(a.Stderr, "%d problem(s) found\n", len(problems))
		return Reported(Kind(kind, fmt.Errorf("%d problem(s) found", len(problems))))
	case len(unknown) > 0:
		fmt.Fprintf(a.Stderr, "configuration is valid, but %d variable(s) are ignored: see the warnings\n", len(unknown))
	default:
		fmt.Fprintln(a.Stderr, "configuration is valid")
	}
	return nil
}
