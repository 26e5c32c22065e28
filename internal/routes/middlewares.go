package routes

// The middlewares of Traefik v1.7's backend and frontend options that
// Traefik v3 has as middlewares of their own (circuit breaker, connection
// limit, buffering, client certificates, error pages, rate limits, forward
// auth), with the fields rancher-traefik emits.

// circuitBreaker trips on an expression (NetworkErrorRatio() > 0.5, …): v1's
// backend.circuitbreaker.expression, same syntax in v3.
type circuitBreaker struct{ expression string }

func (circuitBreaker) kind() string { return "circuitBreaker" }
func (m circuitBreaker) settings() map[string]any {
	return map[string]any{"expression": m.expression}
}

// sourceCriterion is what a limit counts by: v1's extractorFunc client.ip
// (the remote address), request.host, or request.header.<Name>.
type sourceCriterion struct {
	remoteAddr  bool
	requestHost bool
	header      string
}

func (c sourceCriterion) settings() map[string]any {
	switch {
	case c.requestHost:
		return map[string]any{"requestHost": true}
	case c.header != "":
		return map[string]any{"requestHeaderName": c.header}
	}
	// The remote address: an ipStrategy without depth or excluded IPs. An
	// empty ipStrategy table is refused by Traefik ("ipStrategy cannot be a
	// standalone element", which fails the whole file): depth 0 says it.
	return map[string]any{"ipStrategy": map[string]any{"depth": int64(0)}}
}

// inFlightReq limits simultaneous requests: v1's backend.maxconn.
type inFlightReq struct {
	amount int64
	source sourceCriterion
}

func (inFlightReq) kind() string { return "inFlightReq" }
func (m inFlightReq) settings() map[string]any {
	return map[string]any{"amount": m.amount, "sourceCriterion": m.source.settings()}
}

// buffering is v1's backend.buffering.*.
type buffering struct {
	maxRequestBodyBytes  optional[int64]
	memRequestBodyBytes  optional[int64]
	maxResponseBodyBytes optional[int64]
	memResponseBodyBytes optional[int64]
	retryExpression      optional[string]
}

func (buffering) kind() string { return "buffering" }
func (m buffering) settings() map[string]any {
	s := map[string]any{}
	put(s, "maxRequestBodyBytes", m.maxRequestBodyBytes)
	put(s, "memRequestBodyBytes", m.memRequestBodyBytes)
	put(s, "maxResponseBodyBytes", m.maxResponseBodyBytes)
	put(s, "memResponseBodyBytes", m.memResponseBodyBytes)
	put(s, "retryExpression", m.retryExpression)
	return s
}

// certDN is which parts of a certificate's subject or issuer to pass.
type certDN struct {
	commonName, country, domainComponent, locality, organization, province, serialNumber optional[bool]
}

func (d certDN) settings() map[string]any {
	s := map[string]any{}
	put(s, "commonName", d.commonName)
	put(s, "country", d.country)
	put(s, "domainComponent", d.domainComponent)
	put(s, "locality", d.locality)
	put(s, "organization", d.organization)
	put(s, "province", d.province)
	put(s, "serialNumber", d.serialNumber)
	return s
}

// passTLSClientCert is v1's frontend.passTLSClientCert.* (and the
// deprecated passTLSCert, which was pem alone).
type passTLSClientCert struct {
	pem                       optional[bool]
	notAfter, notBefore, sans optional[bool]
	subject, issuer           certDN
}

func (passTLSClientCert) kind() string { return "passTLSClientCert" }
func (m passTLSClientCert) settings() map[string]any {
	s := map[string]any{}
	put(s, "pem", m.pem)
	info := map[string]any{}
	put(info, "notAfter", m.notAfter)
	put(info, "notBefore", m.notBefore)
	put(info, "sans", m.sans)
	if dn := m.subject.settings(); len(dn) > 0 {
		info["subject"] = dn
	}
	if dn := m.issuer.settings(); len(dn) > 0 {
		info["issuer"] = dn
	}
	if len(info) > 0 {
		s["info"] = info
	}
	return s
}

// errorPage is one of v1's frontend.errors.<name>: the statuses, the
// service that serves the page, the page's path.
type errorPage struct {
	status  []string
	service string
	query   string
}

func (errorPage) kind() string { return "errors" }
func (m errorPage) settings() map[string]any {
	s := map[string]any{"status": m.status, "service": m.service}
	if m.query != "" {
		s["query"] = m.query
	}
	return s
}

// rateLimit is one of v1's frontend.rateLimit.rateSet.<name>: v3 has one
// rate a middleware, so a frontend's rate sets are a chain of them (each
// must allow the request, as all of v1's did).
type rateLimit struct {
	average, burst optional[int64]
	period         optional[string]
	source         sourceCriterion
}

func (rateLimit) kind() string { return "rateLimit" }
func (m rateLimit) settings() map[string]any {
	s := map[string]any{"sourceCriterion": m.source.settings()}
	put(s, "average", m.average)
	put(s, "burst", m.burst)
	put(s, "period", m.period)
	return s
}

// forwardAuth is v1's frontend.auth.forward.*.
type forwardAuth struct {
	address             string
	trustForwardHeader  optional[bool]
	authResponseHeaders []string
	tls                 clientTLS
}

// clientTLS is forwardAuth's TLS to the authentication server.
type clientTLS struct {
	ca, cert, key      optional[string]
	insecureSkipVerify optional[bool]
}

func (forwardAuth) kind() string { return "forwardAuth" }
func (m forwardAuth) settings() map[string]any {
	s := map[string]any{"address": m.address}
	put(s, "trustForwardHeader", m.trustForwardHeader)
	if len(m.authResponseHeaders) > 0 {
		s["authResponseHeaders"] = m.authResponseHeaders
	}
	tls := map[string]any{}
	put(tls, "ca", m.tls.ca)
	put(tls, "cert", m.tls.cert)
	put(tls, "key", m.tls.key)
	put(tls, "insecureSkipVerify", m.tls.insecureSkipVerify)
	if len(tls) > 0 {
		s["tls"] = tls
	}
	return s
}
