package routes

// The typed Traefik v3 dynamic configuration that the v1 dialect builds:
// routers, services and middlewares with the fields rancher-traefik emits.
// Each type's toMap is the encoding boundary: it gives the TOML section
// (Traefik's own key names) that merge, the credential files and tomlenc
// work on. The v2 dialect's types are generated from Traefik's own
// (dynamic_gen.go, with the same optional and toMap); these are written
// by hand because the v1 labels mean more than Traefik's fields say (a
// featurePolicy sent as a header, a router and its service built as one).

// optional is a setting that is emitted only when a label set it.
type optional[T any] struct {
	val T
	set bool
}

func some[T any](v T) optional[T] { return optional[T]{val: v, set: true} }

// put adds o to m under key when it is set.
func put[T any](m map[string]any, key string, o optional[T]) {
	if o.set {
		m[key] = o.val
	}
}

// mapper is a generated type (dynamic_gen.go): its toMap is its TOML
// section.
type mapper interface{ toMap() map[string]any }

// namedList holds a service's named sections of one kind (its routers,
// its services, …) in the order labels named them: a service has a few,
// for which a slice is leaner and faster than a map.
type namedList[T any] []named[T]

// named is one named section.
type named[T any] struct {
	name string
	val  *T
}

// at returns the section named name, making it on first use.
func (l *namedList[T]) at(name string) *T {
	if v := l.get(name); v != nil {
		return v
	}
	v := new(T)
	*l = append(*l, named[T]{name, v})
	return v
}

// get returns the section named name, or nil.
func (l namedList[T]) get(name string) *T {
	for _, e := range l {
		if e.name == name {
			return e.val
		}
	}
	return nil
}

// only returns the name of the single section, if there is one.
func (l namedList[T]) only() (string, bool) {
	if len(l) != 1 {
		return "", false
	}
	return l[0].name, true
}

// keep leaves only the sections for which f reports true.
func (l *namedList[T]) keep(f func(name string, v *T) bool) {
	kept := (*l)[:0]
	for _, e := range *l {
		if f(e.name, e.val) {
			kept = append(kept, e)
		}
	}
	clear((*l)[len(kept):])
	*l = kept
}

// namedMaps gives named sections (routers, services, …) as TOML tables.
func namedMaps[T any, P interface {
	*T
	mapper
}](l namedList[T]) map[string]any {
	out := make(map[string]any, len(l))
	for _, e := range l {
		out[e.name] = P(e.val).toMap()
	}
	return out
}

// leafMap gives named settings (custom headers, …) as a TOML table.
func leafMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// structList gives a list of sections (servers, TLS domains) as TOML's
// array of tables.
func structList[T any, P interface {
	*T
	mapper
}](s []T) []map[string]any {
	out := make([]map[string]any, len(s))
	for i := range s {
		out[i] = P(&s[i]).toMap()
	}
	return out
}

// router is an HTTP router.
type router struct {
	rule         string
	service      string
	entryPoints  []string
	priority     optional[int64]
	middlewares  []string
	tls          bool
	certResolver string // with tls
}

func (r *router) toMap() map[string]any {
	m := make(map[string]any, 6)
	m["rule"] = r.rule
	m["service"] = r.service
	m["entryPoints"] = r.entryPoints
	put(m, "priority", r.priority)
	if len(r.middlewares) > 0 {
		m["middlewares"] = r.middlewares
	}
	if r.tls {
		tls := map[string]any{}
		if r.certResolver != "" {
			tls["certResolver"] = r.certResolver
		}
		m["tls"] = tls
	}
	return m
}

// applyDefaults fills entry points and TLS the way the options say: the
// https entry point (or http without HTTPS), and TLS on https.
func (r *router) applyDefaults(o Options) {
	if len(r.entryPoints) == 0 {
		r.entryPoints = []string{"http"}
		if o.HTTPS {
			r.entryPoints = []string{"https"}
		}
	}
	for _, ep := range r.entryPoints {
		if ep == "https" {
			r.tls = true
		}
	}
}

// server is one server of a load balancer.
type server struct {
	url    string
	weight optional[int64]
}

// healthCheck is a load balancer's health check.
type healthCheck struct {
	path     optional[string]
	interval optional[string]
	port     optional[int64]
	scheme   optional[string]
	hostname optional[string]
	headers  optional[map[string]any]
}

func (h healthCheck) empty() bool {
	return !h.path.set && !h.interval.set && !h.port.set && !h.scheme.set && !h.hostname.set && !h.headers.set
}

// loadBalancer is an HTTP service's load balancer.
type loadBalancer struct {
	servers        []server
	passHostHeader optional[bool]
	sticky         bool
	cookieName     string // with sticky; "" is Traefik's default
	healthCheck    healthCheck
	flushInterval  optional[string] // responseForwarding
}

func (lb *loadBalancer) toMap() map[string]any {
	m := make(map[string]any, 4)
	list := make([]map[string]any, len(lb.servers))
	for i, s := range lb.servers {
		srv := make(map[string]any, 2)
		srv["url"] = s.url
		put(srv, "weight", s.weight)
		list[i] = srv
	}
	m["servers"] = list
	put(m, "passHostHeader", lb.passHostHeader)
	if lb.sticky {
		cookie := map[string]any{}
		if lb.cookieName != "" {
			cookie["name"] = lb.cookieName
		}
		m["sticky"] = map[string]any{"cookie": cookie}
	}
	if !lb.healthCheck.empty() {
		hc := map[string]any{}
		put(hc, "path", lb.healthCheck.path)
		put(hc, "interval", lb.healthCheck.interval)
		put(hc, "port", lb.healthCheck.port)
		put(hc, "scheme", lb.healthCheck.scheme)
		put(hc, "hostname", lb.healthCheck.hostname)
		put(hc, "headers", lb.healthCheck.headers)
		m["healthCheck"] = hc
	}
	if lb.flushInterval.set {
		m["responseForwarding"] = map[string]any{"flushInterval": lb.flushInterval.val}
	}
	return m
}

// middleware is one middleware's typed settings.
type middleware interface {
	kind() string             // the TOML section: stripPrefix, headers, …
	settings() map[string]any // its options, by Traefik's names
}

type stripPrefix struct{ prefixes []string }

func (stripPrefix) kind() string               { return "stripPrefix" }
func (m stripPrefix) settings() map[string]any { return map[string]any{"prefixes": m.prefixes} }

type stripPrefixRegex struct{ regex []string }

func (stripPrefixRegex) kind() string               { return "stripPrefixRegex" }
func (m stripPrefixRegex) settings() map[string]any { return map[string]any{"regex": m.regex} }

type addPrefix struct{ prefix string }

func (addPrefix) kind() string               { return "addPrefix" }
func (m addPrefix) settings() map[string]any { return map[string]any{"prefix": m.prefix} }

type replacePath struct{ path string }

func (replacePath) kind() string               { return "replacePath" }
func (m replacePath) settings() map[string]any { return map[string]any{"path": m.path} }

type replacePathRegex struct{ regex, replacement string }

func (replacePathRegex) kind() string { return "replacePathRegex" }
func (m replacePathRegex) settings() map[string]any {
	return map[string]any{"regex": m.regex, "replacement": m.replacement}
}

type redirectScheme struct {
	scheme    string
	permanent bool
	port      string // "" leaves the port out
}

func (redirectScheme) kind() string { return "redirectScheme" }
func (m redirectScheme) settings() map[string]any {
	s := map[string]any{"scheme": m.scheme, "permanent": m.permanent}
	if m.port != "" {
		s["port"] = m.port
	}
	return s
}

type redirectRegex struct {
	regex, replacement string
	permanent          bool
}

func (redirectRegex) kind() string { return "redirectRegex" }
func (m redirectRegex) settings() map[string]any {
	return map[string]any{"regex": m.regex, "replacement": m.replacement, "permanent": m.permanent}
}

// userAuth is a basicAuth or digestAuth middleware.
type userAuth struct {
	digest       bool
	users        []string // when usersFile is ""
	usersFile    string
	removeHeader optional[bool]
	headerField  string
	realm        optional[string] // basic only
}

func (m userAuth) kind() string {
	if m.digest {
		return "digestAuth"
	}
	return "basicAuth"
}

func (m userAuth) settings() map[string]any {
	s := map[string]any{}
	if m.usersFile != "" {
		s["usersFile"] = m.usersFile
	} else {
		s["users"] = m.users // extractCredentials moves them to a file
	}
	put(s, "removeHeader", m.removeHeader)
	if m.headerField != "" {
		s["headerField"] = m.headerField
	}
	put(s, "realm", m.realm)
	return s
}

// ipAllowList is the allow list; depth, when set, takes the client's
// address from X-Forwarded-For (ipStrategy.depth).
type ipAllowList struct {
	sourceRange []string
	depth       optional[int64]
}

func (ipAllowList) kind() string { return "ipAllowList" }
func (m ipAllowList) settings() map[string]any {
	s := map[string]any{"sourceRange": m.sourceRange}
	if m.depth.set {
		s["ipStrategy"] = map[string]any{"depth": m.depth.val}
	}
	return s
}

// headers is the headers middleware, with the options the v1
// traefik.frontend.headers.* labels set.
type headers struct {
	stsSeconds              optional[int64]
	stsIncludeSubdomains    optional[bool]
	stsPreload              optional[bool]
	forceSTSHeader          optional[bool]
	frameDeny               optional[bool]
	customFrameOptionsValue optional[string]
	contentTypeNosniff      optional[bool]
	browserXSSFilter        optional[bool]
	customBrowserXSSValue   optional[string]
	contentSecurityPolicy   optional[string]
	publicKey               optional[string]
	referrerPolicy          optional[string]
	isDevelopment           optional[bool]
	allowedHosts            optional[[]string]
	hostsProxyHeaders       optional[[]string]
	customRequestHeaders    optional[map[string]any]
	customResponseHeaders   optional[map[string]any]
	sslProxyHeaders         optional[map[string]any]
	// featurePolicy is sent as the Feature-Policy response header: Traefik
	// v3 still parses headers.featurePolicy but no longer sends it
	// (pkg/middlewares/headers/secure.go of v3.6 passes PermissionsPolicy
	// only), and Permissions-Policy has another syntax.
	featurePolicy optional[string]
}

func (headers) kind() string { return "headers" }

// hasEffect reports whether h sets anything Traefik v3 counts: a headers
// middleware without (isDevelopment=false alone, frameDeny=false, …) is
// refused ("headers configuration not valid", pkg/middlewares/headers of
// v3.6: HasSecureHeadersDefined, HasCustomHeadersDefined), which disables
// every router using it. Such options mean what their absence means.
func (h headers) hasEffect() bool {
	return h.stsSeconds.val != 0 || h.stsIncludeSubdomains.val || h.stsPreload.val ||
		h.forceSTSHeader.val || h.frameDeny.val || h.customFrameOptionsValue.val != "" ||
		h.contentTypeNosniff.val || h.browserXSSFilter.val || h.customBrowserXSSValue.val != "" ||
		h.contentSecurityPolicy.val != "" || h.publicKey.val != "" || h.referrerPolicy.val != "" ||
		h.isDevelopment.val || len(h.allowedHosts.val) != 0 || len(h.hostsProxyHeaders.val) != 0 ||
		len(h.customRequestHeaders.val) != 0 || len(h.customResponseHeaders.val) != 0 ||
		len(h.sslProxyHeaders.val) != 0 || h.featurePolicy.val != ""
}
func (h headers) settings() map[string]any {
	m := map[string]any{}
	put(m, "stsSeconds", h.stsSeconds)
	put(m, "stsIncludeSubdomains", h.stsIncludeSubdomains)
	put(m, "stsPreload", h.stsPreload)
	put(m, "forceSTSHeader", h.forceSTSHeader)
	put(m, "frameDeny", h.frameDeny)
	put(m, "customFrameOptionsValue", h.customFrameOptionsValue)
	put(m, "contentTypeNosniff", h.contentTypeNosniff)
	put(m, "browserXssFilter", h.browserXSSFilter)
	put(m, "customBrowserXSSValue", h.customBrowserXSSValue)
	put(m, "contentSecurityPolicy", h.contentSecurityPolicy)
	put(m, "publicKey", h.publicKey)
	put(m, "referrerPolicy", h.referrerPolicy)
	put(m, "isDevelopment", h.isDevelopment)
	put(m, "allowedHosts", h.allowedHosts)
	put(m, "hostsProxyHeaders", h.hostsProxyHeaders)
	put(m, "customRequestHeaders", h.customRequestHeaders)
	put(m, "customResponseHeaders", h.customResponseHeaders)
	if h.featurePolicy.set {
		rh := map[string]any{"Feature-Policy": h.featurePolicy.val}
		for k, v := range h.customResponseHeaders.val {
			rh[k] = v
		}
		m["customResponseHeaders"] = rh
	}
	put(m, "sslProxyHeaders", h.sslProxyHeaders)
	return m
}

// namedMiddleware is a middleware with its name in the configuration.
type namedMiddleware struct {
	name string
	mw   middleware
}

// httpFragment is what one service adds to the HTTP configuration: its
// routers and services, each under its name, and its middlewares in the
// order the routers use them (a later one of the same name wins).
type httpFragment struct {
	routers     []namedRouter
	middlewares []namedMiddleware
}

// namedRouter is a router and the load balancer of its service, both
// under one name.
type namedRouter struct {
	name string
	r    router
	lb   loadBalancer
	twin bool // the router shares the service of the one before it: no service of its own
}

// fragment gives the service's items: its routers, the services of those
// that are not twins, its middlewares (a later one of a name replacing an
// earlier, as in a map).
func (f *httpFragment) fragment() *fragment {
	out := &fragment{items: make([]fragItem, 0, 2*len(f.routers)+len(f.middlewares))}
	for i := range f.routers {
		nr := &f.routers[i]
		out.add("http", "routers", nr.name, nr.r.toMap())
		if !nr.twin {
			out.add("http", "services", nr.name, map[string]any{"loadBalancer": nr.lb.toMap()})
		}
	}
	for _, m := range f.middlewares {
		out.add("http", "middlewares", m.name, map[string]any{m.mw.kind(): m.mw.settings()})
	}
	return out
}
