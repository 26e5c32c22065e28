package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// v1LabelCases are one case per row of v1Labels: the service s of stack st
// (port 80, one container at 10.0.0.1) with the row's labels, and what the
// configuration holds at a path (a / b / c) — or, for cred, the content of
// the one credential file.
var v1LabelCases = []struct {
	key    string // the row of v1Labels
	labels map[string]string
	opts   func(*Options)
	at     string // "" with want nil: nothing is published
	want   any
	cred   string
	warn   []string          // labels dropped with a warning (the service published)
	extra  []rancher.Service // other services of the snapshot
}{
	{key: "enable", labels: map[string]string{"traefik.enable": "false"}},
	{key: "tags", labels: map[string]string{"traefik.tags": "api, web"}, opts: func(o *Options) { o.Constraints, _ = ParseConstraints("tag!=web") }},
	{key: "domain", labels: map[string]string{"traefik.domain": "other.test."}, at: "http/routers/s-st/rule", want: "Host(`s.st.other.test`)"},
	{key: "docker.network", labels: map[string]string{"traefik.docker.network": "managed"}, at: "http/routers/s-st/rule", want: "Host(`s.st.example.com`)"},
	{key: "port", labels: map[string]string{"traefik.port": "8080"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:8080"}}},
	{key: "protocol", labels: map[string]string{"traefik.protocol": "HTTPS"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "https://10.0.0.1:80"}}},
	{key: "weight", labels: map[string]string{"traefik.weight": "5"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:80", "weight": int64(5)}}},
	{key: "backend", labels: map[string]string{"traefik.backend": "foo"}, at: "http/routers/s-st/service", want: "s-st"}, // accepted, not translated yet (#9 §1)
	{key: "acme", labels: map[string]string{"traefik.acme": "true"}, opts: func(o *Options) { o.ACME = true }, at: "http/routers/s-st/tls", want: map[string]any{"certResolver": "acme"}},
	{key: "frontend.rule", labels: map[string]string{"traefik.frontend.rule": "Host:a.test,b.test;PathPrefix:/api"}, at: "http/routers/s-st/rule", want: "(Host(`a.test`) || Host(`b.test`)) && PathPrefix(`/api`)"},
	{key: "frontend.entrypoints", labels: map[string]string{"traefik.frontend.entryPoints": "http, https"}, opts: func(o *Options) { o.HTTPS = true }, at: "http/routers/s-st-http/entryPoints", want: []string{"http"}}, // and s-st on https (TestV1EntryPoints)
	{key: "frontend.priority", labels: map[string]string{"traefik.frontend.priority": "10"}, at: "http/routers/s-st/priority", want: int64(10)},
	{key: "frontend.middlewares", labels: map[string]string{"traefik.frontend.middlewares": "a, b@rancher,c@file", "traefik.frontend.headers.frameDeny": "true"}, at: "http/routers/s-st/middlewares", want: []string{"s-st-headers", "a", "b", "c@file"}}, // with v2 labels: TestDialectMix
	{key: "frontend.passhostheader", labels: map[string]string{"traefik.frontend.passHostHeader": "false"}, at: "http/services/s-st/loadBalancer/passHostHeader", want: false},
	{key: "frontend.redirect.entrypoint", labels: map[string]string{"traefik.frontend.redirect.entryPoint": "https"}, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "https", "permanent": false}},
	{key: "frontend.redirect.regex", labels: map[string]string{"traefik.frontend.redirect.regex": "^http://a/(.*)", "traefik.frontend.redirect.replacement": "http://b/$1"}, at: "http/middlewares/s-st-redirectregex/redirectRegex", want: map[string]any{"regex": "^http://a/(.*)", "replacement": "http://b/$1", "permanent": false}},
	{key: "frontend.redirect.replacement", labels: map[string]string{"traefik.frontend.redirect.regex": "^/old$", "traefik.frontend.redirect.replacement": "/new"}, at: "http/middlewares/s-st-redirectregex/redirectRegex/replacement", want: "/new"},
	{key: "frontend.redirect.permanent", labels: map[string]string{"traefik.frontend.redirect.entryPoint": "http", "traefik.frontend.redirect.permanent": "true"}, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "http", "permanent": true}},
	{key: "frontend.auth.basic", labels: map[string]string{"traefik.frontend.auth.basic": "u:" + hashA}, cred: "u:" + hashA + "\n"},
	{key: "frontend.auth.basic.users", labels: map[string]string{"traefik.frontend.auth.basic": "old:" + hashA, "traefik.frontend.auth.basic.users": "a:" + hashA + ",b:" + hashB}, cred: "a:" + hashA + "\nb:" + hashB + "\n"},
	{key: "frontend.auth.basic.usersfile", labels: map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd"}, at: "http/middlewares/s-st-basicauth/basicAuth", want: map[string]any{"usersFile": "/etc/htpasswd"}},
	{key: "frontend.auth.basic.removeheader", labels: map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd", "traefik.frontend.auth.basic.removeHeader": "true"}, at: "http/middlewares/s-st-basicauth/basicAuth/removeHeader", want: true},
	{key: "frontend.auth.basic.realm", labels: map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd", "traefik.frontend.auth.basic.realm": "staff"}, at: "http/middlewares/s-st-basicauth/basicAuth/realm", want: "staff"},
	{key: "frontend.auth.digest.users", labels: map[string]string{"traefik.frontend.auth.digest.users": "u:r:0123"}, cred: "u:r:0123\n"},
	{key: "frontend.auth.digest.usersfile", labels: map[string]string{"traefik.frontend.auth.digest.usersFile": "/etc/htdigest"}, at: "http/middlewares/s-st-digestauth/digestAuth", want: map[string]any{"usersFile": "/etc/htdigest"}},
	{key: "frontend.auth.digest.removeheader", labels: map[string]string{"traefik.frontend.auth.digest.usersFile": "/etc/htdigest", "traefik.frontend.auth.removeHeader": "true", "traefik.frontend.auth.digest.removeHeader": "false"}, at: "http/middlewares/s-st-digestauth/digestAuth/removeHeader", want: false},
	{key: "frontend.auth.headerfield", labels: map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd", "traefik.frontend.auth.headerField": " X-User "}, at: "http/middlewares/s-st-basicauth/basicAuth/headerField", want: "X-User"},
	{key: "frontend.auth.removeheader", labels: map[string]string{"traefik.frontend.auth.digest.usersFile": "/etc/htdigest", "traefik.frontend.auth.removeHeader": "true"}, at: "http/middlewares/s-st-digestauth/digestAuth/removeHeader", want: true},
	{key: "frontend.whitelist.sourcerange", labels: map[string]string{"traefik.frontend.whiteList.sourceRange": "10.0.0.0/8, 192.168.1.1", "traefik.frontend.whitelistSourceRange": "bad"}, at: "http/middlewares/s-st-ipallowlist/ipAllowList/sourceRange", want: []string{"10.0.0.0/8", "192.168.1.1"}},
	{key: "frontend.whitelistsourcerange", labels: map[string]string{"traefik.frontend.whitelistSourceRange": "::1"}, at: "http/middlewares/s-st-ipallowlist/ipAllowList/sourceRange", want: []string{"::1"}},
	{key: "frontend.headers.sslredirect", labels: map[string]string{"traefik.frontend.headers.SSLRedirect": "true"}, opts: func(o *Options) { o.HTTPSPort = 8443 }, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "https", "permanent": true, "port": "8443"}},
	{key: "frontend.headers.ssltemporaryredirect", labels: map[string]string{"traefik.frontend.headers.SSLRedirect": "false", "traefik.frontend.headers.SSLTemporaryRedirect": "true"}, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "https", "permanent": false}},
	{key: "frontend.headers.stsseconds", labels: map[string]string{"traefik.frontend.headers.STSSeconds": "315360000"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"stsSeconds": int64(315360000)}},
	{key: "frontend.headers.stsincludesubdomains", labels: map[string]string{"traefik.frontend.headers.STSIncludeSubdomains": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"stsIncludeSubdomains": true}},
	{key: "frontend.headers.stspreload", labels: map[string]string{"traefik.frontend.headers.STSPreload": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"stsPreload": true}},
	{key: "frontend.headers.forcestsheader", labels: map[string]string{"traefik.frontend.headers.forceSTSHeader": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"forceSTSHeader": true}},
	{key: "frontend.headers.framedeny", labels: map[string]string{"traefik.frontend.headers.frameDeny": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"frameDeny": true}},
	{key: "frontend.headers.customframeoptionsvalue", labels: map[string]string{"traefik.frontend.headers.customFrameOptionsValue": "SAMEORIGIN"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customFrameOptionsValue": "SAMEORIGIN"}},
	{key: "frontend.headers.contenttypenosniff", labels: map[string]string{"traefik.frontend.headers.contentTypeNosniff": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"contentTypeNosniff": true}},
	{key: "frontend.headers.browserxssfilter", labels: map[string]string{"traefik.frontend.headers.browserXSSFilter": "true"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"browserXssFilter": true}},
	{key: "frontend.headers.custombrowserxssvalue", labels: map[string]string{"traefik.frontend.headers.customBrowserXSSValue": "0"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customBrowserXSSValue": "0"}},
	{key: "frontend.headers.contentsecuritypolicy", labels: map[string]string{"traefik.frontend.headers.contentSecurityPolicy": "default-src 'self'"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"contentSecurityPolicy": "default-src 'self'"}},
	{key: "frontend.headers.publickey", labels: map[string]string{"traefik.frontend.headers.publicKey": "pin-sha256=\"x\""}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"publicKey": "pin-sha256=\"x\""}},
	{key: "frontend.headers.referrerpolicy", labels: map[string]string{"traefik.frontend.headers.referrerPolicy": "no-referrer"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"referrerPolicy": "no-referrer"}},
	{key: "frontend.headers.isdevelopment", labels: map[string]string{"traefik.frontend.headers.isDevelopment": "false"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"isDevelopment": false}},
	{key: "frontend.headers.allowedhosts", labels: map[string]string{"traefik.frontend.headers.allowedHosts": "a.test, b.test"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"allowedHosts": []string{"a.test", "b.test"}}},
	{key: "frontend.headers.hostsproxyheaders", labels: map[string]string{"traefik.frontend.headers.hostsProxyHeaders": "X-Forwarded-Host"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"hostsProxyHeaders": []string{"X-Forwarded-Host"}}},
	{key: "frontend.headers.customrequestheaders", labels: map[string]string{"traefik.frontend.headers.customRequestHeaders": "X-A:1 || X-B: two"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customRequestHeaders": map[string]any{"X-A": "1", "X-B": "two"}}},
	{key: "frontend.headers.customresponseheaders", labels: map[string]string{"traefik.frontend.headers.customResponseHeaders": "X-C:3"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customResponseHeaders": map[string]any{"X-C": "3"}}},
	{key: "backend.loadbalancer.method", labels: map[string]string{"traefik.backend.loadbalancer.method": "drr"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:80"}}, warn: []string{"traefik.backend.loadbalancer.method"}}, // Traefik v3 has wrr only
	{key: "backend.loadbalancer.sticky", labels: map[string]string{"traefik.backend.loadbalancer.sticky": "true"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{}}},
	{key: "backend.loadbalancer.stickiness", labels: map[string]string{"traefik.backend.loadbalancer.stickiness": "true"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{}}},
	{key: "backend.loadbalancer.stickiness.cookiename", labels: map[string]string{"traefik.backend.loadbalancer.stickiness": "true", "traefik.backend.loadbalancer.stickiness.cookieName": "sid"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{"name": "sid"}}},
	{key: "backend.healthcheck.path", labels: map[string]string{"traefik.backend.healthcheck.path": "/health"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health"}},
	{key: "backend.healthcheck.interval", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.interval": "5"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "interval": "5s"}},
	{key: "backend.healthcheck.port", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.port": "8081"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "port": int64(8081)}},

	{key: "backend.healthcheck.scheme", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.scheme": "HTTPS"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "scheme": "https"}},
	{key: "backend.healthcheck.hostname", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.hostname": "app.test"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "hostname": "app.test"}},
	{key: "backend.healthcheck.headers", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.headers": "X-A:1||X-B: two"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "headers": map[string]any{"X-A": "1", "X-B": "two"}}},
	{key: "backend.responseforwarding.flushinterval", labels: map[string]string{"traefik.backend.responseForwarding.flushInterval": "10ms"}, at: "http/services/s-st/loadBalancer/responseForwarding", want: map[string]any{"flushInterval": "10ms"}},
	{key: "backend.circuitbreaker.expression", labels: map[string]string{"traefik.backend.circuitbreaker.expression": "NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 100"}, at: "http/middlewares/s-st-circuitbreaker/circuitBreaker", want: map[string]any{"expression": "NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 100"}},
	{key: "backend.maxconn.amount", labels: map[string]string{"traefik.backend.maxconn.amount": "10"}, at: "http/middlewares/s-st-inflightreq/inFlightReq", want: map[string]any{"amount": int64(10), "sourceCriterion": map[string]any{"requestHost": true}}},
	{key: "backend.maxconn.extractorfunc", labels: map[string]string{"traefik.backend.maxconn.amount": "10", "traefik.backend.maxconn.extractorfunc": "client.ip"}, at: "http/middlewares/s-st-inflightreq/inFlightReq", want: map[string]any{"amount": int64(10), "sourceCriterion": map[string]any{"ipStrategy": map[string]any{"depth": int64(0)}}}},
	{key: "backend.buffering.maxrequestbodybytes", labels: map[string]string{"traefik.backend.buffering.maxRequestBodyBytes": "2000000"}, at: "http/middlewares/s-st-buffering/buffering", want: map[string]any{"maxRequestBodyBytes": int64(2000000)}},
	{key: "backend.buffering.memrequestbodybytes", labels: map[string]string{"traefik.backend.buffering.memRequestBodyBytes": "1000"}, at: "http/middlewares/s-st-buffering/buffering", want: map[string]any{"memRequestBodyBytes": int64(1000)}},
	{key: "backend.buffering.maxresponsebodybytes", labels: map[string]string{"traefik.backend.buffering.maxResponseBodyBytes": "3000000"}, at: "http/middlewares/s-st-buffering/buffering", want: map[string]any{"maxResponseBodyBytes": int64(3000000)}},
	{key: "backend.buffering.memresponsebodybytes", labels: map[string]string{"traefik.backend.buffering.memResponseBodyBytes": "2000"}, at: "http/middlewares/s-st-buffering/buffering", want: map[string]any{"memResponseBodyBytes": int64(2000)}},
	{key: "backend.buffering.retryexpression", labels: map[string]string{"traefik.backend.buffering.retryExpression": "IsNetworkError() && Attempts() <= 2"}, at: "http/middlewares/s-st-buffering/buffering", want: map[string]any{"retryExpression": "IsNetworkError() && Attempts() <= 2"}},
	{key: "frontend.passtlscert", labels: map[string]string{"traefik.frontend.passTLSCert": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert", want: map[string]any{"pem": true}},
	{key: "frontend.passtlsclientcert.pem", labels: map[string]string{"traefik.frontend.passTLSCert": "true", "traefik.frontend.passTLSClientCert.pem": "false"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert", want: map[string]any{"pem": false}},
	{key: "frontend.passtlsclientcert.infos.notafter", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.notAfter": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert", want: map[string]any{"info": map[string]any{"notAfter": true}}},
	{key: "frontend.passtlsclientcert.infos.notbefore", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.notBefore": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert", want: map[string]any{"info": map[string]any{"notBefore": true}}},
	{key: "frontend.passtlsclientcert.infos.sans", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.sans": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert", want: map[string]any{"info": map[string]any{"sans": true}}},
	{key: "frontend.passtlsclientcert.infos.issuer.commonname", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.commonName": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"commonName": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.country", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.country": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"country": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.domaincomponent", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.domainComponent": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"domainComponent": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.locality", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.locality": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"locality": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.organization", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.organization": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"organization": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.province", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.province": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"province": true}},
	{key: "frontend.passtlsclientcert.infos.issuer.serialnumber", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.issuer.serialNumber": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/issuer", want: map[string]any{"serialNumber": true}},
	{key: "frontend.passtlsclientcert.infos.subject.commonname", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.commonName": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"commonName": true}},
	{key: "frontend.passtlsclientcert.infos.subject.country", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.country": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"country": true}},
	{key: "frontend.passtlsclientcert.infos.subject.domaincomponent", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.domainComponent": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"domainComponent": true}},
	{key: "frontend.passtlsclientcert.infos.subject.locality", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.locality": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"locality": true}},
	{key: "frontend.passtlsclientcert.infos.subject.organization", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.organization": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"organization": true}},
	{key: "frontend.passtlsclientcert.infos.subject.province", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.province": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"province": true}},
	{key: "frontend.passtlsclientcert.infos.subject.serialnumber", labels: map[string]string{"traefik.frontend.passTLSClientCert.infos.subject.serialNumber": "true"}, at: "http/middlewares/s-st-passtlsclientcert/passTLSClientCert/info/subject", want: map[string]any{"serialNumber": true}},
	{key: "frontend.errors.<name>.status", labels: map[string]string{"traefik.frontend.errors.nf.status": "404, 500-599", "traefik.frontend.errors.nf.backend": "pages-st"}, extra: []rancher.Service{pageService("pages", nil)}, at: "http/middlewares/s-st-errors-nf/errors", want: map[string]any{"status": []string{"404", "500-599"}, "service": "pages-st"}},
	{key: "frontend.errors.<name>.backend", labels: map[string]string{"traefik.frontend.errors.nf.status": "404", "traefik.frontend.errors.nf.backend": "errorpages"}, extra: []rancher.Service{pageService("pages", map[string]string{"traefik.backend": "errorpages"})}, at: "http/middlewares/s-st-errors-nf/errors/service", want: "pages-st"},
	{key: "frontend.errors.<name>.query", labels: map[string]string{"traefik.frontend.errors.nf.status": "404", "traefik.frontend.errors.nf.backend": "s-st", "traefik.frontend.errors.nf.query": "/{status}.html"}, at: "http/middlewares/s-st-errors-nf/errors", want: map[string]any{"status": []string{"404"}, "service": "s-st", "query": "/{status}.html"}},
	{key: "frontend.ratelimit.extractorfunc", labels: map[string]string{"traefik.frontend.rateLimit.extractorFunc": "request.header.X-Key", "traefik.frontend.rateLimit.rateSet.a.average": "5"}, at: "http/middlewares/s-st-ratelimit-a/rateLimit", want: map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"requestHeaderName": "X-Key"}}},
	{key: "frontend.ratelimit.rateset.<name>.period", labels: map[string]string{"traefik.frontend.rateLimit.extractorFunc": "client.ip", "traefik.frontend.rateLimit.rateSet.slow.period": "10", "traefik.frontend.rateLimit.rateSet.slow.average": "100"}, at: "http/middlewares/s-st-ratelimit-slow/rateLimit", want: map[string]any{"period": "10s", "average": int64(100), "sourceCriterion": map[string]any{"ipStrategy": map[string]any{"depth": int64(0)}}}},
	{key: "frontend.ratelimit.rateset.<name>.average", labels: map[string]string{"traefik.frontend.rateLimit.extractorFunc": "request.host", "traefik.frontend.rateLimit.rateSet.a.average": "5", "traefik.frontend.rateLimit.rateSet.b.average": "50", "traefik.frontend.rateLimit.rateSet.b.period": "1m"}, at: "http/routers/s-st/middlewares", want: []string{"s-st-ratelimit-a", "s-st-ratelimit-b"}},
	{key: "frontend.ratelimit.rateset.<name>.burst", labels: map[string]string{"traefik.frontend.rateLimit.extractorFunc": "client.ip", "traefik.frontend.rateLimit.rateSet.a.average": "5", "traefik.frontend.rateLimit.rateSet.a.burst": "20"}, at: "http/middlewares/s-st-ratelimit-a/rateLimit", want: map[string]any{"average": int64(5), "burst": int64(20), "sourceCriterion": map[string]any{"ipStrategy": map[string]any{"depth": int64(0)}}}},
	{key: "frontend.auth.forward.address", labels: map[string]string{"traefik.frontend.auth.forward.address": "http://auth.test/check"}, at: "http/middlewares/s-st-forwardauth/forwardAuth", want: map[string]any{"address": "http://auth.test/check"}},
	{key: "frontend.auth.forward.authresponseheaders", labels: map[string]string{"traefik.frontend.auth.forward.address": "http://auth.test/check", "traefik.frontend.auth.forward.authResponseHeaders": "X-User, X-Role"}, at: "http/middlewares/s-st-forwardauth/forwardAuth", want: map[string]any{"address": "http://auth.test/check", "authResponseHeaders": []string{"X-User", "X-Role"}}},
	{key: "frontend.auth.forward.trustforwardheader", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.trustForwardHeader": "true"}, at: "http/middlewares/s-st-forwardauth/forwardAuth", want: map[string]any{"address": "https://auth.test", "trustForwardHeader": true}},
	{key: "frontend.auth.forward.tls.ca", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.tls.ca": "/etc/auth/ca.pem"}, at: "http/middlewares/s-st-forwardauth/forwardAuth/tls", want: map[string]any{"ca": "/etc/auth/ca.pem"}},
	{key: "frontend.auth.forward.tls.caoptional", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.tls.caOptional": "true"}, at: "http/middlewares/s-st-forwardauth/forwardAuth", want: map[string]any{"address": "https://auth.test"}, warn: []string{"traefik.frontend.auth.forward.tls.caOptional"}},
	{key: "frontend.auth.forward.tls.cert", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.tls.cert": "/etc/auth/c.pem", "traefik.frontend.auth.forward.tls.key": "/etc/auth/k.pem"}, at: "http/middlewares/s-st-forwardauth/forwardAuth/tls", want: map[string]any{"cert": "/etc/auth/c.pem", "key": "/etc/auth/k.pem"}},
	{key: "frontend.auth.forward.tls.insecureskipverify", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.tls.insecureSkipVerify": "true"}, at: "http/middlewares/s-st-forwardauth/forwardAuth/tls", want: map[string]any{"insecureSkipVerify": true}},
	{key: "frontend.auth.forward.tls.key", labels: map[string]string{"traefik.frontend.auth.forward.address": "https://auth.test", "traefik.frontend.auth.forward.tls.cert": "/c.pem", "traefik.frontend.auth.forward.tls.key": "/k.pem"}, at: "http/middlewares/s-st-forwardauth/forwardAuth/tls/key", want: "/k.pem"},
	{key: "frontend.whitelist.usexforwardedfor", labels: map[string]string{"traefik.frontend.whiteList.sourceRange": "10.0.0.0/8", "traefik.frontend.whiteList.useXForwardedFor": "true"}, at: "http/middlewares/s-st-ipallowlist/ipAllowList", want: map[string]any{"sourceRange": []string{"10.0.0.0/8"}, "ipStrategy": map[string]any{"depth": int64(1)}}},
	{key: "frontend.headers.sslproxyheaders", labels: map[string]string{"traefik.frontend.headers.SSLProxyHeaders": "X-Forwarded-Proto:https"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"sslProxyHeaders": map[string]any{"X-Forwarded-Proto": "https"}}},
	{key: "frontend.headers.sslhost", labels: map[string]string{"traefik.frontend.headers.SSLRedirect": "true", "traefik.frontend.headers.SSLHost": "secure.test"}, at: "http/middlewares/s-st-redirectregex/redirectRegex", want: map[string]any{"regex": "^http://[^/]*(.*)$", "replacement": "https://secure.test$1", "permanent": true}},
	{key: "frontend.headers.sslforcehost", labels: map[string]string{"traefik.frontend.headers.SSLTemporaryRedirect": "true", "traefik.frontend.headers.SSLHost": "secure.test", "traefik.frontend.headers.SSLForceHost": "true"}, at: "http/middlewares/s-st-redirectregex/redirectRegex/permanent", want: false, warn: []string{"traefik.frontend.headers.SSLForceHost"}},
	{key: "frontend.headers.featurepolicy", labels: map[string]string{"traefik.frontend.headers.featurePolicy": "camera 'none'", "traefik.frontend.headers.customResponseHeaders": "X-C:3"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customResponseHeaders": map[string]any{"Feature-Policy": "camera 'none'", "X-C": "3"}}},
}

// TestV1Labels: every Traefik v1.7 label row rancher-traefik reads has its
// doc line and its case, and each case's labels give the expected piece of
// configuration, with no warning.
func TestV1Labels(t *testing.T) {
	cased := map[string]bool{}
	for _, tt := range v1LabelCases {
		cased[tt.key] = true
		t.Run(tt.key, func(t *testing.T) {
			if _, ok := v1LabelIndex[tt.key]; !ok {
				t.Fatalf("no row %q in v1Labels", tt.key)
			}
			labels := map[string]string{"traefik.enable": "true"}
			for k, v := range tt.labels {
				labels[k] = v
			}
			o := Options{Domain: "example.com", CredentialDir: testCredDir, CredentialKey: testCredKey}
			if tt.opts != nil {
				tt.opts(&o)
			}
			services := append([]rancher.Service{{
				Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels,
				Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
			}}, tt.extra...)
			res := Build(&rancher.Snapshot{Version: "1", Services: services}, o)
			var warned []string
			for _, w := range res.Warnings {
				if w.Severity != Dropped {
					t.Fatalf("service left out: %v", res.Warnings)
				}
				warned = append(warned, w.Label)
			}
			if diff := cmp.Diff(warned, tt.warn); diff != "" {
				t.Fatalf("labels dropped (-got +want):\n%s\n%v", diff, res.Warnings)
			}
			switch {
			case tt.cred != "":
				if len(res.Credentials) != 1 {
					t.Fatalf("%d credential files, want 1", len(res.Credentials))
				}
				for _, c := range res.Credentials {
					if diff := cmp.Diff(c.Reveal(), tt.cred); diff != "" {
						t.Errorf("credential file (-got +want):\n%s", diff)
					}
				}
			case tt.at == "":
				if len(res.Config) != 0 {
					t.Errorf("published %v, want nothing", res.Config)
				}
			default:
				if diff := cmp.Diff(lookup(res.Config, tt.at), tt.want); diff != "" {
					t.Errorf("%s (-got +want):\n%s", tt.at, diff)
				}
			}
		})
	}
	for _, row := range v1Labels {
		if !cased[row.key] {
			t.Errorf("label row %q has no case in v1LabelCases", row.key)
		}
		if row.doc == "" {
			t.Errorf("label row %q has no doc line", row.key)
		}
	}
}

// pageService is a service of stack st that serves error pages.
func pageService(name string, labels map[string]string) rancher.Service {
	l := map[string]string{"traefik.enable": "true", "traefik.port": "8080"}
	for k, v := range labels {
		l[k] = v
	}
	return rancher.Service{Name: name, Stack: "st", Kind: "service", Labels: l, Containers: []rancher.Container{{PrimaryIP: "10.0.0.9"}}}
}

// lookup follows a/b/c through nested maps; nil when a step is missing.
func lookup(cfg map[string]any, path string) any {
	var cur any = cfg
	for seg := range strings.SplitSeq(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}
