package routes

import (
	"strings"

	"rancher-traefik/internal/rancher"
)

// defaultRule is Host(`<service>.<stack>.<domain>`).
func defaultRule(s *rancher.Service, domain string) (string, error) {
	host, err := defaultHost(s, domain)
	if err != nil {
		return "", err
	}
	return "Host(`" + host + "`)", nil
}

// defaultHost is <service>.<stack>.<domain> in lower case, the domain from
// traefik.domain or else the option.
func defaultHost(s *rancher.Service, domain string) (string, error) {
	if d, ok := s.Labels["traefik.domain"]; ok && strings.TrimSpace(d) != "" {
		domain = strings.Trim(strings.TrimSpace(d), ".")
	}
	if domain == "" {
		return "", errLabel("traefik.frontend.rule", "no rule, and no domain (TRAEFIK_RANCHER_DOMAIN or traefik.domain) to make the default Host:<service>.<stack>.<domain>")
	}
	host := strings.ToLower(s.Name + "." + s.Stack + "." + domain)
	if strings.ContainsAny(host, "`") {
		return "", errLabel("traefik.domain", "the default host %q holds a backtick", host)
	}
	return host, nil
}

// routerDefaults fills entry points and TLS the way the options say.
func routerDefaults(router map[string]any, o Options) {
	eps, ok := router["entryPoints"].([]string)
	if !ok || len(eps) == 0 {
		eps = []string{"http"}
		if o.HTTPS {
			eps = []string{"https"}
		}
		router["entryPoints"] = eps
	}
	for _, ep := range eps {
		if ep == "https" {
			if _, ok := router["tls"]; !ok {
				router["tls"] = map[string]any{}
			}
		}
	}
}
