package app

import (
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/routes"
)

// configChecks validate, at configuration time, the variables whose grammar
// belongs to the package that uses them, so config imports none of them.
var configChecks = []config.Check{
	{Var: "TRAEFIK_RANCHER_CONSTRAINTS", Check: func(v string) error { _, err := routes.ParseConstraints(v); return err }},
	{Var: "TRAEFIK_RANCHER_DEFAULT_RULE", Check: func(v string) error { _, err := routes.ParseRuleTemplate(v); return err }},
}

// readConfig reads the environment through lookup: every command reads it
// here, so each reports the same problems.
func readConfig(lookup func(string) (string, bool)) (*config.Config, error) {
	return config.FromEnv(lookup, configChecks...)
}
