package routes

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// v1Roots are the label names directly under traefik. that are not segments.
var v1Roots = map[string]bool{"enable": true, "tags": true, "port": true, "protocol": true, "weight": true, "domain": true, "acme": true, "frontend": true, "backend": true, "docker": true}

// v1Keys are the Traefik v1 keys a frontend/backend (root or segment) may
// carry, lower case. frontend.headers.* is handled apart.
var v1Keys = map[string]bool{
	"port": true, "protocol": true, "weight": true, "acme": true, "backend": true,
	"frontend.rule": true, "frontend.entrypoints": true, "frontend.priority": true, "frontend.passhostheader": true,
	"frontend.redirect.entrypoint": true, "frontend.redirect.regex": true, "frontend.redirect.replacement": true, "frontend.redirect.permanent": true,
	"frontend.auth.basic": true, "frontend.auth.basic.users": true, "frontend.auth.basic.removeheader": true, "frontend.auth.basic.realm": true,
	"frontend.whitelist.sourcerange": true, "frontend.whitelistsourcerange": true,
	"backend.loadbalancer.method": true, "backend.loadbalancer.sticky": true, "backend.loadbalancer.stickiness": true, "backend.loadbalancer.stickiness.cookiename": true,
	"backend.healthcheck.path": true, "backend.healthcheck.interval": true, "backend.healthcheck.port": true,
}

// v1Headers maps frontend.headers.<name> (lower case) to the v3 headers
// middleware's option and its kind.
var v1Headers = map[string]struct {
	option string
	kind   kind
}{
	"stsseconds": {"stsSeconds", kindInt}, "stsincludesubdomains": {"stsIncludeSubdomains", kindBool}, "stspreload": {"stsPreload", kindBool},
	"forcestsheader": {"forceSTSHeader", kindBool}, "framedeny": {"frameDeny", kindBool}, "customframeoptionsvalue": {"customFrameOptionsValue", kindString},
	"contenttypenosniff": {"contentTypeNosniff", kindBool}, "browserxssfilter": {"browserXssFilter", kindBool}, "custombrowserxssvalue": {"customBrowserXSSValue", kindString},
	"contentsecuritypolicy": {"contentSecurityPolicy", kindString}, "publickey": {"publicKey", kindString}, "referrerpolicy": {"referrerPolicy", kindString},
	"isdevelopment": {"isDevelopment", kindBool}, "allowedhosts": {"allowedHosts", kindList}, "hostsproxyheaders": {"hostsProxyHeaders", kindList},
	"customrequestheaders": {"customRequestHeaders", 0}, "customresponseheaders": {"customResponseHeaders", 0},
	"sslredirect": {"", kindBool}, "ssltemporaryredirect": {"", kindBool},
}

// v1Frontend is the labels of the root or of one segment: key (lower case,
// without traefik.[segment.]) → original label name and value.
type v1Frontend map[string][2]string

func (f v1Frontend) get(k string) (label, value string, ok bool) {
	v, ok := f[k]
	return v[0], v[1], ok
}

// v1Service translates the seed's labels. Segments
// (traefik.<name>.port, traefik.<name>.frontend.rule, …) give one router
// and service each; values not set on a segment come from the root labels.
func v1Service(s *rancher.Service, o Options) (map[string]any, map[string]int, error) {
	root := v1Frontend{}
	segments := map[string]v1Frontend{}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, label := range keys {
		if !strings.HasPrefix(label, "traefik.") {
			continue
		}
		rest := strings.ToLower(strings.TrimPrefix(label, "traefik."))
		first, after, _ := strings.Cut(rest, ".")
		if v1Roots[first] {
			switch rest {
			case "enable", "tags", "domain", "docker.network":
				continue
			}
			if !v1Keys[rest] && !strings.HasPrefix(rest, "frontend.headers.") {
				return nil, nil, errLabel(label, "not a Traefik v1 label rancher-traefik can translate")
			}
			root[rest] = [2]string{label, s.Labels[label]}
			continue
		}
		if after == "" || (!v1Keys[after] && !strings.HasPrefix(after, "frontend.headers.")) {
			return nil, nil, errLabel(label, "not a Traefik v1 label rancher-traefik can translate")
		}
		if segments[first] == nil {
			segments[first] = v1Frontend{}
		}
		segments[first][after] = [2]string{label, s.Labels[label]}
	}
	frag := map[string]any{}
	servers := map[string]int{}
	base := baseName(s)
	if len(segments) == 0 {
		n, err := v1Router(s, o, frag, base, root)
		if err != nil {
			return nil, nil, err
		}
		servers[base] = n
		return frag, servers, nil
	}
	names := make([]string, 0, len(segments))
	for n := range segments {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, seg := range names {
		f := v1Frontend{}
		for k, v := range root {
			f[k] = v
		}
		for k, v := range segments[seg] {
			f[k] = v
		}
		name := base + "-" + safeName(seg)
		n, err := v1Router(s, o, frag, name, f)
		if err != nil {
			return nil, nil, err
		}
		servers[name] = n
	}
	return frag, servers, nil
}

// v1Router adds the router, service and middlewares of one frontend.
func v1Router(s *rancher.Service, o Options, frag map[string]any, name string, f v1Frontend) (int, error) {
	router := map[string]any{"service": name}
	lb := map[string]any{}
	var mws []string
	addMW := func(kind string, settings map[string]any) {
		mname := name + "-" + strings.ToLower(kind)
		sub(frag, "http", "middlewares")[mname] = map[string]any{kind: settings}
		mws = append(mws, mname)
	}

	// Port and scheme.
	var port string
	var err error
	if label, v, ok := f.get("port"); ok {
		if port, err = checkPort(label, v); err != nil {
			return 0, err
		}
	} else if port, err = defaultPort(s, "traefik.port"); err != nil && s.Kind != "externalService" {
		return 0, err
	}
	scheme := "http"
	if label, v, ok := f.get("protocol"); ok {
		switch p := strings.ToLower(strings.TrimSpace(v)); p {
		case "http", "https", "h2c":
			scheme = p
		default:
			return 0, errLabel(label, "%q is not http, https or h2c", v)
		}
	}
	if s.Kind == "externalService" && port == "" {
		port = map[string]string{"https": "443"}[scheme]
		if port == "" {
			port = "80"
		}
	}
	var weight any
	if label, v, ok := f.get("weight"); ok {
		w, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || w < 0 {
			return 0, errLabel(label, "%q is not a whole number ≥ 0", v)
		}
		weight = int64(w)
	}

	// The rule and what it modifies.
	matcher := ""
	var ruleMWs []middleware
	if label, v, ok := f.get("frontend.rule"); ok {
		r, err := translateV1Rule(v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		matcher, ruleMWs = r.matcher, r.middlewares
	} else if matcher, err = defaultRule(s, o.Domain); err != nil {
		return 0, err
	}
	router["rule"] = matcher

	if label, v, ok := f.get("frontend.entrypoints"); ok {
		eps, _ := convert(kindList, v)
		if len(eps.([]string)) == 0 {
			return 0, errLabel(label, "names no entry point")
		}
		router["entryPoints"] = eps
	}
	if label, v, ok := f.get("frontend.priority"); ok {
		p, err := convert(kindInt, v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		router["priority"] = p
	}
	if label, v, ok := f.get("frontend.passhostheader"); ok {
		b, err := convert(kindBool, v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		lb["passHostHeader"] = b
	}

	// Redirects come first, then auth, the allow list, headers, and the
	// rule's path modifiers last (they change what the backend sees).
	permanent := false
	if label, v, ok := f.get("frontend.redirect.permanent"); ok {
		b, err := convert(kindBool, v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		permanent = b.(bool)
	}
	if label, v, ok := f.get("frontend.redirect.entrypoint"); ok {
		switch ep := strings.ToLower(strings.TrimSpace(v)); ep {
		case "https", "http":
			addMW("redirectScheme", redirectScheme(ep, permanent, o))
		default:
			return 0, errLabel(label, "redirects to entry point %q: only http and https exist", v)
		}
	}
	if label, v, ok := f.get("frontend.redirect.regex"); ok {
		_, repl, hasRepl := f.get("frontend.redirect.replacement")
		if !hasRepl {
			return 0, errLabel(label, "needs traefik.frontend.redirect.replacement too")
		}
		if _, err := regexp.Compile(v); err != nil {
			return 0, errLabel(label, "%v", err)
		}
		addMW("redirectRegex", map[string]any{"regex": v, "replacement": repl, "permanent": permanent})
	}
	for _, k := range []string{"frontend.headers.sslredirect", "frontend.headers.ssltemporaryredirect"} {
		if label, v, ok := f.get(k); ok {
			b, err := convert(kindBool, v)
			if err != nil {
				return 0, errLabel(label, "%v", err)
			}
			if b.(bool) {
				addMW("redirectScheme", redirectScheme("https", k == "frontend.headers.sslredirect", o))
				break
			}
		}
	}
	users := ""
	usersLabel := ""
	for _, k := range []string{"frontend.auth.basic", "frontend.auth.basic.users"} {
		if label, v, ok := f.get(k); ok {
			users, usersLabel = v, label
		}
	}
	if users != "" {
		list, _ := convert(kindList, users)
		for i, u := range list.([]string) {
			if n, h, ok := strings.Cut(u, ":"); !ok || n == "" || h == "" {
				return 0, errLabel(usersLabel, "entry %d is not user:hash", i+1) // never print the hash
			}
		}
		auth := map[string]any{"users": list}
		if label, v, ok := f.get("frontend.auth.basic.removeheader"); ok {
			b, err := convert(kindBool, v)
			if err != nil {
				return 0, errLabel(label, "%v", err)
			}
			auth["removeHeader"] = b
		}
		if _, v, ok := f.get("frontend.auth.basic.realm"); ok {
			auth["realm"] = v
		}
		addMW("basicAuth", auth)
	}
	for _, k := range []string{"frontend.whitelist.sourcerange", "frontend.whitelistsourcerange"} {
		if label, v, ok := f.get(k); ok {
			ranges, _ := convert(kindList, v)
			for _, r := range ranges.([]string) {
				if !validCIDR(r) {
					return 0, errLabel(label, "%q is not an IP address or CIDR range", r)
				}
			}
			addMW("ipAllowList", map[string]any{"sourceRange": ranges})
			break
		}
	}
	headers := map[string]any{}
	var hkeys []string
	for k := range f {
		if strings.HasPrefix(k, "frontend.headers.") {
			hkeys = append(hkeys, k)
		}
	}
	sort.Strings(hkeys)
	for _, k := range hkeys {
		label, v, _ := f.get(k)
		h, ok := v1Headers[strings.TrimPrefix(k, "frontend.headers.")]
		if !ok {
			return 0, errLabel(label, "not a Traefik v1 header option rancher-traefik can translate")
		}
		switch {
		case h.option == "": // SSLRedirect, SSLTemporaryRedirect: handled with the redirects
		case h.kind == 0: // k:v||k:v
			m := map[string]any{}
			n := 0
			for pair := range strings.SplitSeq(v, "||") {
				n++
				hk, hv, ok := strings.Cut(pair, ":")
				if !ok || strings.TrimSpace(hk) == "" {
					// Header values can be credentials: name the pair, not its text.
					return 0, errLabel(label, "pair %d is not Name:value (pairs are joined by ||)", n)
				}
				m[strings.TrimSpace(hk)] = strings.TrimSpace(hv)
			}
			headers[h.option] = m
		default:
			val, err := convert(h.kind, v)
			if err != nil {
				return 0, errLabel(label, "%v", err)
			}
			headers[h.option] = val
		}
	}
	if len(headers) > 0 {
		addMW("headers", headers)
	}
	for _, m := range ruleMWs {
		addMW(m.kind, m.settings)
	}
	if len(mws) > 0 {
		router["middlewares"] = mws
	}

	// Sticky sessions and health checks.
	for _, k := range []string{"backend.loadbalancer.sticky", "backend.loadbalancer.stickiness"} {
		if label, v, ok := f.get(k); ok {
			b, err := convert(kindBool, v)
			if err != nil {
				return 0, errLabel(label, "%v", err)
			}
			if b.(bool) {
				cookie := map[string]any{}
				if _, name, ok := f.get("backend.loadbalancer.stickiness.cookiename"); ok && name != "" {
					cookie["name"] = name
				}
				lb["sticky"] = map[string]any{"cookie": cookie}
			}
		}
	}
	if label, v, ok := f.get("backend.loadbalancer.method"); ok {
		if m := strings.ToLower(strings.TrimSpace(v)); m != "wrr" && m != "drr" {
			return 0, errLabel(label, "%q is not wrr or drr", v)
		}
	}
	hc := map[string]any{}
	if label, v, ok := f.get("backend.healthcheck.path"); ok {
		if !strings.HasPrefix(v, "/") {
			return 0, errLabel(label, "%q does not start with /", v)
		}
		hc["path"] = v
	}
	if label, v, ok := f.get("backend.healthcheck.interval"); ok {
		d, err := convert(kindDuration, v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		hc["interval"] = d
	}
	if label, v, ok := f.get("backend.healthcheck.port"); ok {
		p, err := checkPort(label, v)
		if err != nil {
			return 0, err
		}
		n, _ := strconv.Atoi(p)
		hc["port"] = int64(n)
	}
	if len(hc) > 0 {
		if _, ok := hc["path"]; !ok {
			return 0, errLabel("traefik.backend.healthcheck.path", "health check options need a path")
		}
		lb["healthCheck"] = hc
	}

	if label, v, ok := f.get("acme"); ok {
		b, err := convert(kindBool, v)
		if err != nil {
			return 0, errLabel(label, "%v", err)
		}
		if b.(bool) {
			if !o.ACME {
				return 0, errLabel(label, "asks for ACME, but TRAEFIK_ACME_ENABLE is false")
			}
			router["tls"] = map[string]any{"certResolver": "acme"}
		}
	}
	routerDefaults(router, o)

	addrs := addresses(s, o)
	list := make([]map[string]any, 0, len(addrs))
	for _, a := range addrs {
		srv := map[string]any{"url": fmt.Sprintf("%s://%s", scheme, hostPort(a, port))}
		if weight != nil {
			srv["weight"] = weight
		}
		list = append(list, srv)
	}
	lb["servers"] = list
	sub(frag, "http", "routers")[name] = router
	sub(frag, "http", "services")[name] = map[string]any{"loadBalancer": lb}
	return len(list), nil
}
