package routes

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// v1Label is one row of Traefik v1.7's label table for the Rancher backend
// (docs/configuration/backends/rancher.md of v1.7, "On services" and
// "Security Headers"): the key after traefik. or traefik.<segment>. in
// lower case, the row's documentation, and the handler that decodes the
// value into the frontend.
type v1Label struct {
	key      string
	doc      string
	rootOnly bool                                     // read elsewhere, and never in a segment
	decode   func(f *v1Frontend, label, value string) // nil: accepted and not translated
}

// v1Labels are the Traefik v1.7 labels rancher-traefik reads. A label not
// in the table leaves its service out with a warning.
var v1Labels = []v1Label{
	{key: "enable", doc: "Disables this container in Traefik (traefik.enable=false).", rootOnly: true},
	{key: "tags", doc: "Tags matched by the backend's constraints (tag==NAME).", rootOnly: true},
	{key: "domain", doc: "Sets the default domain for the frontend rules.", rootOnly: true},
	{key: "docker.network", doc: "Docker's network to reach the container by (Rancher: the managed network).", rootOnly: true},
	{key: "port", doc: "Registers this port. Useful when the container exposes multiple ports.", decode: decodePort},
	{key: "protocol", doc: "Overrides the default http protocol.", decode: decodeProtocol},
	{key: "weight", doc: "Assigns this weight to the container.", decode: decodeWeight},
	{key: "backend", doc: "Gives the name foo to the generated backend for this container. (Names the backend for traefik.frontend.errors.<name>.backend; each service keeps its own servers.)"},
	{key: "acme", doc: "Enables or disables ACME for the frontend's domains.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.acme })},
	{key: "frontend.rule", doc: "Overrides the default frontend rule. Default: Host:{service}.{stack}.{domain}.", decode: decodeRule},
	{key: "frontend.entrypoints", doc: "Assigns this frontend to entry points http and https. Overrides defaultEntryPoints.", decode: decodeEntryPoints},
	{key: "frontend.priority", doc: "Overrides default frontend priority.", decode: decodePriority},
	{key: "frontend.middlewares", doc: "rancher-traefik: Traefik v3 middlewares (defined by traefik.http.middlewares.* labels or elsewhere) this frontend's router uses, in order, after its own.", decode: decodeMiddlewares},
	{key: "frontend.passhostheader", doc: "Forwards client Host header to the backend.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.passHostHeader })},
	{key: "frontend.redirect.entrypoint", doc: "Enables Redirect to another entryPoint to this frontend (e.g. HTTPS).", decode: decodeRedirectEntryPoint},
	{key: "frontend.redirect.regex", doc: "Redirects to another URL to this frontend. Must be set with traefik.frontend.redirect.replacement.", decode: decodeRedirectRegex},
	{key: "frontend.redirect.replacement", doc: "Redirects to another URL to this frontend. Must be set with traefik.frontend.redirect.regex.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.redirectReplacement })},
	{key: "frontend.redirect.permanent", doc: "Returns 301 instead of 302.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.redirectPermanent })},
	{key: "frontend.auth.basic", doc: "Sets the basic authentication to this frontend in CSV format: User:Hash,User:Hash (deprecated).", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.basicLegacy })},
	{key: "frontend.auth.basic.users", doc: "Sets the basic authentication to this frontend in CSV format: User:Hash,User:Hash.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.basicUsers })},
	{key: "frontend.auth.basic.usersfile", doc: "Sets the basic authentication with an external file.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.basicFile })},
	{key: "frontend.auth.basic.removeheader", doc: "If set to true, removes the Authorization header.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.auth.basicRemoveHeader })},
	{key: "frontend.auth.basic.realm", doc: "Sets the realm of the basic authentication.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.realm })},
	{key: "frontend.auth.digest.users", doc: "Sets the digest authentication to this frontend in CSV format: User:Realm:Hash,User:Realm:Hash.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.digestUsers })},
	{key: "frontend.auth.digest.usersfile", doc: "Sets the digest authentication with an external file.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.digestFile })},
	{key: "frontend.auth.digest.removeheader", doc: "If set to true, removes the Authorization header.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.auth.digestRemoveHeader })},
	{key: "frontend.auth.headerfield", doc: "Sets the header used to pass the authenticated user to the application.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.auth.headerField })},
	{key: "frontend.auth.removeheader", doc: "If set to true, removes the Authorization header (basic or digest).", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.auth.removeHeader })},
	{key: "frontend.whitelist.sourcerange", doc: "Sets a list of IP-Ranges which are allowed to access.", decode: decodeSourceRange(func(f *v1Frontend) *v1Value[[]string] { return &f.whiteList })},
	{key: "frontend.whitelistsourcerange", doc: "Sets a list of IP-Ranges which are allowed to access (deprecated name).", decode: decodeSourceRange(func(f *v1Frontend) *v1Value[[]string] { return &f.whiteListOld })},
	{key: "frontend.headers.sslredirect", doc: "Forces the frontend to redirect to SSL if a non-SSL request is sent.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.sslRedirect })},
	{key: "frontend.headers.ssltemporaryredirect", doc: "Forces the frontend to redirect to SSL if a non-SSL request is sent, but by sending a 302 instead of a 301.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.sslTemporaryRedirect })},
	{key: "frontend.headers.stsseconds", doc: "Sets the max-age of the STS header.", decode: header(kindInt, func(h *headers, v any) { h.stsSeconds = some(v.(int64)) })},
	{key: "frontend.headers.stsincludesubdomains", doc: "Adds the IncludeSubdomains section of the STS header.", decode: header(kindBool, func(h *headers, v any) { h.stsIncludeSubdomains = some(v.(bool)) })},
	{key: "frontend.headers.stspreload", doc: "Adds the preload flag to the STS header.", decode: header(kindBool, func(h *headers, v any) { h.stsPreload = some(v.(bool)) })},
	{key: "frontend.headers.forcestsheader", doc: "Adds the STS header to non-SSL requests.", decode: header(kindBool, func(h *headers, v any) { h.forceSTSHeader = some(v.(bool)) })},
	{key: "frontend.headers.framedeny", doc: "Adds the X-Frame-Options header with the value of DENY.", decode: header(kindBool, func(h *headers, v any) { h.frameDeny = some(v.(bool)) })},
	{key: "frontend.headers.customframeoptionsvalue", doc: "Overrides the X-Frame-Options header with the custom value.", decode: header(kindString, func(h *headers, v any) { h.customFrameOptionsValue = some(v.(string)) })},
	{key: "frontend.headers.contenttypenosniff", doc: "Adds the X-Content-Type-Options header with the value nosniff.", decode: header(kindBool, func(h *headers, v any) { h.contentTypeNosniff = some(v.(bool)) })},
	{key: "frontend.headers.browserxssfilter", doc: "Adds the X-XSS-Protection header with the value 1; mode=block.", decode: header(kindBool, func(h *headers, v any) { h.browserXSSFilter = some(v.(bool)) })},
	{key: "frontend.headers.custombrowserxssvalue", doc: "Set custom value for X-XSS-Protection header. This overrides the BrowserXssFilter option.", decode: header(kindString, func(h *headers, v any) { h.customBrowserXSSValue = some(v.(string)) })},
	{key: "frontend.headers.contentsecuritypolicy", doc: "Adds CSP Header with the custom value.", decode: header(kindString, func(h *headers, v any) { h.contentSecurityPolicy = some(v.(string)) })},
	{key: "frontend.headers.publickey", doc: "Adds pinned HTST public key header.", decode: header(kindString, func(h *headers, v any) { h.publicKey = some(v.(string)) })},
	{key: "frontend.headers.referrerpolicy", doc: "Adds referrer policy header.", decode: header(kindString, func(h *headers, v any) { h.referrerPolicy = some(v.(string)) })},
	{key: "frontend.headers.isdevelopment", doc: "Causes the AllowedHosts, SSLRedirect, and STSSeconds/STSIncludeSubdomains options to be ignored during development.", decode: header(kindBool, func(h *headers, v any) { h.isDevelopment = some(v.(bool)) })},
	{key: "frontend.headers.allowedhosts", doc: "Provides a list of allowed hosts that requests will be processed. Format: Host1,Host2.", decode: header(kindList, func(h *headers, v any) { h.allowedHosts = some(v.([]string)) })},
	{key: "frontend.headers.hostsproxyheaders", doc: "Provides a list of headers that the proxied hostname may be stored. Format: HEADER1,HEADER2.", decode: header(kindList, func(h *headers, v any) { h.hostsProxyHeaders = some(v.([]string)) })},
	{key: "frontend.headers.customrequestheaders", doc: "Provides the container with custom request headers. Format: HEADER:value||HEADER2:value2.", decode: headerPairs(func(h *headers, m map[string]any) { h.customRequestHeaders = some(m) })},
	{key: "frontend.headers.customresponseheaders", doc: "Appends the headers to each response returned by the container. Format: HEADER:value||HEADER2:value2.", decode: headerPairs(func(h *headers, m map[string]any) { h.customResponseHeaders = some(m) })},
	{key: "backend.loadbalancer.method", doc: "Overrides the default wrr load balancer algorithm.", decode: decodeLBMethod},
	{key: "backend.loadbalancer.sticky", doc: "Enables backend sticky sessions (deprecated).", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.sticky })},
	{key: "backend.loadbalancer.stickiness", doc: "Enables backend sticky sessions.", decode: asBool(func(f *v1Frontend) *v1Value[bool] { return &f.stickiness })},
	{key: "backend.loadbalancer.stickiness.cookiename", doc: "Sets the cookie name manually for sticky sessions.", decode: asString(func(f *v1Frontend) *v1Value[string] { return &f.cookieName })},
	{key: "backend.healthcheck.path", doc: "Enables health check for the backend, hitting the container at path.", decode: decodeHealthPath},
	{key: "backend.healthcheck.interval", doc: "Defines the health check interval.", decode: decodeHealthInterval},
	{key: "backend.healthcheck.port", doc: "Sets a different port for the health check.", decode: decodeHealthPort},
	{key: "backend.healthcheck.scheme", doc: "Overrides the server URL scheme.", decode: decodeHealthScheme},
	{key: "backend.healthcheck.hostname", doc: "Defines the health check hostname.", decode: healthOption(kindString, func(h *healthCheck, v any) { h.hostname = some(v.(string)) })},
	{key: "backend.healthcheck.headers", doc: "Defines the health check request headers. Format: HEADER:value||HEADER2:value2.", decode: decodeHealthHeaders},
	{key: "backend.responseforwarding.flushinterval", doc: "Defines the interval between two flushes when forwarding response from backend to client.", decode: decodeFlushInterval},
	{key: "backend.circuitbreaker.expression", doc: "Creates a circuit breaker to be used against the backend.", decode: decodeCircuitBreaker},
	{key: "backend.maxconn.amount", doc: "Sets a maximum number of connections to the backend. Must be used in conjunction with the below label to take effect.", decode: decodeMaxConnAmount},
	{key: "backend.maxconn.extractorfunc", doc: "Sets the function to be used against the request to determine what to limit maximum connections to the backend by. Must be used in conjunction with the above label to take effect.", decode: decodeExtractor(func(m *v1More) *v1Value[sourceCriterion] { return &m.maxConnExtractor })},
	{key: "backend.buffering.maxrequestbodybytes", doc: "See buffering section.", decode: bufferingOption(kindUint, func(m *buffering, v any) { m.maxRequestBodyBytes = some(v.(int64)) })},
	{key: "backend.buffering.memrequestbodybytes", doc: "See buffering section.", decode: bufferingOption(kindUint, func(m *buffering, v any) { m.memRequestBodyBytes = some(v.(int64)) })},
	{key: "backend.buffering.maxresponsebodybytes", doc: "See buffering section.", decode: bufferingOption(kindUint, func(m *buffering, v any) { m.maxResponseBodyBytes = some(v.(int64)) })},
	{key: "backend.buffering.memresponsebodybytes", doc: "See buffering section.", decode: bufferingOption(kindUint, func(m *buffering, v any) { m.memResponseBodyBytes = some(v.(int64)) })},
	{key: "backend.buffering.retryexpression", doc: "See buffering section.", decode: bufferingOption(kindString, func(m *buffering, v any) { m.retryExpression = some(v.(string)) })},
	{key: "frontend.passtlscert", doc: "Forwards TLS Client certificates to the backend (deprecated: passTLSClientCert.pem).", decode: moreBool(func(m *v1More) *v1Value[bool] { return &m.passTLSCert })},
	{key: "frontend.passtlsclientcert.pem", doc: "Pass the escaped pem in the X-Forwarded-Tls-Client-Cert header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.pem = v })},
	{key: "frontend.passtlsclientcert.infos.notafter", doc: "Add NotAfter info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.notAfter = v })},
	{key: "frontend.passtlsclientcert.infos.notbefore", doc: "Add NotBefore info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.notBefore = v })},
	{key: "frontend.passtlsclientcert.infos.sans", doc: "Add Subject Alternative Name info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.sans = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.commonname", doc: "Add Issuer.CommonName info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.commonName = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.country", doc: "Add Issuer.Country info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.country = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.domaincomponent", doc: "Add Issuer.DomainComponent info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.domainComponent = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.locality", doc: "Add Issuer.Locality info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.locality = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.organization", doc: "Add Issuer.Organization info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.organization = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.province", doc: "Add Issuer.Province info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.province = v })},
	{key: "frontend.passtlsclientcert.infos.issuer.serialnumber", doc: "Add Issuer.SerialNumber info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.issuer.serialNumber = v })},
	{key: "frontend.passtlsclientcert.infos.subject.commonname", doc: "Add Subject.CommonName info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.commonName = v })},
	{key: "frontend.passtlsclientcert.infos.subject.country", doc: "Add Subject.Country info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.country = v })},
	{key: "frontend.passtlsclientcert.infos.subject.domaincomponent", doc: "Add Subject.DomainComponent info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.domainComponent = v })},
	{key: "frontend.passtlsclientcert.infos.subject.locality", doc: "Add Subject.Locality info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.locality = v })},
	{key: "frontend.passtlsclientcert.infos.subject.organization", doc: "Add Subject.Organization info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.organization = v })},
	{key: "frontend.passtlsclientcert.infos.subject.province", doc: "Add Subject.Province info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.province = v })},
	{key: "frontend.passtlsclientcert.infos.subject.serialnumber", doc: "Add Subject.SerialNumber info in the X-Forwarded-Tls-Client-Cert-Infos header.", decode: clientCertOption(func(c *passTLSClientCert, v optional[bool]) { c.subject.serialNumber = v })},
	{key: "frontend.errors.<name>.status", doc: "See custom error pages section: the statuses (404, 500-599).", decode: decodeErrorStatus},
	{key: "frontend.errors.<name>.backend", doc: "See custom error pages section: the backend that serves the page.", decode: decodeErrorBackend},
	{key: "frontend.errors.<name>.query", doc: "See custom error pages section: the page's path ({status} is the status).", decode: decodeErrorQuery},
	{key: "frontend.ratelimit.extractorfunc", doc: "See rate limiting section.", decode: decodeExtractor(func(m *v1More) *v1Value[sourceCriterion] { return &m.rateExtractor })},
	{key: "frontend.ratelimit.rateset.<name>.period", doc: "See rate limiting section.", decode: decodeRatePeriod},
	{key: "frontend.ratelimit.rateset.<name>.average", doc: "See rate limiting section.", decode: decodeRateInt(func(r *v1RateSet) *v1Value[int64] { return &r.average })},
	{key: "frontend.ratelimit.rateset.<name>.burst", doc: "See rate limiting section.", decode: decodeRateInt(func(r *v1RateSet) *v1Value[int64] { return &r.burst })},
	{key: "frontend.auth.forward.address", doc: "Sets the URL of the authentication server.", decode: decodeForwardAddress},
	{key: "frontend.auth.forward.authresponseheaders", doc: "Sets the forward headers to include in the upstream.", decode: forwardOption(kindList, func(m *forwardAuth, v any) { m.authResponseHeaders = v.([]string) })},
	{key: "frontend.auth.forward.trustforwardheader", doc: "Trusts X-Forwarded-* headers.", decode: forwardOption(kindBool, func(m *forwardAuth, v any) { m.trustForwardHeader = some(v.(bool)) })},
	{key: "frontend.auth.forward.tls.ca", doc: "Sets the Certificate Authority (CA) for the TLS connection with the authentication server.", decode: forwardOption(kindString, func(m *forwardAuth, v any) { m.tls.ca = some(v.(string)) })},
	{key: "frontend.auth.forward.tls.caoptional", doc: "Checks the certificates if present but do not force to be signed by a specified Certificate Authority (CA).", decode: moreBool(func(m *v1More) *v1Value[bool] { return &m.forwardCAOpt })},
	{key: "frontend.auth.forward.tls.cert", doc: "Sets the Certificate for the TLS connection with the authentication server.", decode: forwardOption(kindString, func(m *forwardAuth, v any) { m.tls.cert = some(v.(string)) })},
	{key: "frontend.auth.forward.tls.insecureskipverify", doc: "If set to true invalid SSL certificates are accepted.", decode: forwardOption(kindBool, func(m *forwardAuth, v any) { m.tls.insecureSkipVerify = some(v.(bool)) })},
	{key: "frontend.auth.forward.tls.key", doc: "Sets the Certificate for the TLS connection with the authentication server.", decode: forwardOption(kindString, func(m *forwardAuth, v any) { m.tls.key = some(v.(string)) })},
	{key: "frontend.whitelist.usexforwardedfor", doc: "Uses X-Forwarded-For header as valid source of IP for the white list.", decode: decodeUseXFF},
	{key: "frontend.headers.sslproxyheaders", doc: "Header combinations that would signify a proper SSL Request (Such as X-Forwarded-For:https). Format: HEADER:value||HEADER2:value2.", decode: decodeSSLProxyHeaders},
	{key: "frontend.headers.sslhost", doc: "This setting configures the hostname that redirects will be based on. Default is \"\", which is the same host as the request.", decode: moreString(func(m *v1More) *v1Value[string] { return &m.sslHost })},
	{key: "frontend.headers.sslforcehost", doc: "If SSLForceHost is true and SSLHost is set, requests will be forced to use SSLHost even the ones that are already using SSL.", decode: moreBool(func(m *v1More) *v1Value[bool] { return &m.sslForceHost })},
	{key: "frontend.headers.featurepolicy", doc: "Adds the Feature-Policy header with the custom value (a Traefik v2 option, not in v1.7's list).", decode: header(kindString, func(h *headers, v any) { h.featurePolicy = some(v.(string)) })},
}

// v1LabelIndex finds a row of v1Labels by key.
var v1LabelIndex = func() map[string]*v1Label {
	m := make(map[string]*v1Label, len(v1Labels))
	for i := range v1Labels {
		m[v1Labels[i].key] = &v1Labels[i]
	}
	return m
}()

// Generic handlers: a value of one kind into one field.

func asString(field func(*v1Frontend) *v1Value[string]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) { *field(f) = v1Value[string]{label: label, val: v} }
}

func asBool(field func(*v1Frontend) *v1Value[bool]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		b, err := convert(kindBool, v)
		if err != nil {
			*field(f) = v1Value[bool]{label: label, err: errLabel(label, "%v", err)}
			return
		}
		*field(f) = v1Value[bool]{label: label, val: b.(bool)}
	}
}

// header decodes a frontend.headers.* option of kind k into the headers
// middleware.
func header(k kind, set func(*headers, any)) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		if err := checkHeaderValue(label, v); err != nil {
			f.headers = append(f.headers, v1Value[func(*headers)]{label: label, err: err})
			return
		}
		val, err := convert(k, v)
		if err != nil {
			f.headers = append(f.headers, v1Value[func(*headers)]{label: label, err: errLabel(label, "%v", err)})
			return
		}
		f.headers = append(f.headers, v1Value[func(*headers)]{label: label, val: func(h *headers) { set(h, val) }})
	}
}

// headerPairs decodes Name:value||Name:value. Header values can be
// credentials: a bad pair is named by its number, never its text.
func headerPairs(set func(*headers, map[string]any)) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		m := map[string]any{}
		n := 0
		if err := checkHeaderValue(label, v); err != nil {
			f.headers = append(f.headers, v1Value[func(*headers)]{label: label, err: err})
			return
		}
		for pair := range strings.SplitSeq(v, "||") {
			n++
			hk, hv, ok := strings.Cut(pair, ":")
			if !ok || strings.TrimSpace(hk) == "" {
				f.headers = append(f.headers, v1Value[func(*headers)]{label: label, err: errLabel(label, "pair %d is not Name:value (pairs are joined by ||)", n)})
				return
			}
			if !validHeaderName(strings.TrimSpace(hk)) {
				f.headers = append(f.headers, v1Value[func(*headers)]{label: label, err: errDrop(label, "the name of pair %d is not an HTTP header name", n)})
				return
			}
			m[strings.TrimSpace(hk)] = strings.TrimSpace(hv)
		}
		f.headers = append(f.headers, v1Value[func(*headers)]{label: label, val: func(h *headers) { set(h, m) }})
	}
}

// Handlers of one label each.

func decodePort(f *v1Frontend, label, v string) {
	port, err := checkPort(label, v)
	f.port = v1Value[string]{label: label, val: port, err: err}
}

func decodeProtocol(f *v1Frontend, label, v string) {
	f.protocol = v1Value[string]{label: label}
	switch proto := strings.ToLower(strings.TrimSpace(v)); proto {
	case "http", "https", "h2c":
		f.protocol.val = proto
	default:
		f.protocol.err = errLabel(label, "%q is not http, https or h2c", v)
	}
}

func decodeWeight(f *v1Frontend, label, v string) {
	f.weight = v1Value[int64]{label: label}
	w, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || w < 0 {
		f.weight.err = errLabel(label, "%q is not a whole number ≥ 0", v)
		return
	}
	f.weight.val = int64(w)
}

func decodeRule(f *v1Frontend, label, v string) {
	r, err := translateV1Rule(v)
	if err != nil {
		f.rule = v1Value[*v1Rule]{label: label, err: errLabel(label, "%v", err)}
		return
	}
	f.rule = v1Value[*v1Rule]{label: label, val: r}
}

func decodeEntryPoints(f *v1Frontend, label, v string) {
	eps, _ := convert(kindList, v)
	f.entryPoints = v1Value[[]string]{label: label, val: eps.([]string)}
	if len(f.entryPoints.val) == 0 {
		f.entryPoints.err = errLabel(label, "names no entry point")
	}
}

// decodeMiddlewares reads a list of middleware names; name@rancher is
// name, as for v2 labels (what rancher-traefik publishes).
func decodeMiddlewares(f *v1Frontend, label, v string) {
	names, _ := convert(kindList, v)
	f.middlewares = v1Value[[]string]{label: label}
	for _, n := range names.([]string) {
		n = strings.TrimSuffix(n, "@rancher")
		if n == "" || strings.ContainsAny(n, "`\"' \t\r\n") || strings.Count(n, "@") > 1 {
			f.middlewares.err = errLabel(label, "%q is not a middleware name", n)
			return
		}
		f.middlewares.val = append(f.middlewares.val, n)
	}
	if len(f.middlewares.val) == 0 {
		f.middlewares.err = errLabel(label, "names no middleware")
	}
}

func decodeRedirectEntryPoint(f *v1Frontend, label, v string) {
	f.redirectEntryPoint = v1Value[string]{label: label}
	switch ep := strings.ToLower(strings.TrimSpace(v)); ep {
	case "https", "http":
		f.redirectEntryPoint.val = ep
	default:
		f.redirectEntryPoint.err = errLabel(label, "redirects to entry point %q: only http and https exist", v)
	}
}

func decodeRedirectRegex(f *v1Frontend, label, v string) {
	f.redirectRegex = v1Value[string]{label: label, val: v}
	if _, err := regexp.Compile(v); err != nil {
		f.redirectRegex.err = &labelError{label: label, err: err}
	}
}

func decodeSourceRange(field func(*v1Frontend) *v1Value[[]string]) func(*v1Frontend, string, string) {
	return func(f *v1Frontend, label, v string) {
		ranges, _ := convert(kindList, v)
		val := v1Value[[]string]{label: label, val: ranges.([]string)}
		for _, r := range val.val {
			if !validCIDR(r) {
				val.err = errLabel(label, "%q is not an IP address or CIDR range", r)
				break
			}
		}
		*field(f) = val
	}
}

// decodeLBMethod: Traefik v3 balances by weighted round robin only; v1.7
// fell back to wrr from a method it did not know (server.go,
// "Using default wrr").
func decodeLBMethod(f *v1Frontend, label, v string) {
	f.lbMethod = v1Value[string]{label: label, val: strings.ToLower(strings.TrimSpace(v))}
	switch f.lbMethod.val {
	case "wrr":
	case "drr":
		f.lbMethod.err = errDrop(label, "Traefik v3 has no drr (dynamic round robin) load balancer: its wrr is used")
	default:
		f.lbMethod.err = errDrop(label, "is not wrr or drr: wrr is used, as Traefik v1.7 did")
	}
}

func decodeHealthPath(f *v1Frontend, label, v string) {
	f.hcPath = v1Value[string]{label: label, val: v}
	if !strings.HasPrefix(v, "/") {
		f.hcPath.err = errLabel(label, "%q does not start with /", v)
	}
}

func decodeHealthInterval(f *v1Frontend, label, v string) {
	d, err := convert(kindDuration, v)
	if err != nil {
		f.hcInterval = v1Value[string]{label: label, err: &labelError{label: label, err: err}}
		return
	}
	f.hcInterval = v1Value[string]{label: label, val: d.(string)}
}

func decodeHealthPort(f *v1Frontend, label, v string) {
	hp, err := checkPort(label, v)
	n, _ := strconv.Atoi(hp)
	f.hcPort = v1Value[int64]{label: label, val: int64(n), err: err}
}

// validCIDR reports whether s is an IP address or a CIDR range, as
// traefik.frontend.whiteList.sourceRange takes them.
func validCIDR(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
