package restpush

import (
	"maps"
	"slices"
	"strings"
)

// FileProvider is the suffix of what the file provider defines: the
// static dynamic files (retry.toml, middlewares.toml, tls.toml) and the
// user's own files in the watched directory.
const FileProvider = "@file"

// isProtocol reports whether key is a section of a routes tree whose
// references are qualified.
func isProtocol(key string) bool { return key == "http" || key == "tcp" || key == "udp" }

// qualifier qualifies the names one protocol's section does not define
// (its services, middlewares and serversTransports tables are the names
// it does) as name@file. Published through the file provider a bare name
// is looked up among the file provider's objects; pushed to the REST
// provider it would be looked up among the REST provider's (Traefik v3.6
// pkg/provider: GetQualifiedName adds the provider of the configuration
// that names it), where a middleware, service, serversTransport or TLS
// option of a file is not. A name with a provider already (api@internal,
// own@file) and the TLS option "default" (Traefik's router.go takes it as
// is) are left alone. A table it changes is copied; the tree is not
// changed.
type qualifier struct {
	services, middlewares, transports local
}

// local is one table of a protocol's section that references may name.
type local struct {
	names map[string]any
	// table, when set, is the table's key, its names unknown yet: an item
	// encoded on its own (AppendItem) leaves its references to it for the
	// assembly (nameRef), which knows every item of the section.
	table string
}

func newQualifier(sec map[string]any) qualifier {
	t := func(key string) local {
		m, _ := sec[key].(map[string]any)
		return local{names: m}
	}
	return qualifier{services: t("services"), middlewares: t("middlewares"), transports: t("serversTransports")}
}

// deferredQualifier is the qualifier of an item encoded on its own.
var deferredQualifier = qualifier{services: local{table: "services"}, middlewares: local{table: "middlewares"}, transports: local{table: "serversTransports"}}

// nameRef is a reference to a name of local.table, left to the assembly
// (AppendItem's refs).
type nameRef struct{ table, name string }

// of qualifies name: it, name@file, or a nameRef when that is decided
// when the items are assembled.
func (l local) of(name string) any {
	if l.table != "" && needsProvider(name) {
		return nameRef{l.table, name}
	}
	return qualify(name, l.names)
}

// of is what qualifies each table of the section's key (routers,
// middlewares, services), or nil.
func (q qualifier) of(key string) func(map[string]any) map[string]any {
	switch key {
	case "routers":
		return q.router
	case "middlewares":
		return q.middleware
	case "services":
		return q.service
	}
	return nil
}

func (q qualifier) router(r map[string]any) map[string]any {
	c := cow{m: r}
	c.str("service", q.services)
	c.list("middlewares", q.middlewares)
	c.sub("tls", func(tls cow) cow {
		if o, _ := tls.m["options"].(string); o != "default" {
			tls.str("options", local{})
		}
		return tls
	})
	return c.m
}

func (q qualifier) middleware(m map[string]any) map[string]any {
	c := cow{m: m}
	c.sub("chain", func(chain cow) cow { chain.list("middlewares", q.middlewares); return chain })
	c.sub("errors", func(errs cow) cow { errs.str("service", q.services); return errs })
	return c.m
}

func (q qualifier) service(s map[string]any) map[string]any {
	c := cow{m: s}
	name := func(ws cow) cow { ws.str("name", q.services); return ws }
	c.sub("loadBalancer", func(lb cow) cow { lb.str("serversTransport", q.transports); return lb })
	c.sub("weighted", func(w cow) cow { w.tables("services", name); return w })
	c.sub("mirroring", func(m cow) cow {
		m.str("service", q.services)
		m.tables("mirrors", name)
		return m
	})
	c.sub("failover", func(f cow) cow {
		f.str("service", q.services)
		f.str("fallback", q.services)
		return f
	})
	return c.m
}

// cow is a table changed by copy: the first change clones it.
type cow struct {
	m      map[string]any
	copied bool
}

func (c *cow) set(key string, v any) {
	if !c.copied {
		c.m, c.copied = maps.Clone(c.m), true
	}
	c.m[key] = v
}

// str qualifies the name at key.
func (c *cow) str(key string, l local) {
	if s, ok := c.m[key].(string); ok {
		if q := l.of(s); q != any(s) {
			c.set(key, q)
		}
	}
}

// list qualifies the names of the list at key: a list with a name to
// qualify is copied (as a []any when a reference is left to the assembly).
func (c *cow) list(key string, l local) {
	switch v := c.m[key].(type) {
	case []string:
		if l.table != "" {
			c.anyList(key, toAny(v), l)
			return
		}
		var out []string
		for i, s := range v {
			if q := qualify(s, l.names); q != s {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = q
			}
		}
		if out != nil {
			c.set(key, out)
		}
	case []any:
		c.anyList(key, v, l)
	}
}

// anyList is list for a []any.
func (c *cow) anyList(key string, v []any, l local) {
	var out []any
	for i, e := range v {
		if s, ok := e.(string); ok {
			if q := l.of(s); q != any(s) {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = q
			}
		}
	}
	if out != nil {
		c.set(key, out)
	}
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// sub applies f to the table at key, and keeps its copy if f changed it.
func (c *cow) sub(key string, f func(cow) cow) {
	t, ok := c.m[key].(map[string]any)
	if !ok {
		return
	}
	if s := f(cow{m: t}); s.copied {
		c.set(key, s.m)
	}
}

// tables applies f to each table of the array of tables at key (as routes
// or a TOML decoder gives it), and keeps a new array if f changed one.
func (c *cow) tables(key string, f func(cow) cow) {
	var items []map[string]any
	switch l := c.m[key].(type) {
	case []map[string]any:
		items = l
	case []any:
		for _, e := range l {
			if t, ok := e.(map[string]any); ok {
				items = append(items, t)
			}
		}
		if len(items) != len(l) {
			return
		}
	default:
		return
	}
	out := make([]map[string]any, len(items))
	changed := false
	for i, t := range items {
		s := f(cow{m: t})
		out[i], changed = s.m, changed || s.copied
	}
	if changed {
		c.set(key, out)
	}
}

// qualify is name, with FileProvider when it has no provider and is not
// among local.
func qualify(name string, local map[string]any) string {
	if !needsProvider(name) {
		return name
	}
	if _, own := local[name]; own {
		return name
	}
	return name + FileProvider
}

// needsProvider reports whether name lacks a provider: one that its
// protocol does not define is the file provider's.
func needsProvider(name string) bool { return name != "" && !strings.Contains(name, "@") }
