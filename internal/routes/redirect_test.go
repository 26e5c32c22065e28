package routes

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// TestRedirectsNameThePublicPort: every v1 label that redirects to https
// names the port clients reach HTTPS on (TRAEFIK_HTTPS_PUBLIC_PORT), so a
// redirect works behind a port mapping; a redirect to http keeps the
// scheme's port, as Traefik does.
func TestRedirectsNameThePublicPort(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		port   int
		want   map[string]any
	}{
		{"entryPoint https behind a mapping", map[string]string{"traefik.frontend.redirect.entryPoint": "https"}, 8443,
			map[string]any{"scheme": "https", "permanent": false, "port": "8443"}},
		{"entryPoint https, permanent, the default port", map[string]string{"traefik.frontend.redirect.entryPoint": "HTTPS", "traefik.frontend.redirect.permanent": "true"}, 443,
			map[string]any{"scheme": "https", "permanent": true, "port": "443"}},
		{"entryPoint http keeps the scheme's port", map[string]string{"traefik.frontend.redirect.entryPoint": "http"}, 8443,
			map[string]any{"scheme": "http", "permanent": false}},
		{"SSLRedirect", map[string]string{"traefik.frontend.headers.SSLRedirect": "true"}, 8443,
			map[string]any{"scheme": "https", "permanent": true, "port": "8443"}},
		{"SSLTemporaryRedirect", map[string]string{"traefik.frontend.headers.SSLTemporaryRedirect": "true"}, 9443,
			map[string]any{"scheme": "https", "permanent": false, "port": "9443"}},
		{"no public port given: the scheme's", map[string]string{"traefik.frontend.headers.SSLRedirect": "true"}, 0,
			map[string]any{"scheme": "https", "permanent": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := map[string]string{"traefik.enable": "true", "traefik.port": "80", "traefik.frontend.rule": "Host:a.example.com"}
			for k, v := range tt.labels {
				labels[k] = v
			}
			snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{
				Name: "web", Stack: "st", Kind: "service", Labels: labels,
				Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
			}}}
			res := Build(snap, Options{HTTPS: true, HTTPSPort: tt.port})
			if len(res.Warnings) > 0 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			mw, _ := res.Config["http"].(map[string]any)["middlewares"].(map[string]any)["web-st-redirectscheme"].(map[string]any)
			if diff := cmp.Diff(mw["redirectScheme"], tt.want); diff != "" {
				t.Errorf("redirectScheme (-got +want):\n%s", diff)
			}
		})
	}
}

func TestRedirectsGolden(t *testing.T) {
	res := Build(snapshot(t, "testdata/redirects.yml"), Options{Domain: "example.com", HTTPS: true, HTTPSPort: 8443})
	golden(t, "redirects.toml", render(t, res))
}

func TestSSLHostRedirectNamesThePublicPort(t *testing.T) {
	tests := []struct {
		name, sslHost string
		port          int
		want          string
	}{
		{"behind a mapping", "secure.test", 8443, "https://secure.test:8443$1"},
		{"the default port", "secure.test", 443, "https://secure.test$1"},
		{"no public port given", "secure.test", 0, "https://secure.test$1"},
		{"SSLHost names its own port", "secure.test:9443", 8443, "https://secure.test:9443$1"},
		{"an IPv6 literal", "[2001:db8::1]", 8443, "https://[2001:db8::1]:8443$1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{
				Name: "web", Stack: "st", Kind: "service", Labels: map[string]string{
					"traefik.enable": "true", "traefik.port": "80", "traefik.frontend.rule": "Host:a.example.com",
					"traefik.frontend.headers.SSLRedirect": "true", "traefik.frontend.headers.SSLHost": tt.sslHost,
				},
				Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
			}}}
			res := Build(snap, Options{HTTPS: true, HTTPSPort: tt.port})
			if len(res.Warnings) > 0 {
				t.Fatalf("warnings: %v", res.Warnings)
			}
			mw, _ := res.Config["http"].(map[string]any)["middlewares"].(map[string]any)["web-st-redirectregex"].(map[string]any)
			got, _ := mw["redirectRegex"].(map[string]any)["replacement"].(string)
			if got != tt.want {
				t.Errorf("replacement = %q, want %q", got, tt.want)
			}
		})
	}
}
