package routes

import (
	"fmt"
	"net/netip"
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
// Every bad label of the service is reported, not only the first.
func v1Service(s *rancher.Service, o Options) (map[string]any, map[string]int, error) {
	var p problems
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
				p.add(errLabel(label, "not a Traefik v1 label rancher-traefik can translate"))
				continue
			}
			root[rest] = [2]string{label, s.Labels[label]}
			continue
		}
		if after == "" || (!v1Keys[after] && !strings.HasPrefix(after, "frontend.headers.")) {
			p.add(errLabel(label, "not a Traefik v1 label rancher-traefik can translate"))
			continue
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
		servers[base] = v1Router(s, o, frag, base, root, &p)
		if err := p.err(); err != nil {
			return nil, nil, err
		}
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
		servers[name] = v1Router(s, o, frag, name, f, &p)
	}
	if err := p.err(); err != nil {
		return nil, nil, err
	}
	return frag, servers, nil
}

// v1Router adds the router, service and middlewares of one frontend. A bad
// label is recorded in p and its setting skipped, so that the labels after
// it are checked too; the caller drops the service when p holds any.
func v1Router(s *rancher.Service, o Options, frag map[string]any, name string, f v1Frontend, p *problems) int {
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
		port, err = checkPort(label, v)
		p.add(err)
	} else if port, err = defaultPort(s, "traefik.port"); err != nil && s.Kind != "externalService" {
		p.add(err)
	}
	scheme := "http"
	if label, v, ok := f.get("protocol"); ok {
		switch proto := strings.ToLower(strings.TrimSpace(v)); proto {
		case "http", "https", "h2c":
			scheme = proto
		default:
			p.add(errLabel(label, "%q is not http, https or h2c", v))
		}
	}
	if s.Kind == "externalService" && port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	var weight any
	if label, v, ok := f.get("weight"); ok {
		w, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || w < 0 {
			p.add(errLabel(label, "%q is not a whole number ≥ 0", v))
		} else {
			weight = int64(w)
		}
	}

	// The rule and what it modifies.
	matcher := ""
	var ruleMWs []middleware
	if label, v, ok := f.get("frontend.rule"); ok {
		if r, err := translateV1Rule(v); err != nil {
			p.add(errLabel(label, "%v", err))
		} else {
			matcher, ruleMWs = r.matcher, r.middlewares
		}
	} else if matcher, err = defaultRule(s, o.Domain); err != nil {
		p.add(err)
	}
	router["rule"] = matcher

	if label, v, ok := f.get("frontend.entrypoints"); ok {
		eps, _ := convert(kindList, v)
		if len(eps.([]string)) == 0 {
			p.add(errLabel(label, "names no entry point"))
		} else {
			router["entryPoints"] = eps
		}
	}
	if label, v, ok := f.get("frontend.priority"); ok {
		if prio, err := convert(kindInt, v); err != nil {
			p.add(errLabel(label, "%v", err))
		} else {
			router["priority"] = prio
		}
	}
	if label, v, ok := f.get("frontend.passhostheader"); ok {
		if b, err := convert(kindBool, v); err != nil {
			p.add(errLabel(label, "%v", err))
		} else {
			lb["passHostHeader"] = b
		}
	}

	// Redirects come first, then auth, the allow list, headers, and the
	// rule's path modifiers last (they change what the backend sees).
	permanent := false
	if label, v, ok := f.get("frontend.redirect.permanent"); ok {
		if b, err := convert(kindBool, v); err != nil {
			p.add(errLabel(label, "%v", err))
		} else {
			permanent = b.(bool)
		}
	}
	if label, v, ok := f.get("frontend.redirect.entrypoint"); ok {
		switch ep := strings.ToLower(strings.TrimSpace(v)); ep {
		case "https", "http":
			addMW("redirectScheme", redirectScheme(ep, permanent, o))
		default:
			p.add(errLabel(label, "redirects to entry point %q: only http and https exist", v))
		}
	}
	if label, v, ok := f.get("frontend.redirect.regex"); ok {
		_, repl, hasRepl := f.get("frontend.redirect.replacement")
		if !hasRepl {
			p.add(errLabel(label, "needs traefik.frontend.redirect.replacement too"))
		} else if _, err := regexp.Compile(v); err != nil {
			p.at(label, err)
		} else {
			addMW("redirectRegex", map[string]any{"regex": v, "replacement": repl, "permanent": permanent})
		}
	}
	for _, k := range []string{"frontend.headers.sslredirect", "frontend.headers.ssltemporaryredirect"} {
		if label, v, ok := f.get(k); ok {
			b, err := convert(kindBool, v)
			if p.at(label, err) {
				continue
			}
			if b.(bool) {
				addMW("redirectScheme", redirectScheme("https", k == "frontend.headers.sslredirect", o))
				break
			}
		}
	}
	if kind, auth, err := v1Auth(f, o); err != nil {
		p.add(err)
	} else if auth != nil {
		addMW(kind, auth)
	}
	for _, k := range []string{"frontend.whitelist.sourcerange", "frontend.whitelistsourcerange"} {
		if label, v, ok := f.get(k); ok {
			ranges, _ := convert(kindList, v)
			for _, r := range ranges.([]string) {
				if !validCIDR(r) {
					p.add(errLabel(label, "%q is not an IP address or CIDR range", r))
					break
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
			p.add(errLabel(label, "not a Traefik v1 header option rancher-traefik can translate"))
			continue
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
					p.add(errLabel(label, "pair %d is not Name:value (pairs are joined by ||)", n))
					break
				}
				m[strings.TrimSpace(hk)] = strings.TrimSpace(hv)
			}
			headers[h.option] = m
		default:
			if val, err := convert(h.kind, v); !p.at(label, err) {
				headers[h.option] = val
			}
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
			if p.at(label, err) {
				continue
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
			p.add(errLabel(label, "%q is not wrr or drr", v))
		}
	}
	hc := map[string]any{}
	label, v, hasPath := f.get("backend.healthcheck.path")
	if hasPath {
		if !strings.HasPrefix(v, "/") {
			p.add(errLabel(label, "%q does not start with /", v))
		} else {
			hc["path"] = v
		}
	}
	if label, v, ok := f.get("backend.healthcheck.interval"); ok {
		if d, err := convert(kindDuration, v); !p.at(label, err) {
			hc["interval"] = d
		}
	}
	if label, v, ok := f.get("backend.healthcheck.port"); ok {
		if hp, err := checkPort(label, v); !p.add(err) {
			n, _ := strconv.Atoi(hp)
			hc["port"] = int64(n)
		}
	}
	if len(hc) > 0 && !hasPath {
		p.add(errLabel("traefik.backend.healthcheck.path", "health check options need a path"))
	}
	if len(hc) > 0 {
		lb["healthCheck"] = hc
	}

	if label, v, ok := f.get("acme"); ok {
		b, err := convert(kindBool, v)
		switch {
		case p.at(label, err):
		case b.(bool) && !o.ACME:
			p.add(errLabel(label, "asks for ACME, but TRAEFIK_ACME_ENABLE is false"))
		case b.(bool):
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
	return len(list)
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
