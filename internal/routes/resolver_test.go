package routes

import (
	"reflect"
	"testing"

	"rancher-traefik/internal/rancher"
)

// TestDropResolver: with Options.DropResolver, HTTP and TCP routers of
// that resolver lose tls.certResolver and keep their TLS; another
// resolver stays.
func TestDropResolver(t *testing.T) {
	labels := map[string]string{"traefik.enable": "true",
		"traefik.http.routers.a.rule": "Host(`a`)", "traefik.http.routers.a.tls.certresolver": "acme",
		"traefik.http.routers.b.rule": "Host(`b`)", "traefik.http.routers.b.tls.certresolver": "other",
		"traefik.http.services.s.loadbalancer.server.port": "80",
		"traefik.tcp.routers.c.rule":                       "HostSNI(`c`)", "traefik.tcp.routers.c.tls.certresolver": "acme",
		"traefik.tcp.routers.c.entrypoints": "pg", "traefik.tcp.services.t.loadbalancer.server.port": "5432"}
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{Name: "s", Stack: "st", Kind: "service", Labels: labels,
		Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}}}
	for _, tc := range []struct {
		drop string
		want map[string]any // router → its tls table
	}{
		{"", map[string]any{"http/routers/a/tls": map[string]any{"certResolver": "acme"}, "http/routers/b/tls": map[string]any{"certResolver": "other"},
			"tcp/routers/c/tls": map[string]any{"certResolver": "acme"}}},
		{"acme", map[string]any{"http/routers/a/tls": map[string]any{}, "http/routers/b/tls": map[string]any{"certResolver": "other"},
			"tcp/routers/c/tls": map[string]any{}}},
	} {
		res := Build(snap, Options{Domain: "example.com", HTTPS: true, ACME: true, DropResolver: tc.drop, EntryPoints: map[string]string{"pg": "tcp"}})
		if len(res.Warnings) > 0 {
			t.Fatalf("drop %q: warnings %v", tc.drop, res.Warnings)
		}
		for path, want := range tc.want {
			if got := lookup(res.Config, path); !reflect.DeepEqual(got, want) {
				t.Errorf("drop %q: %s = %v, want %v", tc.drop, path, got, want)
			}
		}
	}
}
