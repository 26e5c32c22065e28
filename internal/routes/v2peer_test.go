package routes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// at is the value at path in a configuration tree, nil when absent.
func at(cfg map[string]any, path ...string) any {
	var cur any = cfg
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// v2Peer is one Traefik v2 Rancher provider behaviour: a service's labels
// (and ports) under options, the values expected at paths of the result,
// and the warnings, as "severity label" lines.
type v2Peer struct {
	name     string
	labels   map[string]string
	ports    []string
	opts     func(*Options)
	want     map[string]any // "http/routers/r/entryPoints" → value; nil: absent
	warnings []string
	contains string // a warning's message holds it
}

func (c v2Peer) run(t *testing.T) {
	t.Helper()
	labels := map[string]string{"traefik.enable": "true"}
	for k, v := range c.labels {
		labels[k] = v
	}
	ports := c.ports
	if ports == nil {
		ports = []string{"80/tcp"}
	}
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{
		Name: "app", Stack: "shop", Kind: "service", Ports: ports, Labels: labels,
		Containers: []rancher.Container{{Name: "c1", PrimaryIP: "10.0.0.1"}},
	}}}
	o := Options{Domain: "example.com", HTTPS: true}
	if c.opts != nil {
		c.opts(&o)
	}
	res := Build(snap, o)
	for path, want := range c.want {
		got := at(res.Config, strings.Split(path, "/")...)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", path, diff)
		}
	}
	var ws []string
	for _, w := range res.Warnings {
		ws = append(ws, [...]string{LeftOut: "warning", Dropped: "dropped", Note: "note"}[w.Severity]+" "+w.Label)
		if c.contains != "" && !strings.Contains(w.Msg, c.contains) {
			t.Errorf("warning %q does not say %q", w, c.contains)
		}
	}
	if diff := cmp.Diff(ws, c.warnings); diff != "" {
		t.Errorf("warnings (-got +want):\n%s", diff)
	}
}

// TestV2EntryPoints: web and websecure are http and https; an entry point
// that does not exist is left out of its router, and a router left with
// none is dropped, the service's other routers kept.
func TestV2EntryPoints(t *testing.T) {
	const rule = "Host(`a.example.com`)"
	noHTTPS := func(o *Options) { o.HTTPS = false }
	for _, c := range []v2Peer{
		{name: "web", labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "web"},
			want: map[string]any{"http/routers/r/entryPoints": []string{"http"}, "http/routers/r/tls": nil}},
		{name: "websecure", labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "websecure"},
			want: map[string]any{"http/routers/r/entryPoints": []string{"https"}, "http/routers/r/tls": map[string]any{}}},
		{name: "both, an alias twice, and an unknown one", labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "web,websecure,https,bogus"},
			want:     map[string]any{"http/routers/r/entryPoints": []string{"http", "https"}, "http/routers/r/tls": map[string]any{}},
			warnings: []string{"dropped traefik.http.routers.r.entrypoints"}, contains: `entry point "bogus" does not exist, and is left out of the router (usable: http (web), https (websecure))`},
		{name: "none left: that router only", labels: map[string]string{
			"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "bogus",
			"traefik.http.routers.r2.rule": "Host(`b.example.com`)", "traefik.http.routers.r2.entrypoints": "web"},
			want:     map[string]any{"http/routers/r": nil, "http/routers/r2/entryPoints": []string{"http"}, "http/services/app-shop/loadBalancer/servers": []map[string]any{{"url": "http://10.0.0.1:80"}}},
			warnings: []string{"dropped traefik.http.routers.r.entrypoints"}, contains: "router r is not published"},
		{name: "https without HTTPS", opts: noHTTPS, labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "websecure"},
			want: map[string]any{"http/routers/r": nil}, warnings: []string{"dropped traefik.http.routers.r.entrypoints"}, contains: `"websecure" does not exist`},
		{name: "the admin entry point", labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "traefik"},
			want: map[string]any{"http/routers/r": nil}, warnings: []string{"dropped traefik.http.routers.r.entrypoints"}},
		{name: "a declared TCP entry point", opts: func(o *Options) { o.EntryPoints = map[string]string{"alt": "tcp", "dns": "udp"} },
			labels: map[string]string{"traefik.http.routers.r.rule": rule, "traefik.http.routers.r.entrypoints": "alt,dns"},
			want:   map[string]any{"http/routers/r/entryPoints": []string{"alt"}}, warnings: []string{"dropped traefik.http.routers.r.entrypoints"}, contains: `"dns" serves UDP`},
	} {
		t.Run(c.name, c.run)
	}
}

// TestV2Streams: TCP and UDP routers use TRAEFIK_ENTRYPOINTS' entry points
// of their protocol (all of them without the label), and https only with
// TLS and a server name; anything else drops that router only.
func TestV2Streams(t *testing.T) {
	declared := func(o *Options) { o.EntryPoints = map[string]string{"pg": "tcp", "pg2": "tcp", "dns": "udp"} }
	tcp := map[string]string{"traefik.tcp.routers.db.rule": "HostSNI(`*`)", "traefik.tcp.services.db.loadbalancer.server.port": "5432"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, c := range []v2Peer{
		{name: "tcp default", opts: declared, labels: tcp,
			want: map[string]any{"tcp/routers/db/entryPoints": []string{"pg", "pg2"}, "tcp/services/db/loadBalancer/servers": []map[string]any{{"address": "10.0.0.1:5432"}}}},
		{name: "tcp named", opts: declared, labels: with(tcp, "traefik.tcp.routers.db.entrypoints", "pg2"),
			want: map[string]any{"tcp/routers/db/entryPoints": []string{"pg2"}}},
		{name: "tcp on web", opts: declared, labels: with(tcp, "traefik.tcp.routers.db.entrypoints", "web"),
			want:     map[string]any{"tcp/routers": nil, "tcp/services/db": map[string]any{"loadBalancer": map[string]any{"servers": []map[string]any{{"address": "10.0.0.1:5432"}}}}},
			warnings: []string{"dropped traefik.tcp.routers.db.entrypoints"}, contains: `"web" is not one a TCP router can use (usable: pg, pg2; https for a router with TLS and a HostSNI other than *)`},
		{name: "tcp HostSNI(*) on websecure", opts: declared, labels: with(tcp, "traefik.tcp.routers.db.entrypoints", "websecure", "traefik.tcp.routers.db.tls", "true"),
			want: map[string]any{"tcp/routers": nil}, warnings: []string{"dropped traefik.tcp.routers.db.entrypoints"}},
		{name: "tcp SNI on websecure", labels: with(tcp, "traefik.tcp.routers.db.rule", "HostSNI(`db.example.com`)", "traefik.tcp.routers.db.entrypoints", "websecure", "traefik.tcp.routers.db.tls.passthrough", "true"),
			want: map[string]any{"tcp/routers/db/entryPoints": []string{"https"}}},
		{name: "tcp SNI without entry points: https", labels: with(tcp, "traefik.tcp.routers.db.rule", "HostSNI(`db.example.com`)", "traefik.tcp.routers.db.tls", "true"),
			want: map[string]any{"tcp/routers/db/entryPoints": []string{"https"}}},
		{name: "tcp SNI without entry points, declared ones: those", opts: declared, labels: with(tcp, "traefik.tcp.routers.db.rule", "HostSNI(`db.example.com`)", "traefik.tcp.routers.db.tls", "true"),
			want: map[string]any{"tcp/routers/db/entryPoints": []string{"pg", "pg2"}}},
		{name: "tcp without entry points", labels: tcp,
			want: map[string]any{"tcp/routers": nil}, warnings: []string{"dropped traefik.tcp.routers.db.entrypoints"}, contains: "TRAEFIK_ENTRYPOINTS=name:port/tcp"},
		{name: "udp default", opts: declared, labels: map[string]string{"traefik.udp.routers.dns.service": "dns", "traefik.udp.services.dns.loadbalancer.server.port": "53"},
			want: map[string]any{"udp/routers/dns/entryPoints": []string{"dns"}, "udp/services/dns/loadBalancer/servers": []map[string]any{{"address": "10.0.0.1:53"}}}},
		{name: "udp on a tcp entry point", opts: declared, labels: map[string]string{"traefik.udp.routers.dns.entrypoints": "pg", "traefik.udp.services.dns.loadbalancer.server.port": "53"},
			want: map[string]any{"udp/routers": nil}, warnings: []string{"dropped traefik.udp.routers.dns.entrypoints"}},
		{name: "udp without entry points", labels: map[string]string{"traefik.udp.routers.dns.service": "dns", "traefik.udp.services.dns.loadbalancer.server.port": "53"},
			want: map[string]any{"udp/routers": nil}, warnings: []string{"dropped traefik.udp.routers.dns.entrypoints"}, contains: "TRAEFIK_ENTRYPOINTS=name:port/udp"},
	} {
		t.Run(c.name, c.run)
	}
}

// TestV2RancherReferences: name@rancher (and @docker) names what
// rancher-traefik publishes under name; other providers' names stay.
func TestV2RancherReferences(t *testing.T) {
	c := v2Peer{labels: map[string]string{
		"traefik.http.routers.r.rule":                                    "Host(`a.example.com`)",
		"traefik.http.routers.r.middlewares":                             "shared-auth@rancher, chain@rancher, own@file",
		"traefik.http.routers.r.service":                                 "app-shop@rancher",
		"traefik.http.middlewares.chain.chain.middlewares":               "a@rancher,b@docker,api@internal",
		"traefik.http.middlewares.e.errors.service":                      "pages@rancher",
		"traefik.http.middlewares.e.errors.status":                       "500-599",
		"traefik.http.services.app-shop.loadbalancer.sticky.cookie.name": "c@rancher",
	}, want: map[string]any{
		"http/routers/r/middlewares":                             []string{"shared-auth", "chain", "own@file"},
		"http/routers/r/service":                                 "app-shop",
		"http/middlewares/chain/chain/middlewares":               []string{"a", "b", "api@internal"},
		"http/middlewares/e/errors/service":                      "pages",
		"http/services/app-shop/loadBalancer/sticky/cookie/name": "c@rancher", // not a reference
	}}
	c.run(t)
}

// TestV2FirstDeclaredPort: several ports and no port label: the first
// declared, said at info level (Traefik v2 took service.Ports[0]).
func TestV2FirstDeclaredPort(t *testing.T) {
	for _, c := range []v2Peer{
		{name: "declared order, not sorted", ports: []string{"9090/tcp", "0.0.0.0:8080:80/tcp", "8080/tcp"},
			labels:   map[string]string{"traefik.http.routers.r.rule": "Host(`a.example.com`)"},
			want:     map[string]any{"http/services/app-shop/loadBalancer/servers": []map[string]any{{"url": "http://10.0.0.1:9090"}}},
			warnings: []string{"note traefik.http.services.app-shop.loadbalancer.server.port"}, contains: "3 ports (9090, 80, 8080): using the first declared, 9090"},
		{name: "tcp too", ports: []string{"5433/tcp", "5432/tcp"}, opts: func(o *Options) { o.EntryPoints = map[string]string{"pg": "tcp"} },
			labels:   map[string]string{"traefik.tcp.routers.db.rule": "HostSNI(`*`)"},
			want:     map[string]any{"tcp/services/app-shop/loadBalancer/servers": []map[string]any{{"address": "10.0.0.1:5433"}}},
			warnings: []string{"note traefik.tcp.services.app-shop.loadbalancer.server.port"}},
		{name: "a port label wins", ports: []string{"9090/tcp", "8080/tcp"},
			labels: map[string]string{"traefik.http.routers.r.rule": "Host(`a.example.com`)", "traefik.http.services.s.loadbalancer.server.port": "8080"},
			want:   map[string]any{"http/services/s/loadBalancer/servers": []map[string]any{{"url": "http://10.0.0.1:8080"}}}},
		{name: "no port at all", ports: []string{},
			labels:   map[string]string{"traefik.http.routers.r.rule": "Host(`a.example.com`)"},
			want:     map[string]any{"http": nil},
			warnings: []string{"warning traefik.http.services.app-shop.loadbalancer.server.port"}},
	} {
		t.Run(c.name, c.run)
	}
}
