package routes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestV1EntryPoints: traefik.frontend.entryPoints naming entry points of
// both TLS modes gives one router per mode, sharing one service; an entry
// point that does not exist is left out with a warning, and a frontend
// with none left is not published.
func TestV1EntryPoints(t *testing.T) {
	type r = epRouter
	tests := []epCase{
		{"http,https", map[string]string{"traefik.frontend.entryPoints": "http,https"}, true, false, map[string]r{
			"s-st":      {[]string{"https"}, map[string]any{}, nil},
			"s-st-http": {[]string{"http"}, nil, nil},
		}, nil, true},
		{"redirect.entryPoint=https fires on http only", map[string]string{"traefik.frontend.entryPoints": "http,https", "traefik.frontend.redirect.entryPoint": "https"}, true, false, map[string]r{
			"s-st":      {[]string{"https"}, map[string]any{}, nil},
			"s-st-http": {[]string{"http"}, nil, []string{"s-st-redirectscheme"}},
		}, nil, true},
		{"SSLRedirect fires on http only; other middlewares on both", map[string]string{"traefik.frontend.entryPoints": "https, http", "traefik.frontend.headers.SSLRedirect": "true", "traefik.frontend.headers.frameDeny": "true"}, true, false, map[string]r{
			"s-st":      {[]string{"https"}, map[string]any{}, []string{"s-st-headers"}},
			"s-st-http": {[]string{"http"}, nil, []string{"s-st-redirectscheme", "s-st-headers"}},
		}, nil, true},
		{"redirect.entryPoint=http fires on https only", map[string]string{"traefik.frontend.entryPoints": "http,https", "traefik.frontend.redirect.entryPoint": "http"}, true, false, map[string]r{
			"s-st":      {[]string{"https"}, map[string]any{}, []string{"s-st-redirectscheme"}},
			"s-st-http": {[]string{"http"}, nil, nil},
		}, nil, true},
		{"acme: the TLS router's", map[string]string{"traefik.frontend.entryPoints": "http,https", "traefik.acme": "true"}, true, true, map[string]r{
			"s-st":      {[]string{"https"}, map[string]any{"certResolver": "acme"}, nil},
			"s-st-http": {[]string{"http"}, nil, nil},
		}, nil, true},
		{"HTTPS off: https left out, HTTP served", map[string]string{"traefik.frontend.entryPoints": "http,https", "traefik.frontend.redirect.entryPoint": "http"}, false, false, map[string]r{
			"s-st": {[]string{"http"}, nil, []string{"s-st-redirectscheme"}},
		}, []string{"traefik.frontend.entryPoints"}, true},
		{"an unknown entry point left out", map[string]string{"traefik.frontend.entryPoints": "http,admin"}, true, false, map[string]r{
			"s-st": {[]string{"http"}, nil, nil},
		}, []string{"traefik.frontend.entryPoints"}, true},
		{"https only", map[string]string{"traefik.frontend.entryPoints": "https"}, true, false, map[string]r{
			"s-st": {[]string{"https"}, map[string]any{}, nil},
		}, nil, true},
		{"none left: left out", map[string]string{"traefik.frontend.entryPoints": "admin"}, true, false, nil, []string{"traefik.frontend.entryPoints"}, false},
		{"https only, HTTPS off: left out", map[string]string{"traefik.frontend.entryPoints": "https"}, false, false, nil, []string{"traefik.frontend.entryPoints"}, false},
		{"segment", map[string]string{"traefik.web.port": "80", "traefik.web.frontend.entryPoints": "http,https"}, true, false, map[string]r{
			"s-st-web":      {[]string{"https"}, map[string]any{}, nil},
			"s-st-web-http": {[]string{"http"}, nil, nil},
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEntryPoints(t, tt) })
	}
}

// epRouter is what TestV1EntryPoints checks of a router.
type epRouter struct {
	EntryPoints []string
	TLS         any
	Middlewares []string
}

// epCase is a service's labels and options, the routers they give and the
// labels warned about.
type epCase struct {
	name    string
	labels  map[string]string
	https   bool
	acme    bool
	routers map[string]epRouter // nil: the service is left out
	warned  []string            // labels warned about
	kept    bool                // … and the service published
}

func checkEntryPoints(t *testing.T, tt epCase) {
	t.Helper()
	type r = epRouter
	res := buildOne(t, "s", "st", tt.labels, Options{Domain: "example.com", HTTPS: tt.https, ACME: tt.acme})
	var warned []string
	for _, w := range res.Warnings {
		warned = append(warned, w.Label)
		if (w.Severity == Dropped) != tt.kept {
			t.Errorf("warning %v: kept %v, want %v", w, w.Severity == Dropped, tt.kept)
		}
	}
	if diff := cmp.Diff(warned, tt.warned); diff != "" {
		t.Errorf("warned labels (-got +want):\n%s", diff)
	}
	got := map[string]r{}
	routers, _ := lookup(res.Config, "http/routers").(map[string]any)
	for name, v := range routers {
		m := v.(map[string]any)
		mws, _ := m["middlewares"].([]string)
		got[name] = r{m["entryPoints"].([]string), m["tls"], mws}
		if m["service"] != "s-st"+name[len("s-st"):len(name)-len(suffixOf(name))] {
			t.Errorf("router %s: service %v", name, m["service"])
		}
		if res.Servers[name] != 1 {
			t.Errorf("servers of %s: %d, want 1", name, res.Servers[name])
		}
	}
	if tt.routers == nil {
		tt.routers = map[string]r{}
	}
	if diff := cmp.Diff(got, tt.routers); diff != "" {
		t.Errorf("routers (-got +want):\n%s", diff)
	}
	if services, _ := lookup(res.Config, "http/services").(map[string]any); len(tt.routers) > 0 && len(services) != 1 {
		t.Errorf("%d services, want 1 shared", len(services))
	}
}

// suffixOf is the plain-HTTP twin's suffix of a router name, or "".
func suffixOf(name string) string {
	if len(name) > 5 && name[len(name)-5:] == "-http" {
		return "-http"
	}
	return ""
}
