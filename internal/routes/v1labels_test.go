package routes

import "strings"

// v1LabelCases are one case per row of v1Labels, part of the
// compatibility table (compat_test.go, TestCompat): the service s of stack
// st (port 80, one container at 10.0.0.1) with the row's labels, and what
// the configuration holds at a path (a / b / c) — or, for cred, the
// content of the one credential file.
var v1LabelCases = []compatCase{
	{key: "enable", labels: map[string]string{"traefik.enable": "false"}, note: "absent: TRAEFIK_RANCHER_EXPOSED"},
	{key: "tags", labels: map[string]string{"traefik.tags": "api, web"}, opts: func(o *Options) { o.Constraints, _ = ParseConstraints("tag!=web") }, note: "matched by TRAEFIK_RANCHER_CONSTRAINTS (here tag!=web leaves the service out)"},
	{key: "domain", labels: map[string]string{"traefik.domain": "other.test."}, at: "http/routers/s-st/rule", want: "Host(`s.st.other.test`)"},
	{key: "docker.network", labels: map[string]string{"traefik.docker.network": "managed"}, at: "http/routers/s-st/rule", want: "Host(`s.st.example.com`)", note: "read and not needed: Rancher gives each container one managed IP"},
	{key: "port", labels: map[string]string{"traefik.port": "8080"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:8080"}}, note: "absent: the single exposed port"},
	{key: "protocol", labels: map[string]string{"traefik.protocol": "HTTPS"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "https://10.0.0.1:80"}}, note: "`http`, `https` or `h2c` server URLs"},
	{key: "weight", labels: map[string]string{"traefik.weight": "5"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:80", "weight": int64(5)}}},
	{key: "backend", labels: map[string]string{"traefik.backend": "foo"}, at: "http/routers/s-st/service", want: "s-st", status: ignored, note: "accepted, not translated yet (issue #9 §1)"},
	{key: "acme", labels: map[string]string{"traefik.acme": "true"}, opts: func(o *Options) { o.ACME = true }, at: "http/routers/s-st/tls", want: map[string]any{"certResolver": "acme"}, note: "needs TRAEFIK_ACME_ENABLE"},
	{key: "frontend.rule", labels: map[string]string{"traefik.frontend.rule": "Host:a.test,b.test;PathPrefix:/api"}, at: "http/routers/s-st/rule", want: "(Host(`a.test`) || Host(`b.test`)) && PathPrefix(`/api`)", note: "translated as in the rule table below"},
	{key: "frontend.entrypoints", labels: map[string]string{"traefik.frontend.entryPoints": "http, https"}, opts: func(o *Options) { o.HTTPS = true }, at: "http/routers/s-st-http/entryPoints", want: []string{"http"}, note: "default `https` with TLS, or `http` when HTTPS is off. `http,https` gives one router per TLS mode sharing the service — `<name>` on https with TLS, `<name>-http` on http — so HTTP answers and a redirect to https (`redirect.entryPoint=https`, `headers.SSLRedirect`) fires on the http one only (as in v1, a redirect is not applied on its own target). An entry point that does not exist is left out with a warning; with none left the service is left out"}, // and s-st on https (TestV1EntryPoints)
	{key: "frontend.priority", labels: map[string]string{"traefik.frontend.priority": "10"}, at: "http/routers/s-st/priority", want: int64(10), note: "absent or 0: v1's own priority, the length of the v1 rule as written, so overlapping rules match in v1's order (v2-dialect routers keep Traefik v3's)"},
	{key: "frontend.middlewares", labels: map[string]string{"traefik.frontend.middlewares": "a, b@rancher,c@file", "traefik.frontend.headers.frameDeny": "true"}, at: "http/routers/s-st/middlewares", want: []string{"s-st-headers", "a", "b", "c@file"}, note: "rancher-traefik's own: Traefik v3 middlewares (from `traefik.http.middlewares.*` labels, see \"Mixing the dialects\", or anywhere in the routes) the router uses, in order, after the ones the v1 labels generate and before the rule's path modifiers; `name@rancher` is `name`", noE2E: "names middlewares (a, b, c@file) defined nowhere; TestDialectMix and the dialect-mix case use defined ones"}, // with v2 labels: TestDialectMix
	{key: "frontend.passhostheader", labels: map[string]string{"traefik.frontend.passHostHeader": "false"}, at: "http/services/s-st/loadBalancer/passHostHeader", want: false},
	{key: "frontend.redirect.entrypoint", labels: map[string]string{"traefik.frontend.redirect.entryPoint": "https"}, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "https", "permanent": false}},
	{key: "frontend.redirect.regex", labels: map[string]string{"traefik.frontend.redirect.regex": "^http://a/(.*)", "traefik.frontend.redirect.replacement": "http://b/$1"}, at: "http/middlewares/s-st-redirectregex/redirectRegex", want: map[string]any{"regex": "^http://a/(.*)", "replacement": "http://b/$1", "permanent": false}},
	{key: "frontend.redirect.replacement", labels: map[string]string{"traefik.frontend.redirect.regex": "^/old$", "traefik.frontend.redirect.replacement": "/new"}, at: "http/middlewares/s-st-redirectregex/redirectRegex/replacement", want: "/new"},
	{key: "frontend.redirect.permanent", labels: map[string]string{"traefik.frontend.redirect.entryPoint": "http", "traefik.frontend.redirect.permanent": "true"}, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "http", "permanent": true}},
	{key: "frontend.auth.basic", labels: map[string]string{"traefik.frontend.auth.basic": "u:" + hashA}, cred: "u:" + hashA + "\n", note: "users go to a file of their own (see \"Credentials in labels\")"},
	{key: "frontend.auth.basic.users", labels: map[string]string{"traefik.frontend.auth.basic": "old:" + hashA, "traefik.frontend.auth.basic.users": "a:" + hashA + ",b:" + hashB}, cred: "a:" + hashA + "\nb:" + hashB + "\n", note: "wins over `frontend.auth.basic`; users go to a file of their own"},
	{key: "frontend.auth.basic.usersfile", labels: map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd"}, at: "http/middlewares/s-st-basicauth/basicAuth", want: map[string]any{"usersFile": "/etc/htpasswd"}, noE2E: "names a file (/etc/htpasswd) Traefik does not have"},
	{key: "frontend.auth.basic.removeheader", labels: map[string]string{"traefik.frontend.auth.basic.users": "u:" + hashA, "traefik.frontend.auth.basic.removeHeader": "true"}, at: "http/middlewares/s-st-basicauth/basicAuth/removeHeader", want: true},
	{key: "frontend.auth.basic.realm", labels: map[string]string{"traefik.frontend.auth.basic.users": "u:" + hashA, "traefik.frontend.auth.basic.realm": "staff"}, at: "http/middlewares/s-st-basicauth/basicAuth/realm", want: "staff"},
	{key: "frontend.auth.digest.users", labels: map[string]string{"traefik.frontend.auth.digest.users": "u:r:0123"}, cred: "u:r:0123\n", note: "users go to a file of their own; basic and digest on one frontend: refused"},
	{key: "frontend.auth.digest.usersfile", labels: map[string]string{"traefik.frontend.auth.digest.usersFile": "/etc/htdigest"}, at: "http/middlewares/s-st-digestauth/digestAuth", want: map[string]any{"usersFile": "/etc/htdigest"}, noE2E: "names a file (/etc/htdigest) Traefik does not have"},
	{key: "frontend.auth.digest.removeheader", labels: map[string]string{"traefik.frontend.auth.digest.users": "u:r:0123", "traefik.frontend.auth.removeHeader": "true", "traefik.frontend.auth.digest.removeHeader": "false"}, at: "http/middlewares/s-st-digestauth/digestAuth/removeHeader", want: false},
	{key: "frontend.auth.headerfield", labels: map[string]string{"traefik.frontend.auth.basic.users": "u:" + hashA, "traefik.frontend.auth.headerField": " X-User "}, at: "http/middlewares/s-st-basicauth/basicAuth/headerField", want: "X-User", note: "`headerField` of basic or digest auth"},
	{key: "frontend.auth.removeheader", labels: map[string]string{"traefik.frontend.auth.digest.users": "u:r:0123", "traefik.frontend.auth.removeHeader": "true"}, at: "http/middlewares/s-st-digestauth/digestAuth/removeHeader", want: true},
	{key: "frontend.whitelist.sourcerange", labels: map[string]string{"traefik.frontend.whiteList.sourceRange": "10.0.0.0/8, 192.168.1.1", "traefik.frontend.whitelistSourceRange": "bad"}, at: "http/middlewares/s-st-ipallowlist/ipAllowList/sourceRange", want: []string{"10.0.0.0/8", "192.168.1.1"}, note: "wins over the deprecated name"},
	{key: "frontend.whitelistsourcerange", labels: map[string]string{"traefik.frontend.whitelistSourceRange": "::1"}, at: "http/middlewares/s-st-ipallowlist/ipAllowList/sourceRange", want: []string{"::1"}},
	{key: "frontend.headers.sslredirect", labels: map[string]string{"traefik.frontend.headers.SSLRedirect": "true"}, opts: func(o *Options) { o.HTTPSPort = 8443 }, at: "http/middlewares/s-st-redirectscheme/redirectScheme", want: map[string]any{"scheme": "https", "permanent": true, "port": "8443"}, note: "`redirectScheme` to https, on TRAEFIK_HTTPS_PUBLIC_PORT"},
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
	{key: "frontend.headers.isdevelopment", labels: map[string]string{"traefik.frontend.headers.isDevelopment": "false"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"isDevelopment": false}, noE2E: "known bug: a headers middleware holding only isDevelopment=false is refused by Traefik v3 (headers configuration not valid), which disables the router"},
	{key: "frontend.headers.allowedhosts", labels: map[string]string{"traefik.frontend.headers.allowedHosts": "a.test, b.test"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"allowedHosts": []string{"a.test", "b.test"}}},
	{key: "frontend.headers.hostsproxyheaders", labels: map[string]string{"traefik.frontend.headers.hostsProxyHeaders": "X-Forwarded-Host"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"hostsProxyHeaders": []string{"X-Forwarded-Host"}}},
	{key: "frontend.headers.customrequestheaders", labels: map[string]string{"traefik.frontend.headers.customRequestHeaders": "X-A:1 || X-B: two"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customRequestHeaders": map[string]any{"X-A": "1", "X-B": "two"}}},
	{key: "frontend.headers.customresponseheaders", labels: map[string]string{"traefik.frontend.headers.customResponseHeaders": "X-C:3"}, at: "http/middlewares/s-st-headers/headers", want: map[string]any{"customResponseHeaders": map[string]any{"X-C": "3"}}},
	{key: "backend.loadbalancer.method", labels: map[string]string{"traefik.backend.loadbalancer.method": "drr"}, at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:80"}}, status: ignored, note: "Traefik v3 has wrr only"},
	{key: "backend.loadbalancer.sticky", labels: map[string]string{"traefik.backend.loadbalancer.sticky": "true"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{}}},
	{key: "backend.loadbalancer.stickiness", labels: map[string]string{"traefik.backend.loadbalancer.stickiness": "true"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{}}},
	{key: "backend.loadbalancer.stickiness.cookiename", labels: map[string]string{"traefik.backend.loadbalancer.stickiness": "true", "traefik.backend.loadbalancer.stickiness.cookieName": "sid"}, at: "http/services/s-st/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{"name": "sid"}}},
	{key: "backend.healthcheck.path", labels: map[string]string{"traefik.backend.healthcheck.path": "/health"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health"}},
	{key: "backend.healthcheck.interval", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.interval": "5"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "interval": "5s"}},
	{key: "backend.healthcheck.port", labels: map[string]string{"traefik.backend.healthcheck.path": "/health", "traefik.backend.healthcheck.port": "8081"}, at: "http/services/s-st/loadBalancer/healthCheck", want: map[string]any{"path": "/health", "port": int64(8081)}},
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
