package app

import (
	"fmt"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/secrets"
)

// dnsCredentials resolves the variables TRAEFIK_ACME_DNS_CREDENTIALS names,
// each a secret (NAME, NAME_FILE, or a Rancher secret alias), into
// NAME=value lines for Traefik's environment alone: lego's providers read
// their credentials from there. One trailing newline is trimmed (a token
// in a file). A variable that is unset or unreadable is a problem naming
// it, never its value.
func dnsCredentials(cfg *config.Config, lookup func(string) (string, bool)) ([]string, []config.Problem) {
	if !cfg.ACMEEnable || cfg.ACMEChallenge != "dns" {
		return nil, nil
	}
	res := secrets.Resolver{Dir: cfg.SecretsDir}
	var (
		env      []string
		problems []config.Problem
	)
	for _, name := range cfg.ACMEDNSCredentials {
		s, _, err := res.Resolve(name, lookup, true)
		switch {
		case err != nil:
			problems = append(problems, config.Problem{Var: "TRAEFIK_ACME_DNS_CREDENTIALS", Msg: err.Error()})
		case !s.IsSet():
			problems = append(problems, config.Problem{Var: "TRAEFIK_ACME_DNS_CREDENTIALS", Msg: fmt.Sprintf("%s is not set (nor %s_FILE)", name, name)})
		default:
			env = append(env, name+"="+s.Reveal())
		}
	}
	return env, problems
}
