package routes

import (
	"net"
	"sort"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// addresses are the hosts that get traffic: eligible containers' primary
// IPs, or an external service's IPs or hostname.
func addresses(s *rancher.Service, o Options) []string {
	if o.ServiceFilter && !rancher.ActiveServiceStates[s.State] {
		return nil
	}
	if s.Kind == "externalService" {
		if len(s.ExternalIPs) > 0 {
			return s.ExternalIPs
		}
		if s.Hostname != "" {
			return []string{s.Hostname}
		}
		return nil
	}
	var out []string
	for _, c := range s.Containers {
		if c.Eligible() {
			out = append(out, c.PrimaryIP)
		}
	}
	return out
}

// exposedPorts are the distinct private ports of the service (or of its
// containers): "8080:80/tcp", "0.0.0.0:8080:80/tcp" and "80/tcp" all give 80.
func exposedPorts(s *rancher.Service) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p, _, _ = strings.Cut(p, "/")
		if i := strings.LastIndex(p, ":"); i >= 0 {
			p = p[i+1:]
		}
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range s.Ports {
		add(p)
	}
	if len(out) == 0 {
		for _, c := range s.Containers {
			for _, p := range c.Ports {
				add(p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkPort validates a port label value.
func checkPort(label, v string) (string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return "", errLabel(label, "%q is not a port number (1-65535)", v)
	}
	return strconv.Itoa(n), nil
}

// defaultPort is the single exposed port, when there is exactly one.
func defaultPort(s *rancher.Service, label string) (string, error) {
	ps := exposedPorts(s)
	if len(ps) == 1 {
		return ps[0], nil
	}
	if len(ps) == 0 {
		return "", errLabel(label, "not set, and the service exposes no port to default to")
	}
	return "", errLabel(label, "not set, and the service exposes %d ports (%s): say which", len(ps), strings.Join(ps, ", "))
}

// hostPort joins a host and port, bracketing IPv6 addresses.
func hostPort(host, port string) string { return net.JoinHostPort(host, port) }

// serverURL is scheme + "://" + hostPort(host, port), made in one
// allocation (a server each, 30,000 at 10,000 services).
func serverURL(scheme, host, port string) string {
	if strings.IndexByte(host, ':') >= 0 { // as net.JoinHostPort
		return scheme + "://[" + host + "]:" + port
	}
	return scheme + "://" + host + ":" + port
}
