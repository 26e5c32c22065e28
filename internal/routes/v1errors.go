package routes

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"rancher-traefik/internal/rancher"
)

// v1Backends resolves traefik.frontend.errors.<name>.backend=NAME. In
// Traefik v1.7's Rancher provider NAME is the name of a backend, and a
// service's backend is named (provider/rancher/config.go,
// getBackendName): traefik.backend when set, else the service's
// "<service>/<stack>", normalized (provider.Normalize: every run of
// characters other than letters and digits becomes one -), so
// "errorpages-web" for service errorpages of stack web. A segment's backend
// is "<service>/<stack>-<traefik.<segment>.backend>", or else
// "<service>/<stack>-<default name>-<segment>", normalized. The error page
// is served by that backend's service: here, the service rancher-traefik
// publishes for it. v1.7 kept one service per backend name (a map: the
// last service in the metadata's order won); so does this index.
//
// The index is built on first use only: snapshots without error pages do
// not pay for it.
type v1Backends struct {
	snap   *rancher.Snapshot
	o      Options
	once   sync.Once
	byName map[string]string // normalized v1 backend name → our service name

	mu   sync.Mutex
	refs []errorPageRef
}

// errorPageRef is an errors middleware and the service it names, checked
// once every service is merged (checkErrorPages).
type errorPageRef struct {
	stack, service string // whose router uses the page
	label          string // the backend label
	middleware     string
	routers        []string // the routers that name the middleware: a router, and its plain-HTTP twin
	target         string   // the service that serves the page
}

// find is the name of the service published for the v1 backend name. A
// nil index (a service translated outside Build) finds none.
func (b *v1Backends) find(name string) (string, bool) {
	if b == nil {
		return "", false
	}
	b.once.Do(b.build)
	svc, ok := b.byName[v1Normalize(name)]
	return svc, ok
}

// buildIfPages builds the index now when a service of the snapshot may
// ask it (a label of an error page, traefik[.<segment>].frontend.errors.*,
// in any case; rawmind0's services keep their v1 labels): a build that
// lets go of each service's labels once it is translated
// (EncodeOptions.Release) must not build it later from what is left.
// Without such a label, find is never called.
func (b *v1Backends) buildIfPages() {
	for i := range b.snap.Services {
		for k := range b.snap.Services[i].Labels {
			if containsFold(k, "frontend.errors.") {
				b.once.Do(b.build)
				return
			}
		}
	}
}

// containsFold reports whether s contains sub (lower case), whatever the
// case of s, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func (b *v1Backends) build() {
	b.byName = map[string]string{}
	for i := range b.snap.Services {
		s := &b.snap.Services[i]
		if s.System && !b.o.IncludeSystem || !routedByV1(s.Labels) {
			continue
		}
		if ok, err := published(s, b.o); !ok || err != nil {
			continue
		}
		full := s.Name + "/" + s.Stack
		root, segs := v1BackendLabels(s)
		def := v1Normalize(full)
		if root != "" {
			def = v1Normalize(root)
		}
		if len(segs) == 0 {
			b.byName[def] = baseName(s)
			continue
		}
		for seg, backend := range segs {
			n := v1Normalize(full + "-" + def + "-" + seg)
			if backend != "" {
				n = v1Normalize(full + "-" + backend)
			}
			b.byName[n] = segmentName(s, seg)
		}
	}
}

// v1BackendLabels are a service's traefik.backend and, per segment, its
// traefik.<segment>.backend ("" when not set).
func v1BackendLabels(s *rancher.Service) (root string, segments map[string]string) {
	for k, v := range s.Labels {
		rest, ok := strings.CutPrefix(strings.ToLower(k), "traefik.")
		if !ok {
			continue
		}
		if rest == "backend" {
			root = strings.TrimSpace(v)
			continue
		}
		first, after, _ := strings.Cut(rest, ".")
		if v1Roots[first] {
			continue
		}
		if _, known := v1LabelIndex[after]; !known && v1PatternKey(after) == "" {
			continue
		}
		if segments == nil {
			segments = map[string]string{}
		}
		if after == "backend" {
			segments[first] = strings.TrimSpace(v)
		} else if _, seen := segments[first]; !seen {
			segments[first] = ""
		}
	}
	return root, segments
}

// segmentName is the name of the router and service of a segment.
func segmentName(s *rancher.Service, segment string) string {
	return subName(baseName(s), segment)
}

// v1Normalize is Traefik v1.7's provider.Normalize: runs of characters
// other than letters and digits become one -, and none leads or trails.
func v1Normalize(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	}), "-")
}

// record notes an errors middleware for checkErrorPages.
func (b *v1Backends) record(ref errorPageRef) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.refs = append(b.refs, ref)
	b.mu.Unlock()
}

// serviceKey names a service of the snapshot.
type serviceKey struct{ stack, name string }

// pageView is the merged configuration as checkErrorPages sees it: the
// names of its HTTP middlewares and services, and the one change it makes.
// Build's is the tree (treePages); BuildEncoded's, its index of encoded
// items.
type pageView interface {
	has(section, name string) bool            // an HTTP middleware or service
	drop(middleware string, routers []string) // the middleware, and the routers' references to it
}

// checkErrorPages drops each error page whose service is not in cfg (its
// service was left out, or names a service of its own that was): the page's
// router stays, without it, and the page's backend label gets a warning.
// Only the pages of services in merged count: a service that did not merge
// (one of its names taken by another) recorded names that are now another
// service's, whose middleware and router are not its to change.
func (b *v1Backends) checkErrorPages(cfg pageView, merged map[serviceKey]bool) []Warning {
	if len(b.refs) == 0 {
		return nil
	}
	sort.Slice(b.refs, func(i, j int) bool { return b.refs[i].middleware < b.refs[j].middleware })
	var ws []Warning
	for _, ref := range b.refs {
		if !merged[serviceKey{ref.stack, ref.service}] {
			continue // not published: its names may be another service's
		}
		if !cfg.has("middlewares", ref.middleware) {
			continue // its own service was left out
		}
		if cfg.has("services", ref.target) {
			continue
		}
		cfg.drop(ref.middleware, ref.routers)
		ws = append(ws, Warning{Stack: ref.stack, Service: ref.service, Label: ref.label, Severity: Dropped,
			Msg: "the service of the backend it names is not published: the error page is dropped"})
	}
	return ws
}

// treePages is a configuration tree (Build's) as a pageView.
type treePages struct{ cfg map[string]any }

func (t treePages) section(name string) map[string]any {
	h, _ := t.cfg["http"].(map[string]any)
	s, _ := h[name].(map[string]any)
	return s
}

func (t treePages) has(section, name string) bool {
	_, ok := t.section(section)[name]
	return ok
}

func (t treePages) drop(middleware string, routers []string) {
	delete(t.section("middlewares"), middleware)
	for _, name := range routers {
		if r, ok := t.section("routers")[name].(map[string]any); ok {
			dropReference(r, middleware)
		}
	}
}

// dropReference removes middleware from a router's list of middlewares,
// and the list when nothing is left in it.
func dropReference(router map[string]any, middleware string) {
	if list, ok := router["middlewares"].([]string); ok {
		if list = without(list, middleware); len(list) > 0 {
			router["middlewares"] = list
		} else {
			delete(router, "middlewares")
		}
	}
}

// mayLoseReference reports whether checkErrorPages may change router
// (dropReference): when its middlewares are a list that is empty (whose
// key dropReference removes whatever it drops) or names an errors
// middleware (useNamed names every page "<router>-errors-<page>"). Any
// other router is the same after the check, so BuildEncoded encodes it
// before.
func mayLoseReference(router map[string]any) bool {
	list, ok := router["middlewares"].([]string)
	if !ok {
		return false
	}
	if len(list) == 0 {
		return true
	}
	for _, m := range list {
		if strings.Contains(m, "-errors-") {
			return true
		}
	}
	return false
}

// without is list without s.
func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
