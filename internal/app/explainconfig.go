package app

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// explainConfig prints a service's own configuration (routes.Build of it
// alone): per protocol its routers (rule, priority, entry points, TLS,
// middlewares, service), services (servers) and middlewares (kind and
// option names — their values can be credentials).
func explainConfig(w io.Writer, cfg map[string]any) {
	for _, proto := range []string{"http", "tcp", "udp"} {
		p := dig(cfg, proto)
		routers, services, mws := dig(p, "routers"), dig(p, "services"), dig(p, "middlewares")
		for _, name := range slices.Sorted(maps.Keys(routers)) {
			explainRouter(w, proto, name, dig(routers, name))
		}
		for _, name := range slices.Sorted(maps.Keys(services)) {
			explainServiceSection(w, proto, name, dig(services, name))
		}
		for _, name := range slices.Sorted(maps.Keys(mws)) {
			m := dig(mws, name)
			for _, kind := range slices.Sorted(maps.Keys(m)) {
				opts := slices.Sorted(maps.Keys(dig(m, kind)))
				fmt.Fprintf(w, "  %s middleware %s: %s (%s)\n", proto, name, kind, or(strings.Join(opts, ", "), "no options"))
			}
		}
	}
}

// explainRouter prints one router.
func explainRouter(w io.Writer, proto, name string, r map[string]any) {
	fmt.Fprintf(w, "  %s router %s\n", proto, name)
	if rule, ok := r["rule"].(string); ok {
		fmt.Fprintf(w, "    rule:         %s\n", rule)
	}
	if proto != "udp" {
		prio := "default (the rule's length)"
		if p, ok := r["priority"]; ok {
			prio = fmt.Sprint(p)
		}
		fmt.Fprintf(w, "    priority:     %s\n", prio)
	}
	eps := strings.Join(strs(r["entryPoints"]), ", ")
	if tls, ok := r["tls"].(map[string]any); ok {
		eps += " with TLS"
		if res, ok := tls["certResolver"].(string); ok && res != "" {
			eps += " (certificates from " + res + ")"
		} else if pass, ok := tls["passthrough"].(bool); ok && pass {
			eps += " (passthrough)"
		}
	}
	fmt.Fprintf(w, "    entry points: %s\n", or(eps, "(every entry point)"))
	if mws := strs(r["middlewares"]); len(mws) > 0 {
		fmt.Fprintf(w, "    middlewares:  %s\n", strings.Join(mws, ", "))
	}
	fmt.Fprintf(w, "    service:      %s\n", or(fmt.Sprint(r["service"]), "(none)"))
}

// explainServiceSection prints one service: its load balancer's servers,
// or the kind of service it is (weighted, mirroring, failover).
func explainServiceSection(w io.Writer, proto, name string, s map[string]any) {
	lb, ok := s["loadBalancer"].(map[string]any)
	if !ok {
		fmt.Fprintf(w, "  %s service %s: %s\n", proto, name, strings.Join(slices.Sorted(maps.Keys(s)), ", "))
		return
	}
	var servers []string
	for _, srv := range tables(lb["servers"]) {
		for _, k := range []string{"url", "address"} {
			if v, ok := srv[k].(string); ok {
				servers = append(servers, redactServer(v))
			}
		}
	}
	fmt.Fprintf(w, "  %s service %s: servers: %d\n", proto, name, len(servers))
	for _, srv := range servers {
		fmt.Fprintf(w, "    %s\n", srv)
	}
	var opts []string
	for _, k := range slices.Sorted(maps.Keys(lb)) {
		if k != "servers" {
			opts = append(opts, k)
		}
	}
	if len(opts) > 0 {
		fmt.Fprintf(w, "    options:      %s\n", strings.Join(opts, ", "))
	}
}

// strs is a list of strings as the configuration holds it ([]string, or
// []any from v2 labels).
func strs(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, len(l))
		for i, x := range l {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	return nil
}

// tables is a list of tables as the configuration holds it.
func tables(v any) []map[string]any {
	switch l := v.(type) {
	case []map[string]any:
		return l
	case []any:
		var out []map[string]any
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
