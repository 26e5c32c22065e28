package routes

import (
	"fmt"
	"slices"
	"strings"
)

// entryPointTLS reports whether the entry point name exists, and whether
// it serves TLS: http always, https unless TRAEFIK_HTTPS_ENABLE=false.
func (o Options) entryPointTLS(name string) (tls, exists bool) {
	switch name {
	case "http":
		return false, true
	case "https":
		return true, o.HTTPS
	}
	return false, false
}

// routers are the frontend's routers: one, or one per TLS mode when
// traefik.frontend.entryPoints names entry points of both (http,https),
// the one on TLS entry points first.
//
// Traefik v1.7 served a frontend on each of its entry points, with or
// without TLS as the entry point was; a Traefik v3 router with TLS serves
// only TLS requests, so one router on http and https would leave HTTP
// answering 404, and a redirect from http never firing. Like v1.7
// (server/server_configuration.go, configureFrontends), an entry point
// that does not exist is left out with a warning, and a frontend left with
// none is not served (here: the service is left out, with the label named).
// A redirect to an entry point is not applied on it (v1.7's
// server_middlewares.go: entryPointName != frontend.Redirect.EntryPoint).
func (b *v1Builder) routers() []router {
	if b.f.entryPoints.label == "" || b.r.entryPoints == nil {
		b.r.applyDefaults(b.o)
		b.out[0] = b.r
		return b.out[:1]
	}
	var plain, secure, missing []string
	for _, ep := range b.r.entryPoints {
		switch tls, ok := b.o.entryPointTLS(ep); {
		case !ok:
			missing = append(missing, ep)
		case tls:
			secure = append(secure, ep)
		default:
			plain = append(plain, ep)
		}
	}
	label := b.f.entryPoints.label
	switch {
	case len(plain) == 0 && len(secure) == 0:
		b.p.add(errLabel(label, "names no entry point that exists: %s", missingEntryPoints(missing, b.o)))
		return nil
	case len(missing) > 0:
		b.p.add(errDrop(label, "%s: left out, the others kept", missingEntryPoints(missing, b.o)))
	}
	switch {
	case len(plain) == 0 || len(secure) == 0:
		r := b.r
		r.entryPoints = append(plain, secure...)
		r.tls = r.tls || len(secure) > 0
		b.out[0] = r
		return b.out[:1]
	}
	tlsR, plainR := b.r, b.r
	tlsR.entryPoints, tlsR.tls = secure, true
	tlsR.middlewares = b.withoutRedirects(true)
	plainR.entryPoints, plainR.tls, plainR.certResolver = plain, false, ""
	plainR.middlewares = b.withoutRedirects(false)
	b.out[0], b.out[1] = tlsR, plainR
	return b.out[:2]
}

// withoutRedirects is the router's middlewares without its redirects to a
// TLS entry point (tls) or to a plain one.
func (b *v1Builder) withoutRedirects(tls bool) []string {
	return slices.DeleteFunc(slices.Clone(b.r.middlewares), func(m string) bool {
		to, ok := b.toTLS[m]
		return ok && to == tls
	})
}

// missingEntryPoints says which entry points do not exist, and why.
func missingEntryPoints(missing []string, o Options) string {
	why := "the entry points are http and https"
	if !o.HTTPS {
		why = "the entry point is http: TRAEFIK_HTTPS_ENABLE=false"
	}
	return fmt.Sprintf("entry point %s does not exist (%s)", strings.Join(missing, ", "), why)
}
