package routes

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// TestEveryProblemOfAServiceIsListed: a service with several bad labels gets
// one warning per label (not only the first), a root label shared by
// segments is named once, and the good service beside them is published.
func TestEveryProblemOfAServiceIsListed(t *testing.T) {
	svc := func(name string, labels map[string]string) rancher.Service {
		labels["traefik.enable"] = "true"
		return rancher.Service{Name: name, Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels,
			Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}
	}
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{
		svc("v1", map[string]string{
			"traefik.port":                         "http",
			"traefik.protocol":                     "gopher",
			"traefik.frontend.rule":                "Hots:a.example.com",
			"traefik.frontend.priority":            "high",
			"traefik.frontend.rateLimit.period":    "10s",
			"traefik.backend.healthcheck.path":     "health",
			"traefik.backend.healthcheck.interval": "often",
		}),
		svc("segments", map[string]string{
			"traefik.protocol":            "gopher",
			"traefik.a.port":              "80",
			"traefik.a.frontend.rule":     "Host:a.example.com",
			"traefik.b.port":              "99999",
			"traefik.b.frontend.rule":     "Host:b.example.com",
			"traefik.b.frontend.priority": "x",
		}),
		svc("v2", map[string]string{
			"traefik.http.routers.r.rulez":            "Host(`a`)",
			"traefik.http.routers.r.priority":         "high",
			"traefik.http.routers.r.tls.certresolver": "acme",
		}),
		svc("good", map[string]string{"traefik.port": "80", "traefik.frontend.rule": "Host:good.example.com"}),
	}}
	res := Build(snap, Options{Domain: "example.com"})
	var got []string
	for _, w := range res.Warnings {
		got = append(got, w.Service+" "+w.Label)
	}
	want := []string{
		"v1 traefik.backend.healthcheck.interval",
		"v1 traefik.backend.healthcheck.path",
		"v1 traefik.frontend.priority",
		"v1 traefik.frontend.rateLimit.period",
		"v1 traefik.frontend.rule",
		"v1 traefik.port",
		"v1 traefik.protocol",
		"segments traefik.b.frontend.priority",
		"segments traefik.b.port",
		"segments traefik.protocol",
		"v2 traefik.http.routers.r.priority",
		"v2 traefik.http.routers.r.rulez",
		"v2 traefik.http.routers.r.tls.certresolver",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("warnings (-got +want):\n%s\n%v", diff, res.Warnings)
	}
	if diff := cmp.Diff(Routers(res.Config), []string{"http/good-st"}); diff != "" {
		t.Errorf("routers (-got +want):\n%s", diff)
	}
}
