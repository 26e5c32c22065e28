package routes

import "strconv"

// redirectTo is the redirectScheme middleware that a v1 redirect to scheme
// becomes (traefik.frontend.redirect.entryPoint,
// traefik.frontend.headers.SSLRedirect and SSLTemporaryRedirect).
//
// Traefik v3's redirectScheme keeps the host and drops the request's port
// unless it is given one (pkg/middlewares/redirect/redirect_scheme.go), and
// Traefik v1.7 redirected to the https entry point's own port: behind a port
// mapping (Docker's 8443:443) both send clients to a port they cannot reach.
// A redirect to https names the port clients reach HTTPS on instead. A
// redirect to http keeps Traefik's behaviour (the scheme's port, 80).
func redirectTo(scheme string, permanent bool, o Options) redirectScheme {
	m := redirectScheme{scheme: scheme, permanent: permanent}
	if scheme == "https" && o.HTTPSPort != 0 {
		m.port = strconv.Itoa(o.HTTPSPort)
	}
	return m
}
