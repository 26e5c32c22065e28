package routes

import (
	"net"
	"sort"
	"strconv"
	"strings"
)

// Building the middlewares and service options of v1More's labels. Each
// reads its labels through read, so that a bad one is reported (and
// dropped, or the service left out, as its error says).

// useNamed adds a middleware named for its kind and a name of the user's
// (one per error page, one per rate set).
func (b *v1Builder) useNamed(m middleware, name string) string {
	mw := subName(subName(b.name, strings.ToLower(m.kind())), name)
	b.frag.middlewares = append(b.frag.middlewares, namedMiddleware{mw, m})
	b.r.middlewares = append(b.r.middlewares, mw)
	return mw
}

// errorPages adds an errors middleware per traefik.frontend.errors.<name>
// (Traefik v1.7 provider/label/segment.go, ParseErrorPages): statuses,
// the backend that serves the page (see v1Backends), and its path.
func (b *v1Builder) errorPages(x *v1More) {
	names := make([]string, 0, len(x.errorPages))
	for n := range x.errorPages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pg := x.errorPages[n]
		status, okStatus := read(b.p, pg.status)
		backend, okBackend := read(b.p, pg.backend)
		query, okQuery := read(b.p, pg.query)
		if !okStatus || !okBackend {
			b.dropPage(pg)
			continue
		}
		target, found := b.o.backends.find(backend)
		if !found {
			b.p.drop(pg.backend.label, "no published service has the Traefik v1 backend this names: the error page is dropped")
			continue
		}
		m := errorPage{status: status, service: target}
		if okQuery {
			m.query = query
		}
		mw := b.useNamed(m, n)
		b.pages = append(b.pages, errorPageRef{stack: b.s.Stack, service: b.s.Name, label: pg.backend.label, middleware: mw, target: target})
	}
}

// dropPage warns about the labels of an error page that lacks its status
// or its backend label (a bad value of either is reported by read).
func (b *v1Builder) dropPage(pg *v1ErrorPage) {
	if pg.status.label != "" && pg.backend.label != "" {
		return
	}
	for _, l := range []string{pg.status.label, pg.backend.label, pg.query.label} {
		if l != "" {
			b.p.drop(l, "an error page needs both its status and its backend labels: dropped")
		}
	}
}

// rateLimits adds a rateLimit middleware per rate set: v3 has one rate a
// middleware, and v1.7 applied every rate set of a frontend (a request
// must pass each), which a chain does too. Like v1.7 (label.GetRateLimit),
// rate sets need traefik.frontend.rateLimit.extractorFunc.
func (b *v1Builder) rateLimits(x *v1More) {
	source, okSource := read(b.p, x.rateExtractor)
	names := make([]string, 0, len(x.rateSets))
	for n := range x.rateSets {
		names = append(names, n)
	}
	sort.Strings(names)
	if okSource && len(names) == 0 {
		b.p.drop(x.rateExtractor.label, "no rate set (traefik.frontend.rateLimit.rateSet.<name>.*) to apply it to: ignored")
	}
	for _, n := range names {
		rs := x.rateSets[n]
		m := rateLimit{source: source}
		labels := []string{rs.period.label, rs.average.label, rs.burst.label}
		if p, ok := read(b.p, rs.period); ok {
			m.period = some(p)
		}
		if a, ok := read(b.p, rs.average); ok {
			m.average = some(a)
		}
		if bu, ok := read(b.p, rs.burst); ok {
			m.burst = some(bu)
		}
		if !okSource {
			why := "a rate set needs traefik.frontend.rateLimit.extractorFunc (Traefik v1.7 ignored it without): dropped"
			if x.rateExtractor.label != "" {
				why = "dropped with the rate limit's extractorFunc"
			}
			for _, l := range labels {
				if l != "" {
					b.p.drop(l, "%s", why)
				}
			}
			continue
		}
		if m.period.set || m.average.set || m.burst.set {
			b.useNamed(m, n)
		}
	}
}

// passTLSClientCert adds the client certificate headers:
// passTLSClientCert.* or the deprecated passTLSCert (Traefik v1.7 turned
// it into pem = true).
func (b *v1Builder) passTLSClientCert(x *v1More) {
	var m passTLSClientCert
	for _, v := range x.clientCert {
		if set, ok := read(b.p, v); ok {
			set(&m)
		}
	}
	if on, ok := read(b.p, x.passTLSCert); ok && !m.pem.set {
		m.pem = some(on)
	}
	if len(m.settings()) > 0 {
		b.use(m)
	}
}

// backendMiddlewares are v1.7's backend options that v3 has as
// middlewares: they come last, next to the service, where v1.7 applied
// them (circuit breaker, connection limit, buffering).
func (b *v1Builder) backendMiddlewares(x *v1More) {
	if amount, ok := read(b.p, x.maxConnAmount); ok {
		// v1.7's default extractor is request.host
		// (label.DefaultBackendMaxconnExtractorFunc).
		source := sourceCriterion{requestHost: true}
		if x.maxConnExtractor.label != "" {
			source, ok = read(b.p, x.maxConnExtractor)
		}
		if ok {
			b.use(inFlightReq{amount: amount, source: source})
		} else {
			b.p.drop(x.maxConnAmount.label, "dropped with its extractorfunc")
		}
	} else if x.maxConnExtractor.label != "" && x.maxConnAmount.label == "" {
		b.p.drop(x.maxConnExtractor.label, "needs traefik.backend.maxconn.amount (Traefik v1.7 ignored it without): ignored")
	}
	if expr, ok := read(b.p, x.circuitBreaker); ok {
		b.use(circuitBreaker{expression: expr})
	}
	if len(x.buffering) > 0 {
		var m buffering
		for _, v := range x.buffering {
			if set, ok := read(b.p, v); ok {
				set(&m)
			}
		}
		if len(m.settings()) > 0 {
			b.use(m)
		}
	}
}

// forwardAuth is traefik.frontend.auth.forward.*, used when neither basic
// nor digest auth is (Traefik v1.7's label.GetAuth: basic, else digest,
// else forward). Forward auth guards access: its bad labels leave the
// service out.
func (b *v1Builder) forwardAuth(x *v1More, userAuth bool) {
	labels := forwardLabels(x)
	if len(labels) == 0 {
		return
	}
	if userAuth {
		for _, l := range labels {
			b.p.drop(l, "basic or digest auth is set, and wins over forward auth (as in Traefik v1.7): ignored")
		}
		return
	}
	if x.forwardCAOpt.label != "" {
		read(b.p, x.forwardCAOpt)
		b.p.drop(x.forwardCAOpt.label, "has no effect on a client connection (in Traefik v1.7 neither), and Traefik v3 dropped it: ignored")
	}
	if x.forwardAddress.label == "" {
		b.p.add(errLabel(labels[0], "forward auth needs traefik.frontend.auth.forward.address"))
		return
	}
	address, ok := read(b.p, x.forwardAddress)
	m := forwardAuth{address: address}
	for _, v := range x.forward {
		if set, good := read(b.p, v); good {
			set(&m)
		} else {
			ok = false
		}
	}
	if ok {
		b.use(m)
	}
}

// forwardLabels are the forward auth labels set, address first.
func forwardLabels(x *v1More) []string {
	var ls []string
	if x.forwardAddress.label != "" {
		ls = append(ls, x.forwardAddress.label)
	}
	for _, v := range x.forward {
		ls = append(ls, v.label)
	}
	if x.forwardCAOpt.label != "" {
		ls = append(ls, x.forwardCAOpt.label)
	}
	return ls
}

// frontMore adds the frontend options of v1More that come first: error
// pages outermost (they catch what every later middleware answers), rate
// limits, client certificate headers.
func (b *v1Builder) frontMore() {
	if x := b.f.x; x != nil {
		b.errorPages(x)
		b.rateLimits(x)
		b.passTLSClientCert(x)
	}
}

// backMore adds the backend options of v1More: middlewares next to the
// service, and the load balancer's response forwarding.
func (b *v1Builder) backMore() {
	x := b.f.x
	if x == nil {
		return
	}
	b.backendMiddlewares(x)
	if d, ok := read(b.p, x.flushInterval); ok {
		b.lb.flushInterval = some(d)
	}
	if x.useXFF.label != "" && b.f.whiteList.label == "" && b.f.whiteListOld.label == "" {
		read(b.p, x.useXFF)
		b.p.drop(x.useXFF.label, "there is no traefik.frontend.whiteList.sourceRange for it to apply to: ignored")
	}
}

// moreHealthCheck adds the health check's scheme, hostname and headers.
// Like Traefik v1.7 (label.GetHealthCheck returned none without a path),
// options without a path are dropped, each with a warning.
func (b *v1Builder) moreHealthCheck(hc *healthCheck) {
	if x := b.f.x; x != nil && len(x.healthCheck) > 0 {
		*hc = withHealthOptions(*hc, x.healthCheck, b.p)
	}
	if hc.empty() || b.f.hcPath.label != "" {
		return
	}
	*hc = healthCheck{}
	for _, l := range b.healthOptionLabels() {
		b.p.drop(l, "a health check needs traefik.backend.healthcheck.path (Traefik v1.7 ignored its options without): ignored")
	}
}

// healthOptionLabels are the health check labels set besides the path.
func (b *v1Builder) healthOptionLabels() []string {
	var ls []string
	for _, l := range []string{b.f.hcInterval.label, b.f.hcPort.label} {
		if l != "" {
			ls = append(ls, l)
		}
	}
	if x := b.f.x; x != nil {
		for _, v := range x.healthCheck {
			ls = append(ls, v.label)
		}
	}
	return ls
}

// sslRedirect redirects to HTTPS (headers.SSLRedirect, or
// SSLTemporaryRedirect when not permanent). Traefik v3 no longer redirects
// from the headers middleware (v3.6 reads sslRedirect, sslHost,
// sslForceHost and ignores them): a redirectScheme to https does it, or,
// with headers.SSLHost, a redirectRegex to https://<SSLHost> keeping the
// path and query, which is where v1.7's secure middleware sent a non-SSL
// request (unrolled/secure: url.Host = SSLHost).
func (b *v1Builder) sslRedirect(permanent bool) {
	x := b.f.x
	if x == nil || x.sslHost.label == "" {
		b.useRedirect(redirectTo("https", permanent, b.o))
		return
	}
	host, ok := read(b.p, x.sslHost)
	if !ok {
		b.useRedirect(redirectTo("https", permanent, b.o))
		return
	}
	b.use(redirectRegex{regex: `^http://[^/]*(.*)$`, replacement: "https://" + strings.ReplaceAll(sslHostPort(host, b.o), "$", "$$") + "$1", permanent: permanent})
}

// sslHostPort adds the public HTTPS port (TRAEFIK_HTTPS_PUBLIC_PORT) to an
// SSLHost that names none, so the redirect reaches our HTTPS entry point
// behind a port mapping, as every other redirect we generate does (issue
// 14 §3). v1.7 sent the client to SSLHost as written (unrolled/secure sets
// url.Host = SSLHost), which means 443 without a port: the same as here
// when the public port is 443. An SSLHost with its own port is kept.
func sslHostPort(host string, o Options) string {
	if o.HTTPSPort == 0 || o.HTTPSPort == 443 {
		return host
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), strconv.Itoa(o.HTTPSPort))
}

// sslHostOptions warns about SSLHost without a redirect to use it, and
// about SSLForceHost: v1.7 also redirected HTTPS requests for another host
// to SSLHost, which a v3 redirectRegex cannot say (it would need "any host
// but SSLHost", and Go's regexps have no negative lookahead).
func (b *v1Builder) sslHostOptions(redirected bool) {
	x := b.f.x
	if x == nil {
		return
	}
	if x.sslHost.label != "" && !redirected {
		read(b.p, x.sslHost)
		b.p.drop(x.sslHost.label, "names the host of SSLRedirect's redirects, and no SSLRedirect or SSLTemporaryRedirect is on: ignored")
	}
	if on, ok := read(b.p, x.sslForceHost); ok && on {
		b.p.drop(x.sslForceHost.label, "Traefik v3 cannot redirect HTTPS requests for other hosts to SSLHost: ignored")
	}
}

// xffDepth is the allow list's ipStrategy.depth for
// whiteList.useXForwardedFor=true: 1, the address the nearest proxy saw.
// Traefik v1.7 allowed a request when any address of X-Forwarded-For was
// in the ranges (whitelist/ip.go, IsAuthorized), which any client can
// forge; v3 has no such mode, and trusting the last hop only is its safe
// equivalent. v1.7 read useXForwardedFor with whiteList.sourceRange only,
// not with the deprecated whitelistSourceRange.
func (b *v1Builder) xffDepth(current bool) optional[int64] {
	x := b.f.x
	if x == nil || x.useXFF.label == "" {
		return optional[int64]{}
	}
	on, ok := read(b.p, x.useXFF)
	switch {
	case !current:
		b.p.drop(x.useXFF.label, "applies to traefik.frontend.whiteList.sourceRange, not to the deprecated whitelistSourceRange (as in Traefik v1.7): ignored")
	case ok && on:
		return some(int64(1))
	}
	return optional[int64]{}
}

// withHealthOptions is h with the options set. It works on a copy: the
// options' setters would otherwise move the whole builder to the heap, for
// every service.
func withHealthOptions(h healthCheck, opts []v1Value[func(*healthCheck)], p *problems) healthCheck {
	for _, v := range opts {
		if set, ok := read(p, v); ok {
			set(&h)
		}
	}
	return h
}
