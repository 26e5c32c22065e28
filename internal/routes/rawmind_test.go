package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// rawmindService0 is service s of stack St (container 10.0.0.1, exposing
// 8080: rawmind0 still sends to port 80) with labels.
func rawmindBuild(labels map[string]string, o Options) Result {
	return Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{{
		Name: "s", Stack: "St", Kind: "service", Ports: []string{"8080/tcp"}, Labels: labels,
		Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
	}}}, o)
}

const cbDefault = "NetworkErrorRatio() > 0.5"

// rawmindCases: one case per row of rawmindLabels (key), each the labels of
// a rawmind0 user and the piece of configuration they give. Template lines
// are rawmind0/rancher-traefik's root/opt/tools/rancher-template/tmpl/traefik.tmpl.
var rawmindCases = []compatCase{
	// {{if or (eq $traefik_enable "true") (eq $traefik_enable "stack")}}; stack: {{tolower $stack.Name}}.{{$v}}
	{key: "traefik.enable", labels: map[string]string{"traefik.enable": "stack", "traefik.domain": "a.test"}, at: "http/routers/s-St/rule", want: "Host(`st.a.test`)"},
	// Host: {{tolower $service.Name}}.{{tolower $stack.Name}}.{{$v}} for each domain, joined by ","
	{key: "traefik.domain", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com, b.com"}, at: "http/routers/s-St/rule", want: "(Host(`s.st.a.com`) || Host(`s.st.b.com`))"},
	// HostRegexp: {{tolower $r}} before the hosts
	{key: "traefik.domain.regexp", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.domain.regexp": "{sub:[a-z]+}.b.com"}, at: "http/routers/s-St/rule", want: "(HostRegexp(`^(?:[a-z]+)\\.b\\.com$`) || HostRegexp(`^s\\.st\\.a\\.com$`))"},
	// ,{{tolower $a}}.{{$v}} after each domain's own host
	{key: "traefik.alias", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com,b.com", "traefik.alias": "www"}, at: "http/routers/s-St/rule", want: "(Host(`s.st.a.com`) || Host(`www.a.com`) || Host(`s.st.b.com`) || Host(`www.b.com`))"},
	// ,{{tolower $af}} once, after the domains
	{key: "traefik.alias.fqdn", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.alias.fqdn": "Shop.Example.org"}, at: "http/routers/s-St/rule", want: "(Host(`s.st.a.com`) || Host(`shop.example.org`))"},
	// Path: {{tolower $p}} …;
	{key: "traefik.path", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.path": "/API,/v2"}, at: "http/routers/s-St/rule", want: "Host(`s.st.a.com`) && (Path(`/api`) || Path(`/v2`))"},
	{key: "traefik.path.strip", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.path.strip": "/x"}, at: "http/middlewares/s-St-stripprefix/stripPrefix/prefixes", want: []string{"/x"}},
	{key: "traefik.path.prefix", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.path.prefix": "/api"}, at: "http/routers/s-St/rule", want: "Host(`s.st.a.com`) && PathPrefix(`/api`)"},
	{key: "traefik.path.prefix.strip", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.path.prefix.strip": "/api"}, at: "http/routers/s-St/middlewares", want: []string{"s-St-stripprefix", "s-St-circuitbreaker"}},
	// priority = {{if gt $traefik_priority "0"}}{{$traefik_priority}}{{else}}5{{end}}
	{key: "traefik.priority", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.priority": "20"}, at: "http/routers/s-St/priority", want: int64(20)},
	// {{if eq $traefik_sticky "true"}} sticky = true
	{key: "traefik.sticky", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.sticky": "true"}, at: "http/services/s-St/loadBalancer/sticky", want: map[string]any{"cookie": map[string]any{}}},
	// [frontends.X.ratelimit] extractorfunc = "client.ip", rateset1: period 10s, average 100, burst 200
	{key: "traefik.ratelimit.enable", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.ratelimit.enable": "true"}, at: "http/middlewares/s-St-ratelimit/rateLimit", want: map[string]any{"average": int64(100), "burst": int64(200), "period": "10s"}},
	{key: "traefik.ratelimit.period", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.ratelimit.period": "30"}, at: "http/middlewares/s-St-ratelimit/rateLimit", want: map[string]any{"average": int64(100), "burst": int64(200), "period": "30s"}},
	{key: "traefik.ratelimit.average", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.ratelimit.average": "7"}, at: "http/routers/s-St/middlewares", want: []string{"s-St-ratelimit", "s-St-circuitbreaker"}},
	{key: "traefik.ratelimit.burst", labels: map[string]string{"traefik.enable": "true", "traefik.domain": "a.com", "traefik.ratelimit.burst": "9"}, at: "http/middlewares/s-St-ratelimit/rateLimit/burst", want: int64(9)},
	// [backends.X.circuitbreaker] expression = "NetworkErrorRatio() > 0.5"
	{key: "traefik.circuitbreaker", labels: map[string]string{"traefik.enable": "stack", "traefik.circuitbreaker": "ResponseCodeRatio(500, 600, 0, 600) > 0.3"}, at: "http/middlewares/s-St-circuitbreaker/circuitBreaker/expression", want: "ResponseCodeRatio(500, 600, 0, 600) > 0.3"},
	{key: "traefik.backend.circuitbreaker.expression", labels: map[string]string{"traefik.enable": "stack", "traefik.domain": "a.com,b.com", "traefik.backend.circuitbreaker.expression": "LatencyAtQuantileMS(50.0) > 100"}, at: "http/middlewares/s-St-circuitbreaker/circuitBreaker/expression", want: "LatencyAtQuantileMS(50.0) > 100"},
	// url = "http://{{$container.PrimaryIp}}:{{if gt $traefik_port "0"}}{{$traefik_port}}{{else}}80{{end}}"
	{key: "traefik.port", labels: map[string]string{"traefik.enable": "stack"}, at: "http/services/s-St/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:80"}}},
}

// TestRawmindDefaults: a rawmind0 service gets rawmind0's fixed settings —
// priority 5, the circuit breaker, port 80 — and the whole router.
func TestRawmindDefaults(t *testing.T) {
	res := rawmindBuild(map[string]string{"traefik.enable": "true", "traefik.domain": "a.com,b.com"}, Options{HTTPS: true})
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	want := map[string]any{
		"rule": "(Host(`s.st.a.com`) || Host(`s.st.b.com`))", "service": "s-St", "priority": int64(5),
		"entryPoints": []string{"https"}, "tls": map[string]any{}, "middlewares": []string{"s-St-circuitbreaker"},
	}
	if diff := cmp.Diff(lookup(res.Config, "http/routers/s-St"), want); diff != "" {
		t.Errorf("router (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(lookup(res.Config, "http/middlewares/s-St-circuitbreaker/circuitBreaker/expression"), cbDefault); diff != "" {
		t.Errorf("circuit breaker (-got +want):\n%s", diff)
	}
}

// TestRawmindDetection: rawmind0's own labels and values switch a service
// to its dialect; Traefik v1.7 services (and v2 ones) keep theirs.
func TestRawmindDetection(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"traefik.enable": "Stack"}, true},
		{map[string]string{"traefik.enable": "true", "traefik.domain": "a.com,b.com"}, true},
		{map[string]string{"traefik.enable": "true", "Traefik.Alias": "www"}, true},
		{map[string]string{"traefik.enable": "true", "traefik.ratelimit.burst": "1"}, true},
		{map[string]string{"traefik.enable": "true", "traefik.domain": "a.com"}, false},
		{map[string]string{"traefik.enable": "true", "traefik.port": "80", "traefik.frontend.rule": "Host:a.com,b.com"}, false},
		{map[string]string{"traefik.enable": "true", "traefik.path.frontend.rule": "Path:/x", "traefik.path.port": "80"}, false}, // a v1.7 segment named path
		{map[string]string{"traefik.enable": "true", "traefik.priority.port": "80"}, false},
	}
	for _, tt := range tests {
		if got := isRawmind(tt.labels); got != tt.want {
			t.Errorf("isRawmind(%v) = %v, want %v", tt.labels, got, tt.want)
		}
	}
	// A v2 label wins: the service is read as v2, rawmind0's labels unused.
	res := rawmindBuild(map[string]string{"traefik.enable": "true", "traefik.alias": "www", "traefik.http.routers.r.rule": "Host(`x.test`)"}, Options{Domain: "example.com"})
	if got := lookup(res.Config, "http/routers/r/rule"); got != "Host(`x.test`)" {
		t.Errorf("v2 router rule = %v, warnings %v", got, res.Warnings)
	}
}

// TestRawmindMix: v1 labels beside rawmind0's keep their v1 meaning; a
// traefik.frontend.rule replaces rawmind0's hosts, its paths are added.
func TestRawmindMix(t *testing.T) {
	res := rawmindBuild(map[string]string{
		"traefik.enable": "stack", "traefik.frontend.rule": "Host:own.test", "traefik.path.prefix": "/api",
		"traefik.port": "8080", "traefik.frontend.priority": "42", "traefik.frontend.entryPoints": "http",
	}, Options{Domain: "example.com"})
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	for at, want := range map[string]any{
		"http/routers/s-St/rule":                  "Host(`own.test`) && PathPrefix(`/api`)",
		"http/routers/s-St/priority":              int64(42),
		"http/routers/s-St/entryPoints":           []string{"http"},
		"http/services/s-St/loadBalancer/servers": []map[string]any{{"url": "http://10.0.0.1:8080"}},
	} {
		if diff := cmp.Diff(lookup(res.Config, at), want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", at, diff)
		}
	}
}

// TestRawmindBadLabels: a bad rawmind0 label leaves its service out with a
// warning naming the label (and only that service); a disabled service's
// labels are not checked.
func TestRawmindBadLabels(t *testing.T) {
	tests := []struct {
		labels  map[string]string
		label   string
		dropped bool // the label only is dropped (an unknown v1 label, as Traefik v1.7 ignored it)
	}{
		{map[string]string{"traefik.enable": "stack", "traefik.priority": "high"}, "traefik.priority", false},
		{map[string]string{"traefik.enable": "stack", "traefik.sticky": "yes please"}, "traefik.sticky", false},
		{map[string]string{"traefik.enable": "stack", "traefik.path": "api"}, "traefik.path", false},
		{map[string]string{"traefik.enable": "stack", "traefik.path.prefix.strip": "/a`b"}, "traefik.path.prefix.strip", false},
		{map[string]string{"traefik.enable": "stack", "traefik.domain.regexp": "{sub:[a-z}.a.com"}, "traefik.domain.regexp", false},
		{map[string]string{"traefik.enable": "stack", "traefik.domain": "a.com;b", "traefik.alias": "x"}, "traefik.domain", false},
		{map[string]string{"traefik.enable": "stack", "traefik.alias": "www"}, "traefik.alias", false},
		{map[string]string{"traefik.enable": "stack", "traefik.ratelimit.enable": "maybe"}, "traefik.ratelimit.enable", false},
		{map[string]string{"traefik.enable": "stack", "traefik.ratelimit.period": "soon"}, "traefik.ratelimit.period", false},
		{map[string]string{"traefik.enable": "stack", "traefik.ratelimit.average": "0"}, "traefik.ratelimit.average", false},
		{map[string]string{"traefik.enable": "stack", "traefik.ratelimit.burst": "-1"}, "traefik.ratelimit.burst", false},
		{map[string]string{"traefik.enable": "stack", "traefik.circuitbreaker": "always"}, "traefik.circuitbreaker", false},
		{map[string]string{"traefik.enable": "stack", "traefik.port": "http"}, "traefik.port", false},
		{map[string]string{"traefik.enable": "stack", "traefik.frontend.nope": "1"}, "traefik.frontend.nope", true},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			res := rawmindBuild(tt.labels, Options{}) // no TRAEFIK_RANCHER_DOMAIN
			if published := len(res.Config) != 0; published != tt.dropped {
				t.Errorf("published %v, want published %v", res.Config, tt.dropped)
			}
			found := false
			for _, w := range res.Warnings {
				found = found || w.Label == tt.label && (w.Severity == Dropped) == tt.dropped
			}
			if !found {
				t.Errorf("warnings %v name no %s", res.Warnings, tt.label)
			}
		})
	}
	off := rawmindBuild(map[string]string{"traefik.enable": "false", "traefik.priority": "high"}, Options{Domain: "example.com"})
	if len(off.Config) != 0 || len(off.Warnings) != 0 {
		t.Errorf("disabled service: config %v, warnings %v; want none", off.Config, off.Warnings)
	}
}

// TestRawmindNoDomain: without traefik.domain or TRAEFIK_RANCHER_DOMAIN the
// host is <service>.<stack>, as traefik.tmpl wrote it; with
// TRAEFIK_RANCHER_DOMAIN, that domain stands in for traefik.domain.
func TestRawmindNoDomain(t *testing.T) {
	for _, tt := range []struct {
		domain, want string
	}{{"", "Host(`s.st`)"}, {"example.com", "(Host(`st.example.com`) || Host(`www.example.com`))"}} {
		labels := map[string]string{"traefik.enable": "stack"}
		if tt.domain != "" {
			labels["traefik.alias"] = "www"
		}
		res := rawmindBuild(labels, Options{Domain: tt.domain})
		if got := lookup(res.Config, "http/routers/s-St/rule"); got != tt.want {
			t.Errorf("domain %q: rule %v, want %s (warnings %v)", tt.domain, got, tt.want, res.Warnings)
		}
	}
}

// FuzzRawmind: any rawmind0 labels give a configuration that encodes, or
// warnings — never a panic, never both for one service.
func FuzzRawmind(f *testing.F) {
	f.Add("stack", "a.com,b.com", "www", "{x:[a-z]+}.c.com", "/api", "7", "10s")
	f.Add("true", "", "", "", "", "", "")
	f.Add("stack", " , ", ",", "{", "api", "-1", "x")
	f.Fuzz(func(t *testing.T, enable, domain, alias, re, path, prio, period string) {
		labels := map[string]string{"traefik.enable": enable, "traefik.domain": domain, "traefik.alias": alias,
			"traefik.domain.regexp": re, "traefik.path.prefix.strip": path, "traefik.priority": prio, "traefik.ratelimit.period": period}
		res := rawmindBuild(labels, Options{Domain: "example.com"})
		if len(res.Config) > 0 && len(res.Warnings) > 0 {
			t.Fatalf("both published and warned: %v", res.Warnings)
		}
		if _, err := Encode(res.Config); err != nil {
			t.Fatal(err)
		}
		if r, ok := lookup(res.Config, "http/routers/s-St/rule").(string); ok && strings.Contains(r, "``") {
			t.Errorf("empty matcher in %s", r)
		}
	})
}

// TestRawmindOnlyKeyLength: isRawmind skips keys longer than the longest
// of rawmindOnly; that bound must hold.
func TestRawmindOnlyKeyLength(t *testing.T) {
	for k := range rawmindOnly {
		if len(k) > len("traefik.path.prefix.strip") {
			t.Errorf("%q is longer than isRawmind's bound", k)
		}
	}
}

// TestRawmindSharedLimit: a service's routers (one per TLS mode with
// entryPoints=http,https) share its one rate limit and circuit breaker, as
// rawmind0's single frontend did.
func TestRawmindSharedLimit(t *testing.T) {
	res := rawmindBuild(map[string]string{"traefik.enable": "stack", "traefik.domain": "a.com", "traefik.frontend.entryPoints": "http,https", "traefik.ratelimit.enable": "true"}, Options{HTTPS: true})
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	routers, _ := lookup(res.Config, "http/routers").(map[string]any)
	if len(routers) != 2 {
		t.Fatalf("%d routers, want one per TLS mode: %v", len(routers), routers)
	}
	for name, r := range routers {
		if diff := cmp.Diff(r.(map[string]any)["middlewares"], []string{"s-St-ratelimit", "s-St-circuitbreaker"}); diff != "" {
			t.Errorf("router %s middlewares (-got +want):\n%s", name, diff)
		}
	}
	if mws, _ := lookup(res.Config, "http/middlewares").(map[string]any); len(mws) != 2 {
		t.Errorf("%d middlewares, want 2: %v", len(mws), mws)
	}
}
