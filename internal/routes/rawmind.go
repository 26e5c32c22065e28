package routes

import (
	"fmt"
	"strconv"
	"strings"

	"rancher-traefik/internal/rancher"
)

// The rawmind0/rancher-traefik dialect. That image generated Traefik 1.x's
// rules.toml from rancher-metadata with a Go template
// (root/opt/tools/rancher-template/tmpl/traefik.tmpl, which replaced the
// confd template root/opt/tools/confd/etc/templates/rules.toml.tmpl; its
// labels are listed in the image's README, version 1.5.0-0). A service in
// that dialect is translated into Traefik v1 labels with the same meaning
// and built by the v1 pipeline; what v1 labels cannot say (the rate limit,
// the circuit breaker) is added to its routers as middlewares.
//
// Detection: a service is in the rawmind0 dialect when it has no
// traefik.http/tcp/udp.* label and one of
//   - traefik.enable=stack,
//   - one of the labels of rawmindOnly (rawmind0's own keys),
//   - a comma in traefik.domain (rawmind0: several domains).
// None of these is a valid Traefik v1.7 label or value (v1.7 refuses
// enable=stack; traefik.alias, traefik.path, … would be segments without a
// key; v1.7 joined traefik.domain into one host name), so no v1.7 service
// changes meaning. A rawmind0 service that uses only labels v1.7 shares
// (traefik.enable=true, traefik.port, one traefik.domain) is read as v1.7,
// which gives it the same rule.

// rawmindLabel is one label of rawmind0's dialect: its key, what it did
// there, and what rancher-traefik makes of it (both for the README).
type rawmindLabel struct {
	key, meaning, translation string
}

// rawmindLabels are rawmind0/rancher-traefik's labels (its README, 1.5.0-0,
// and traefik.tmpl); traefik.circuitbreaker is the short name issue #9
// names for the circuit breaker's expression.
var rawmindLabels = []rawmindLabel{
	{"traefik.enable", "`true`: published as service.stack.domain; `stack`: as stack.domain; `false`: not published", "`stack` gives the rule `Host:<stack>.<domain>`; true/false as in v1"},
	{"traefik.domain", "domain(s) of the rule, comma separated", "one host per domain (`<service>.<stack>.<domain>`); without it, TRAEFIK_RANCHER_DOMAIN; without either, `<service>.<stack>` as rawmind0 did"},
	{"traefik.domain.regexp", "host regexp(s) (v1 template syntax), comma separated", "`HostRegexp` beside the hosts: a request matching either is routed"},
	{"traefik.alias", "more names, each followed by every domain", "hosts `<alias>.<domain>` for each alias and domain"},
	{"traefik.alias.fqdn", "more host names, taken as they are (needs a domain)", "hosts, as written (lower case)"},
	{"traefik.path", "Path matcher(s), comma separated", "`Path` (lower-cased, as rawmind0 did)"},
	{"traefik.path.strip", "PathStrip matcher(s)", "`Path` + stripPrefix middleware"},
	{"traefik.path.prefix", "PathPrefix matcher(s)", "`PathPrefix`"},
	{"traefik.path.prefix.strip", "PathPrefixStrip matcher(s)", "`PathPrefix` + stripPrefix middleware"},
	{"traefik.priority", "frontend priority, default 5", "router priority (5 unless a whole number > 0 is given)"},
	{"traefik.sticky", "sticky sessions", "sticky cookie on the service"},
	{"traefik.ratelimit.enable", "rate limit per client IP", "rateLimit middleware (period 10s, average 100, burst 200 unless set)"},
	{"traefik.ratelimit.period", "rate limit period (seconds or a duration)", "rateLimit period"},
	{"traefik.ratelimit.average", "requests allowed per period", "rateLimit average"},
	{"traefik.ratelimit.burst", "burst allowed", "rateLimit burst"},
	{"traefik.circuitbreaker", "no label: its template put `NetworkErrorRatio() > 0.5` on every backend", "that circuit breaker on every router; this label (issue #9's name) or the next replaces its expression"},
	{"traefik.backend.circuitbreaker.expression", "circuit breaker expression", "circuitBreaker middleware"},
	{"traefik.port", "port, default 80", "server port, 80 when not set (not the exposed port)"},
}

// rawmindOnly are the label keys only rawmind0's dialect has.
var rawmindOnly = map[string]bool{
	"traefik.alias": true, "traefik.alias.fqdn": true, "traefik.domain.regexp": true,
	"traefik.path": true, "traefik.path.strip": true, "traefik.path.prefix": true, "traefik.path.prefix.strip": true,
	"traefik.priority": true, "traefik.sticky": true, "traefik.circuitbreaker": true,
	"traefik.ratelimit.enable": true, "traefik.ratelimit.period": true, "traefik.ratelimit.average": true, "traefik.ratelimit.burst": true,
}

// isRawmind reports whether labels are in rawmind0's dialect (see above).
func isRawmind(labels map[string]string) bool {
	if v, ok := labels["traefik.enable"]; ok && strings.EqualFold(strings.TrimSpace(v), "stack") {
		return true
	}
	for k := range labels {
		// The longest of rawmindOnly is 25 bytes: longer keys (most v1 and
		// v2 labels) need no lower-casing copy.
		if len(k) <= len("traefik.path.prefix.strip") && rawmindOnly[strings.ToLower(k)] {
			return true
		}
	}
	return strings.Contains(labels["traefik.domain"], ",")
}

// rawmindDefaults are traefik.tmpl's fixed settings.
const (
	// [backends.X.circuitbreaker] expression = "NetworkErrorRatio() > 0.5"
	rawmindCircuitBreaker = "NetworkErrorRatio() > 0.5"
	// priority = {{if gt $traefik_priority "0"}}…{{else}}5{{end}}
	rawmindPriority = 5
	// url = "http://IP:{{if gt $traefik_port "0"}}…{{else}}80{{end}}"
	rawmindPort = "80"
)

// rawmindService translates a rawmind0-dialect service: its labels become
// Traefik v1 labels of the same meaning, built by service, and its routers
// get the rate limit and circuit breaker middlewares.
func rawmindService(s *rancher.Service, o Options) (*fragment, routerServers, []Warning, error) {
	var p problems
	v1 := rawmindToV1(s, o, &p)
	extra := rawmindMiddlewares(s.Labels, &p)
	t := *s
	t.Labels = v1
	frag, servers, notes, err := service(&t, o)
	if frag == nil && err == nil {
		return nil, nil, notes, nil // not enabled, or a constraint: its labels do not matter
	}
	if e := p.err(); e != nil {
		if err != nil {
			e = joinProblems(err, e)
		}
		return nil, nil, notes, e
	}
	if err != nil {
		return nil, nil, notes, err
	}
	if err := addMiddlewares(frag, extra); err != nil {
		return nil, nil, notes, err
	}
	return frag, servers, notes, nil
}

// anyV2 reports whether any of labels is a Traefik v2 path (isV2).
func anyV2(labels map[string]string) bool {
	_, v2, _ := dialectLabels(labels)
	return v2
}

// rawmindToV1 gives the service's labels with rawmind0's translated into
// Traefik v1's: the rule (traefik.frontend.rule), priority, stickiness,
// port; rawmind0's own labels are left out.
func rawmindToV1(s *rancher.Service, o Options, p *problems) map[string]string {
	in := map[string]string{}
	for k, v := range s.Labels {
		in[strings.ToLower(k)] = v
	}
	out := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		lk := strings.ToLower(k)
		if !rawmindOnly[lk] && lk != "traefik.domain" && lk != "traefik.backend.circuitbreaker.expression" {
			out[k] = v
		}
	}
	if strings.EqualFold(strings.TrimSpace(in["traefik.enable"]), "stack") {
		out["traefik.enable"] = "true"
	}
	out["traefik.frontend.rule"] = rawmindRule(s, in, o, p)
	if _, ok := in["traefik.frontend.priority"]; !ok {
		out["traefik.frontend.priority"] = strconv.Itoa(rawmindPrio(in, p))
	}
	if v, ok := in["traefik.sticky"]; ok {
		on, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			p.add(errLabel("traefik.sticky", "%q is not true or false", v))
		} else if on { // {{if eq $traefik_sticky "true"}} sticky = true
			out["traefik.backend.loadbalancer.stickiness"] = "true"
		}
	}
	if _, ok := in["traefik.port"]; !ok && !hasSegmentPort(in) {
		out["traefik.port"] = rawmindPort
	}
	return out
}

// hasSegmentPort reports whether a v1 segment names its own port
// (traefik.<segment>.port).
func hasSegmentPort(labels map[string]string) bool {
	for k := range labels {
		if strings.HasPrefix(k, "traefik.") && strings.HasSuffix(k, ".port") && strings.Count(k, ".") == 2 && !rawmindOnly[strings.TrimSuffix(k, ".port")] {
			return true
		}
	}
	return false
}

// rawmindPrio is traefik.priority when it is a whole number > 0, else 5
// (traefik.tmpl: priority = {{if gt $traefik_priority "0"}}…{{else}}5).
func rawmindPrio(in map[string]string, p *problems) int {
	v, ok := in["traefik.priority"]
	if !ok || strings.TrimSpace(v) == "" {
		return rawmindPriority
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.add(errLabel("traefik.priority", "%q is not a whole number", v))
		return rawmindPriority
	}
	if n <= 0 {
		return rawmindPriority
	}
	return n
}

// rawmindList splits a rawmind0 list: spaces removed, then split on commas
// (traefik.tmpl: split (replace $v " " "") ","), empty items dropped.
func rawmindList(v string, lower bool) []string {
	var out []string
	for it := range strings.SplitSeq(strings.ReplaceAll(v, " ", ""), ",") {
		if it == "" {
			continue
		}
		if lower {
			it = strings.ToLower(it)
		}
		out = append(out, it)
	}
	return out
}

// rawmindRule is the v1 rule traefik.tmpl built: the hosts (HostRegexp of
// traefik.domain.regexp, Host of the domains and aliases), then the path
// matchers, joined by ";". traefik.frontend.rule, where set, replaces the
// hosts part (rawmind0 1.5: "Rule for host").
func rawmindRule(s *rancher.Service, in map[string]string, o Options, p *problems) string {
	var parts []string
	if r, ok := in["traefik.frontend.rule"]; ok && strings.TrimSpace(r) != "" {
		parts = append(parts, r)
	} else {
		parts = append(parts, rawmindHosts(s, in, o, p))
	}
	// Path:…; PathStrip:…; PathPrefix:…; PathPrefixStrip:… in this order,
	// each lower-cased ({{tolower $p}}).
	for _, m := range []struct{ label, matcher string }{
		{"traefik.path", "Path"}, {"traefik.path.strip", "PathStrip"},
		{"traefik.path.prefix", "PathPrefix"}, {"traefik.path.prefix.strip", "PathPrefixStrip"},
	} {
		paths := rawmindList(in[m.label], true)
		if len(paths) == 0 {
			continue
		}
		bad := false
		for _, path := range paths {
			if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, ";`") {
				p.add(errLabel(m.label, "%q is not a path (starting with /, without ; or `)", path))
				bad = true
			}
		}
		if !bad {
			parts = append(parts, m.matcher+":"+strings.Join(paths, ","))
		}
	}
	return strings.Join(parts, ";")
}

// rawmindHosts is the hosts part of the rule: for each domain d,
// <service>.<stack>.d (enable=true) or <stack>.d (enable=stack), then
// <alias>.d for each alias; then each alias.fqdn; all of them, or with
// traefik.domain.regexp its patterns first, as one HostRegexp.
func rawmindHosts(s *rancher.Service, in map[string]string, o Options, p *problems) string {
	stack := strings.EqualFold(strings.TrimSpace(in["traefik.enable"]), "stack")
	domains := rawmindList(in["traefik.domain"], false)
	if len(domains) == 0 && o.Domain != "" {
		domains = []string{o.Domain}
	}
	var hosts []string
	for _, d := range domains {
		d = strings.Trim(d, ".")
		if stack {
			hosts = append(hosts, strings.ToLower(s.Stack)+"."+d)
		} else {
			hosts = append(hosts, strings.ToLower(s.Name+"."+s.Stack)+"."+d)
		}
		for _, a := range rawmindList(in["traefik.alias"], true) {
			hosts = append(hosts, a+"."+d)
		}
	}
	if len(domains) > 0 {
		hosts = append(hosts, rawmindList(in["traefik.alias.fqdn"], true)...)
	} else {
		// Without a domain traefik.tmpl wrote Host:<service>.<stack>.
		hosts = []string{strings.ToLower(s.Name + "." + s.Stack)}
		for _, l := range []string{"traefik.alias", "traefik.alias.fqdn"} {
			if len(rawmindList(in[l], true)) > 0 {
				p.add(errLabel(l, "needs traefik.domain (or TRAEFIK_RANCHER_DOMAIN)"))
			}
		}
	}
	for _, h := range hosts {
		if strings.ContainsAny(h, ";`{}") {
			p.add(errLabel("traefik.domain", "host %q holds ; ` { or }", h))
			return "Host:" + strings.ToLower(s.Name+"."+s.Stack)
		}
	}
	res := rawmindList(in["traefik.domain.regexp"], true)
	for _, re := range res {
		if _, err := templateRegexp(re, true); err != nil || strings.ContainsAny(re, ";`") {
			p.add(errLabel("traefik.domain.regexp", "%q is not a host template ({name:regexp} parts)", re))
			res = nil
			break
		}
	}
	if len(res) > 0 {
		// A template without {…} is the host itself: one HostRegexp holds
		// both, so a request matching either is routed (traefik.tmpl wrote
		// "HostRegexp:re,Host:…", meaning the same alternatives).
		return "HostRegexp:" + strings.Join(append(res, hosts...), ",")
	}
	return "Host:" + strings.Join(hosts, ",")
}

// rateLimitMW is Traefik v3's rateLimit middleware with the options
// rawmind0 set: per client IP (its extractorfunc "client.ip" is v3's
// default source), average requests per period, burst.
type rateLimitMW struct {
	average, burst int64
	period         string
}

func (rateLimitMW) kind() string { return "rateLimit" }
func (m rateLimitMW) settings() map[string]any {
	return map[string]any{"average": m.average, "burst": m.burst, "period": m.period}
}

// circuitBreakerMW is Traefik v3's circuitBreaker middleware.
type circuitBreakerMW struct{ expression string }

func (circuitBreakerMW) kind() string { return "circuitBreaker" }
func (m circuitBreakerMW) settings() map[string]any {
	return map[string]any{"expression": m.expression}
}

// rawmindMiddlewares are the rate limit (first) and circuit breaker (last)
// a rawmind0 service's routers get.
func rawmindMiddlewares(labels map[string]string, p *problems) (mws []middleware) {
	in := map[string]string{}
	for k, v := range labels {
		in[strings.ToLower(k)] = v
	}
	if rl, ok := rawmindRateLimit(in, p); ok {
		mws = append(mws, rl)
	}
	expr := rawmindCircuitBreaker
	for _, l := range []string{"traefik.circuitbreaker", "traefik.backend.circuitbreaker.expression"} {
		if v, ok := in[l]; ok {
			if err := checkCircuitExpression(v); err != nil {
				p.add(errLabel(l, "%v", err))
				continue
			}
			expr = strings.TrimSpace(v)
		}
	}
	return append(mws, circuitBreakerMW{expression: expr})
}

// rawmindRateLimit reads traefik.ratelimit.*: on with enable=true, or when
// a period, average or burst is set (traefik.tmpl's condition), off with
// enable=false; defaults period 10s, average 100, burst 200.
func rawmindRateLimit(in map[string]string, p *problems) (rateLimitMW, bool) {
	rl := rateLimitMW{average: 100, burst: 200, period: "10s"}
	on := false
	for _, l := range []string{"traefik.ratelimit.period", "traefik.ratelimit.average", "traefik.ratelimit.burst"} {
		if _, ok := in[l]; ok {
			on = true
		}
	}
	if v, ok := in["traefik.ratelimit.enable"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			p.add(errLabel("traefik.ratelimit.enable", "%q is not true or false", v))
			return rl, false
		}
		on = b
	}
	if v, ok := in["traefik.ratelimit.period"]; ok {
		d, err := convert(kindDuration, v)
		if err != nil {
			p.add(errLabel("traefik.ratelimit.period", "%v", err))
		} else {
			rl.period = d.(string)
		}
	}
	for _, f := range []struct {
		label string
		dst   *int64
	}{{"traefik.ratelimit.average", &rl.average}, {"traefik.ratelimit.burst", &rl.burst}} {
		if v, ok := in[f.label]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 {
				p.add(errLabel(f.label, "%q is not a whole number > 0", v))
				continue
			}
			*f.dst = n
		}
	}
	return rl, on
}

// checkCircuitExpression checks a circuit breaker expression the way far
// enough to catch a typo: one of Traefik's three metrics, no backtick.
func checkCircuitExpression(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return fmt.Errorf("empty expression")
	}
	for _, m := range []string{"NetworkErrorRatio()", "LatencyAtQuantileMS(", "ResponseCodeRatio("} {
		if strings.Contains(v, m) {
			return nil
		}
	}
	return fmt.Errorf("uses none of NetworkErrorRatio(), LatencyAtQuantileMS(…), ResponseCodeRatio(…)")
}

// addMiddlewares adds mws to every HTTP router of frag, named
// <service>-<kind> after the router's service, so a service's routers (one
// per TLS mode, as rawmind0's one frontend) share one rate limit: a rate
// limit before the router's own middlewares, the circuit breaker after.
func addMiddlewares(frag *fragment, mws []middleware) error {
	routers := frag.sorted("http", "routers")
	if len(routers) == 0 || len(mws) == 0 {
		return nil
	}
	ours := map[string]bool{}
	for _, it := range routers {
		r := it.val
		svc, _ := r["service"].(string)
		own, _ := r["middlewares"].([]string)
		var before, after []string
		for _, m := range mws {
			mn := svc + "-" + strings.ToLower(m.kind())
			if frag.find("http", "middlewares", mn) != nil && !ours[mn] {
				return fmt.Errorf("http middlewares %q is already defined by another label of the service", mn)
			}
			frag.add("http", "middlewares", mn, map[string]any{m.kind(): m.settings()})
			ours[mn] = true
			if _, ok := m.(rateLimitMW); ok {
				before = append(before, mn)
			} else {
				after = append(after, mn)
			}
		}
		r["middlewares"] = append(append(before, own...), after...)
	}
	return nil
}
