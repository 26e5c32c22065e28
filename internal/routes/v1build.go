package routes

import (
	"slices"
	"sort"
	"strings"

	"rancher-traefik/internal/rancher"
)

// v1Service translates a service's Traefik v1 labels: parse (splitV1, then
// each label's handler), build (v1Builder: a router, a service and
// middlewares per frontend). Segments (traefik.<name>.port,
// traefik.<name>.frontend.rule, …) give one router and service each; values
// not set on a segment come from the root labels. Every bad label of the
// service is reported, not only the first.
func v1Service(s *rancher.Service, o Options) (*fragment, routerServers, []Warning, error) {
	var p problems
	root, segments := splitV1(s, &p)
	frag := &httpFragment{routers: make([]namedRouter, 0, max(1, len(segments)))}
	var servers routerServers
	base := baseName(s)
	f := v1Frontends.Get().(*v1Frontend)
	defer v1Frontends.Put(f)
	if len(segments) == 0 {
		buildV1Frontend(s, o, frag, base, root.decode(f), &p, &servers)
	} else {
		names := make([]string, 0, len(segments))
		for n := range segments {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, seg := range names {
			name := segmentName(s, seg)
			buildV1Frontend(s, o, frag, name, segments[seg].over(root).decode(f), &p, &servers)
		}
	}
	if err := p.err(); err != nil {
		return nil, nil, p.warnings(), err
	}
	return frag.fragment(), servers, p.warnings(), nil
}

// v1Builder builds one frontend's router, service and middlewares. A bad
// label is recorded in p and its setting skipped, so that the labels after
// it are checked too; the caller drops the service when p holds any.
type v1Builder struct {
	s    *rancher.Service
	o    Options
	f    *v1Frontend
	p    *problems
	name string
	frag *httpFragment
	r    router
	lb   loadBalancer
	// toTLS are the router's redirects to another entry point: true to
	// https (a TLS one), false to http.
	toTLS map[string]bool
	out   [2]router // what routers returns
	// pages are the router's error pages, recorded for checkErrorPages
	// once its routers are made (recordPages).
	pages []errorPageRef
}

// buildV1Frontend adds the routers, service and middlewares of f to frag,
// and each router's server count to servers.
func buildV1Frontend(s *rancher.Service, o Options, frag *httpFragment, name string, f *v1Frontend, p *problems, servers *routerServers) {
	b := &v1Builder{s: s, o: o, f: f, p: p, name: name, frag: frag, r: router{service: name}}
	port, scheme := b.portAndScheme()
	b.routing()
	// Error pages and rate limits come first, then redirects, auth, the
	// allow list, headers, the middlewares of traefik.frontend.middlewares,
	// the rule's path modifiers (they change what the backend sees), and
	// the backend's own options last.
	b.frontMore()
	b.redirects()
	b.auth()
	b.allowList()
	b.headers()
	if mws, ok := read(p, f.middlewares); ok {
		b.r.middlewares = append(b.r.middlewares, mws...)
	}
	if rule, ok := read(p, f.rule); ok {
		for _, m := range rule.middlewares {
			b.use(m)
		}
	}
	b.backMore()
	b.sticky()
	b.healthCheck()
	b.acme()
	b.servers(scheme, port)
	first := len(frag.routers)
	for i, r := range b.routers() {
		rname := name
		if i > 0 {
			rname = subName(name, "http")
		}
		frag.routers = append(frag.routers, namedRouter{name: rname, r: r, lb: b.lb, twin: i > 0})
		servers.set(rname, len(b.lb.servers))
	}
	b.recordPages(frag.routers[first:])
}

// recordPages records the router's error pages for checkErrorPages, each
// with the routers that use it: the router, and its plain-HTTP twin
// (entry points http,https) when it has one, so that a page dropped after
// the merge leaves neither naming it.
func (b *v1Builder) recordPages(made []namedRouter) {
	for _, ref := range b.pages {
		for _, nr := range made {
			if slices.Contains(nr.r.middlewares, ref.middleware) {
				ref.routers = append(ref.routers, nr.name)
			}
		}
		b.o.backends.record(ref)
	}
}

// use adds a middleware to the router, named for its kind.
func (b *v1Builder) use(m middleware) {
	name := subName(b.name, strings.ToLower(m.kind()))
	b.frag.middlewares = append(b.frag.middlewares, namedMiddleware{name, m})
	b.r.middlewares = append(b.r.middlewares, name)
}

// useRedirect adds a redirect to another entry point (its scheme's).
func (b *v1Builder) useRedirect(m redirectScheme) {
	b.use(m)
	if b.toTLS == nil {
		b.toTLS = map[string]bool{}
	}
	b.toTLS[b.r.middlewares[len(b.r.middlewares)-1]] = m.scheme == "https"
}

// portAndScheme are the servers' port and scheme: traefik.port or the single
// exposed port (an external service's scheme's port), traefik.protocol.
func (b *v1Builder) portAndScheme() (port, scheme string) {
	var err error
	if b.f.port.label != "" {
		port, _ = read(b.p, b.f.port)
	} else if port, err = defaultPort(b.s, "traefik.port"); err != nil && b.s.Kind != "externalService" {
		b.p.add(err)
	}
	scheme = "http"
	if proto, ok := read(b.p, b.f.protocol); ok {
		scheme = proto
	}
	if b.s.Kind == "externalService" && port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return port, scheme
}

// routing sets the rule (traefik.frontend.rule or the default), entry
// points, priority and passHostHeader.
//
// Priority: Traefik v1.7 gave a frontend the length of its rule as written
// (len(route.Rule) of each route, summed), unless traefik.frontend.priority
// is above 0 (server/server_configuration.go, buildServerRoute), and
// matched the longest first; the default rule was Host:<service>.<stack>.<domain>
// (provider/rancher/config.go, getFrontendRule). Traefik v3 would use the
// length of the translated rule, which orders overlapping rules differently
// (Host:a;PathPrefix:/api is shorter than Host:a,b in v1 and longer in
// v3), so every v1 router gets v1's priority explicitly.
func (b *v1Builder) routing() {
	v1Len := 0
	if b.f.rule.label != "" {
		if rule, ok := read(b.p, b.f.rule); ok {
			b.r.rule, v1Len = rule.matcher, rule.v1Len
		}
	} else if b.o.DefaultRule != nil {
		// TRAEFIK_RANCHER_DEFAULT_RULE's rule: v1 never saw it, so its
		// length as given stands for v1's.
		if rule, err := defaultRule(b.s, &b.o); !b.p.add(err) {
			b.r.rule, v1Len = rule, len(rule)
		}
	} else if host, err := defaultHost(b.s, b.o.Domain); !b.p.add(err) {
		v1Len = len("Host:") + len(host)
		if host, err = asciiHost(host); err != nil {
			b.p.add(errLabel("traefik.frontend.rule", "no rule, and the default host: %v", err))
		}
		b.r.rule = "Host(`" + host + "`)"
	}
	if eps, ok := read(b.p, b.f.entryPoints); ok {
		b.r.entryPoints = eps
	}
	b.r.priority = some(int64(v1Len))
	if prio, ok := read(b.p, b.f.priority); ok && prio > 0 {
		b.r.priority = some(prio)
	}
	if pass, ok := read(b.p, b.f.passHostHeader); ok {
		b.lb.passHostHeader = some(pass)
	}
}

// redirects adds redirect.entryPoint, redirect.regex and the headers'
// SSLRedirect/SSLTemporaryRedirect (the first one set to true).
func (b *v1Builder) redirects() {
	permanent, _ := read(b.p, b.f.redirectPermanent)
	if ep, ok := read(b.p, b.f.redirectEntryPoint); ok {
		b.useRedirect(redirectTo(ep, permanent, b.o))
	}
	if b.f.redirectRegex.label != "" {
		if b.f.redirectReplacement.label == "" {
			b.p.add(errLabel(b.f.redirectRegex.label, "needs traefik.frontend.redirect.replacement too"))
		} else if re, ok := read(b.p, b.f.redirectRegex); ok {
			b.use(redirectRegex{regex: re, replacement: b.f.redirectReplacement.val, permanent: permanent})
		}
	}
	redirected := false
	for i, v := range []v1Value[bool]{b.f.sslRedirect, b.f.sslTemporaryRedirect} {
		if on, _ := read(b.p, v); on {
			b.sslRedirect(i == 0)
			redirected = true
			break
		}
	}
	b.sslHostOptions(redirected)
}

// auth adds basic or digest auth, or else forward auth.
func (b *v1Builder) auth() {
	b.dropDigest()
	a, err := v1Auth(&b.f.auth, b.o)
	if err != nil {
		b.p.add(err)
	} else if a != nil {
		b.use(*a)
	}
	if b.f.x != nil {
		b.forwardAuth(b.f.x, a != nil || err != nil)
	}
	if h := b.f.auth.headerField; h.label != "" && a == nil && err == nil {
		b.p.drop(h.label, "Traefik v1.7 passed the user in it for basic and digest auth only, and neither is set: ignored")
	}
}

// allowList adds whiteList.sourceRange, or else the deprecated
// whitelistSourceRange.
func (b *v1Builder) allowList() {
	for _, v := range []v1Value[[]string]{b.f.whiteList, b.f.whiteListOld} {
		if v.label != "" {
			ranges, _ := read(b.p, v)
			b.use(ipAllowList{sourceRange: ranges, depth: b.xffDepth(v.label == b.f.whiteList.label)})
			return
		}
	}
}

// headers adds the headers middleware when a header option is set.
func (b *v1Builder) headers() {
	if len(b.f.headers) == 0 {
		return
	}
	var h headers
	n := 0
	for _, v := range b.f.headers {
		if set, ok := read(b.p, v); ok {
			set(&h)
			n++
		}
	}
	if n > 0 && h.hasEffect() {
		b.use(h)
	}
}

// sticky turns on sticky sessions (sticky or stickiness), with the cookie
// name when one is given.
func (b *v1Builder) sticky() {
	for _, v := range []v1Value[bool]{b.f.sticky, b.f.stickiness} {
		if on, _ := read(b.p, v); on {
			b.lb.sticky = true
			b.lb.cookieName = b.f.cookieName.val
		}
	}
	read(b.p, b.f.lbMethod) // wrr and drr both become Traefik v3's wrr
}

// healthCheck sets the health check; its options need a path.
func (b *v1Builder) healthCheck() {
	hc := &b.lb.healthCheck
	if path, ok := read(b.p, b.f.hcPath); ok {
		hc.path = some(path)
	}
	if d, ok := read(b.p, b.f.hcInterval); ok {
		hc.interval = some(d)
	}
	if port, ok := read(b.p, b.f.hcPort); ok {
		hc.port = some(port)
	}
	b.moreHealthCheck(hc)
}

// acme asks the acme resolver for the router's certificate.
func (b *v1Builder) acme() {
	on, ok := read(b.p, b.f.acme)
	switch {
	case !ok || !on:
	case !b.o.ACME:
		b.p.add(errLabel(b.f.acme.label, "asks for ACME, but TRAEFIK_ACME_ENABLE is false"))
	default:
		b.r.tls, b.r.certResolver = true, "acme"
	}
}

// servers are the service's addresses at port, with the weight label.
func (b *v1Builder) servers(scheme, port string) {
	weight, hasWeight := read(b.p, b.f.weight)
	addrs := addresses(b.s, b.o)
	b.lb.servers = make([]server, len(addrs))
	for i, a := range addrs {
		b.lb.servers[i] = server{url: serverURL(scheme, a, port)}
		if hasWeight {
			b.lb.servers[i].weight = some(weight)
		}
	}
}
