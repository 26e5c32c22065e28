package restpush

import "strings"

// FileProvider is the suffix of what the file provider defines: the
// static dynamic files (retry.toml, middlewares.toml, tls.toml) and the
// user's own files in the watched directory.
const FileProvider = "@file"

// Qualify rewrites, in place, the references of a routes tree to objects
// it does not define itself as name@file. Published through the file
// provider a bare name is looked up among the file provider's objects;
// pushed to the REST provider it would be looked up among the REST
// provider's (Traefik v3.6 pkg/provider: GetQualifiedName adds the
// provider of the configuration that names it), where a middleware,
// service, serversTransport or TLS option of a file is not. A name with
// a provider already (api@internal, own@file) and the TLS option
// "default" (Traefik's router.go takes it as is) are left alone.
func Qualify(cfg map[string]any) {
	for _, proto := range []string{"http", "tcp", "udp"} {
		sec, _ := cfg[proto].(map[string]any)
		if sec == nil {
			continue
		}
		q := qualifier{
			services:    keys(sec["services"]),
			middlewares: keys(sec["middlewares"]),
			transports:  keys(sec["serversTransports"]),
		}
		q.routers(sec["routers"])
		q.middlewareRefs(sec["middlewares"])
		q.serviceRefs(sec["services"])
	}
}

// qualifier qualifies the names one protocol's section does not define.
type qualifier struct {
	services, middlewares, transports map[string]bool
}

func (q qualifier) routers(v any) {
	for _, r := range tables(v) {
		qualifyString(r, "service", q.services)
		qualifyList(r, "middlewares", q.middlewares)
		if tls, ok := r["tls"].(map[string]any); ok {
			if o, _ := tls["options"].(string); o != "default" {
				qualifyString(tls, "options", nil)
			}
		}
	}
}

func (q qualifier) middlewareRefs(v any) {
	for _, m := range tables(v) {
		if chain, ok := m["chain"].(map[string]any); ok {
			qualifyList(chain, "middlewares", q.middlewares)
		}
		if errs, ok := m["errors"].(map[string]any); ok {
			qualifyString(errs, "service", q.services)
		}
	}
}

func (q qualifier) serviceRefs(v any) {
	for _, s := range tables(v) {
		if lb, ok := s["loadBalancer"].(map[string]any); ok {
			qualifyString(lb, "serversTransport", q.transports)
		}
		if w, ok := s["weighted"].(map[string]any); ok {
			for _, ws := range list(w["services"]) {
				qualifyString(ws, "name", q.services)
			}
		}
		if m, ok := s["mirroring"].(map[string]any); ok {
			qualifyString(m, "service", q.services)
			for _, ms := range list(m["mirrors"]) {
				qualifyString(ms, "name", q.services)
			}
		}
		if f, ok := s["failover"].(map[string]any); ok {
			qualifyString(f, "service", q.services)
			qualifyString(f, "fallback", q.services)
		}
	}
}

// qualify is name, with FileProvider when it has no provider and is not
// among local.
func qualify(name string, local map[string]bool) string {
	if name == "" || strings.Contains(name, "@") || local[name] {
		return name
	}
	return name + FileProvider
}

func qualifyString(m map[string]any, key string, local map[string]bool) {
	if s, ok := m[key].(string); ok {
		m[key] = qualify(s, local)
	}
}

func qualifyList(m map[string]any, key string, local map[string]bool) {
	switch l := m[key].(type) {
	case []string:
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = qualify(s, local)
		}
		m[key] = out
	case []any:
		out := make([]any, len(l))
		for i, e := range l {
			if s, ok := e.(string); ok {
				e = qualify(s, local)
			}
			out[i] = e
		}
		m[key] = out
	}
}

// tables are the tables of a section's named objects.
func tables(v any) []map[string]any {
	m, _ := v.(map[string]any)
	out := make([]map[string]any, 0, len(m))
	for _, e := range m {
		if t, ok := e.(map[string]any); ok {
			out = append(out, t)
		}
	}
	return out
}

// list is an array of tables, as routes or a TOML decoder gives it.
func list(v any) []map[string]any {
	switch l := v.(type) {
	case []map[string]any:
		return l
	case []any:
		out := make([]map[string]any, 0, len(l))
		for _, e := range l {
			if t, ok := e.(map[string]any); ok {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// keys are the names of a section's objects.
func keys(v any) map[string]bool {
	m, _ := v.(map[string]any)
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
