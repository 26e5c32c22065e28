package routes

import (
	"testing"

	"rancher-traefik/internal/rancher"
)

// buildOne builds the service s of stack st (port 80, one container) with
// labels (traefik.enable added) and the options, as the product does.
func buildOne(t testing.TB, name, stack string, labels map[string]string, o Options) Result {
	t.Helper()
	all := map[string]string{"traefik.enable": "true"}
	for k, v := range labels {
		all[k] = v
	}
	o.CredentialDir, o.CredentialKey = testCredDir, testCredKey
	return Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{{
		Name: name, Stack: stack, Kind: "service", Ports: []string{"80/tcp"}, Labels: all,
		Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
	}}}, o)
}

// TestV1Priority: a v1 router's priority is the length of its v1 rule as
// written (Traefik v1.7, server/server_configuration.go buildServerRoute),
// unless traefik.frontend.priority is above 0.
func TestV1Priority(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		router string
		want   int64
	}{
		// The measured pair: v1 sends /api/x to the first (32 > 28); the
		// translated rules' lengths would order them the other way.
		{"path beats hosts", map[string]string{"traefik.frontend.rule": "Host:a.prio.test;PathPrefix:/api"}, "s-st", 32},
		{"two hosts", map[string]string{"traefik.frontend.rule": "Host:a.prio.test,b.prio.test"}, "s-st", 28},
		{"as written, spaces included", map[string]string{"traefik.frontend.rule": "Host: a.test ; Path:/x"}, "s-st", 22},
		{"default rule", nil, "s-st", int64(len("Host:s.st.example.com"))},
		{"default rule, traefik.domain", map[string]string{"traefik.domain": "other.test"}, "s-st", int64(len("Host:s.st.other.test"))},
		{"label wins", map[string]string{"traefik.frontend.rule": "Host:a.test", "traefik.frontend.priority": "100"}, "s-st", 100},
		{"0: v1's length", map[string]string{"traefik.frontend.rule": "Host:a.test", "traefik.frontend.priority": "0"}, "s-st", 11},
		{"negative: v1's length", map[string]string{"traefik.frontend.rule": "Host:a.test", "traefik.frontend.priority": "-3"}, "s-st", 11},
		{"segment rule", map[string]string{"traefik.web.port": "80", "traefik.web.frontend.rule": "PathPrefix:/web"}, "s-st-web", 15},
		{"segment, root priority", map[string]string{"traefik.frontend.priority": "7", "traefik.web.port": "80", "traefik.web.frontend.rule": "PathPrefix:/web"}, "s-st-web", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := buildOne(t, "s", "st", tt.labels, Options{Domain: "example.com"})
			if len(res.Warnings) > 0 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			if got := lookup(res.Config, "http/routers/"+tt.router+"/priority"); got != tt.want {
				t.Errorf("priority %v, want %d", got, tt.want)
			}
		})
	}
}

// TestNamesThroughBuild: services whose names once collided are both
// published.
func TestNamesThroughBuild(t *testing.T) {
	svc := func(name, stack string) rancher.Service {
		return rancher.Service{Name: name, Stack: stack, Kind: "service", Ports: []string{"80/tcp"},
			Labels:     map[string]string{"traefik.enable": "true", "traefik.frontend.rule": "Host:" + stack + ".test"},
			Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}
	}
	res := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{
		svc("c", "a-b"), svc("c-a", "b"), svc("服务", "zz"), svc("数据", "zz"),
	}}, Options{Domain: "example.com", CredentialDir: testCredDir, CredentialKey: testCredKey})
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %v", res.Warnings)
	}
	if got := len(Routers(res.Config)); got != 4 {
		t.Errorf("%d routers, want 4: %v", got, Routers(res.Config))
	}
}
