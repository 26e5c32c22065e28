package routes

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"rancher-traefik/internal/rancher"
)

// defaultRule is Host(`<service>.<stack>.<domain>`).
func defaultRule(s *rancher.Service, domain string) (string, error) {
	host, err := defaultHost(s, domain)
	if err != nil {
		return "", err
	}
	if host, err = asciiHost(host); err != nil {
		return "", errLabel("traefik.frontend.rule", "no rule, and the default host: %v", err)
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

// asciiHost is host as Traefik's Host matcher takes it: ASCII, a
// non-ASCII name in its IDNA (punycode) form, as browsers send it
// (服务.example.com → xn--vuq861b.example.com). Traefik v3 refuses a
// non-ASCII Host (pkg/muxer/http/matcher.go: "non-ASCII characters are
// not allowed").
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			if !utf8.ValidString(host) {
				return "", fmt.Errorf("the host is not valid UTF-8")
			}
			a, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", fmt.Errorf("%q has no IDNA (ASCII) form: %w", host, err)
			}
			return a, nil
		}
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
