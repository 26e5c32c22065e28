package routes

import (
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
func v1Service(s *rancher.Service, o Options) (map[string]any, map[string]int, []*labelError, error) {
	var p problems
	root, segments := splitV1(s, &p)
	frag := &httpFragment{routers: make([]namedRouter, 0, max(1, len(segments)))}
	servers := map[string]int{}
	base := baseName(s)
	f := v1Frontends.Get().(*v1Frontend)
	defer v1Frontends.Put(f)
	if len(segments) == 0 {
		servers[base] = buildV1Frontend(s, o, frag, base, root.decode(f), &p)
	} else {
		names := make([]string, 0, len(segments))
		for n := range segments {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, seg := range names {
			name := segmentName(s, seg)
			servers[name] = buildV1Frontend(s, o, frag, name, segments[seg].over(root).decode(f), &p)
		}
	}
	if err := p.err(); err != nil {
		return nil, nil, p.dropped, err
	}
	return frag.toMap(), servers, p.dropped, nil
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
}

// buildV1Frontend adds the router, service and middlewares of f to frag
// and returns the number of servers.
func buildV1Frontend(s *rancher.Service, o Options, frag *httpFragment, name string, f *v1Frontend, p *problems) int {
	b := &v1Builder{s: s, o: o, f: f, p: p, name: name, frag: frag, r: router{service: name}}
	port, scheme := b.portAndScheme()
	b.routing()
	// Error pages and rate limits come first, then redirects, auth, the
	// allow list, headers, the rule's path modifiers (they change what the
	// backend sees), and the backend's own options last.
	b.frontMore()
	b.redirects()
	b.auth()
	b.allowList()
	b.headers()
	if rule, ok := read(p, f.rule); ok {
		for _, m := range rule.middlewares {
			b.use(m)
		}
	}
	b.backMore()
	b.sticky()
	b.healthCheck()
	b.acme()
	b.r.applyDefaults(o)
	b.servers(scheme, port)
	frag.routers = append(frag.routers, namedRouter{name, b.r, b.lb})
	return len(b.lb.servers)
}

// use adds a middleware to the router, named for its kind.
func (b *v1Builder) use(m middleware) {
	name := b.name + "-" + strings.ToLower(m.kind())
	b.frag.middlewares = append(b.frag.middlewares, namedMiddleware{name, m})
	b.r.middlewares = append(b.r.middlewares, name)
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
func (b *v1Builder) routing() {
	if b.f.rule.label != "" {
		if rule, ok := read(b.p, b.f.rule); ok {
			b.r.rule = rule.matcher
		}
	} else {
		var err error
		b.r.rule, err = defaultRule(b.s, b.o.Domain)
		b.p.add(err)
	}
	if eps, ok := read(b.p, b.f.entryPoints); ok {
		b.r.entryPoints = eps
	}
	if prio, ok := read(b.p, b.f.priority); ok {
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
		b.use(redirectTo(ep, permanent, b.o))
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
	for _, v := range b.f.headers {
		if set, ok := read(b.p, v); ok {
			set(&h)
		}
	}
	b.use(h)
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
		b.lb.servers[i] = server{url: scheme + "://" + hostPort(a, port)}
		if hasWeight {
			b.lb.servers[i].weight = some(weight)
		}
	}
}
