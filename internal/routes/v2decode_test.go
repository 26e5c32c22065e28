package routes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// TestSchemaSetters checks every generated setter against its label path:
// a label set alone lands, converted, at the TOML key of the same path
// (Traefik's key names are its label segments, case aside; a
// loadbalancer.server label sets servers[0]), and a label-only value (a
// server's port or scheme) lands nowhere.
func TestSchemaSetters(t *testing.T) {
	values := map[kind]struct {
		label string
		want  any
	}{
		kindString: {"v", "v"}, kindAny: {"v", "v"}, kindBool: {"true", true}, kindInt: {"7", int64(7)},
		kindDuration: {"30", "30s"}, kindList: {"a, b", []string{"a", "b"}}, kindEmpty: {"true", map[string]any{}},
	}
	for _, e := range schemaEntries {
		t.Run(e.label, func(t *testing.T) {
			label := "traefik." + strings.NewReplacer("*", "n", ".[]", "[1]").Replace(e.label)
			v, ok := values[e.kind]
			if !ok {
				t.Fatalf("no test value for kind %d", e.kind)
			}
			labelOnly := strings.HasSuffix(e.label, ".server.port") || strings.HasSuffix(e.label, ".server.scheme")
			if strings.HasSuffix(e.label, ".server.scheme") {
				v.label = "https"
			}
			c := &dynConfiguration{}
			if err := decodeLabel(c, &labelArgs{label: label, value: v.label}); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			flatten(c.toMap(), "", got)
			want := map[string]any{}
			path := strings.NewReplacer("*", "n", ".[]", "[1]", ".server.", ".servers[0].").Replace(e.label)
			if labelOnly {
				want[path[:strings.LastIndexByte(path, '.')]] = map[string]any{} // the server, for the build to fill
			} else {
				want[path] = v.want
			}
			if strings.Contains(path, "[1]") { // the list index 0 before it: an empty section
				want[path[:strings.Index(path, "[1]")]+"[0]"] = map[string]any{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// flatten gives the settings of a configuration tree by their lower-case
// dotted paths; an empty section is a setting of its own.
func flatten(m map[string]any, prefix string, out map[string]any) {
	for k, v := range m {
		p := strings.TrimPrefix(prefix+"."+strings.ToLower(k), ".")
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out[p] = x
			}
			flatten(x, p, out)
		case []map[string]any:
			for i, e := range x {
				ip := fmt.Sprintf("%s[%d]", p, i)
				if len(e) == 0 {
					out[ip] = e
				}
				flatten(e, ip, out)
			}
		default:
			out[p] = v
		}
	}
}

// TestV2LabelPaths: label paths the schema walk reads in ways worth
// pinning, each with the warning or the setting it gives.
func TestV2LabelPaths(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		warn   string // the warnings' text; "" for none
		want   string // a line of the TOML output, when published
	}{
		{"a name spelled * is a name", map[string]string{"traefik.http.services.*.loadbalancer.server.port": "80", "traefik.http.routers.r.rule": "Host(`a`)"},
			"", `service = "*"`},
		{"domains.[] is not a list index", map[string]string{"traefik.http.routers.r.tls.domains.[].main": "a.com"},
			`label traefik.http.routers.r.tls.domains.[].main: Traefik has no setting "[]" here (known: a name)`, ""},
		{"a list index", map[string]string{"traefik.http.routers.r.tls.domains[0].main": "a.com"}, "", `main = "a.com"`},
		{"an index on a setting", map[string]string{"traefik.http.routers.r.rule[0]": "Host(`a`)"},
			"label traefik.http.routers.r.rule[0]: rule is not a list of sections", ""},
		{"an empty segment in plugin settings", map[string]string{"traefik.http.middlewares.m.plugin.p.a..b": "v"},
			"label traefik.http.middlewares.m.plugin.p.a..b: empty segment in the label name", ""},
		{"a trailing dot in plugin settings", map[string]string{"traefik.http.middlewares.m.plugin.p.a.": "v"},
			"label traefik.http.middlewares.m.plugin.p.a.: empty segment in the label name", ""},
		{"a plugin setting and section", map[string]string{"traefik.http.middlewares.m.plugin.p.a": "1", "traefik.http.middlewares.m.plugin.p.a.b": "2"},
			"label traefik.http.middlewares.m.plugin.p.a.b: a is both a setting and a section", ""},
		{"plugin settings nest", map[string]string{"traefik.http.middlewares.m.plugin.p.a.b": "2"}, "", `b = "2"`},
		{"of two spellings the last in order wins", map[string]string{"traefik.http.routers.r.Priority": "1", "traefik.http.routers.r.priority": "2"}, "", "priority = 2"},
		{"tls=false leaves TLS out", map[string]string{"traefik.http.routers.r.tls": "false", "traefik.http.routers.r.entrypoints": "http"}, "", `entryPoints = ["http"]`},
		{"a section is no setting", map[string]string{"traefik.http.routers.r.observability": "true"},
			"label traefik.http.routers.r.observability: is a section, not a setting (known: accesslogs, metrics, traceverbosity, tracing)", ""},
		{"an index too large", map[string]string{"traefik.http.routers.r.tls.domains[1001].main": "a"},
			"label traefik.http.routers.r.tls.domains[1001].main: list index 1001 is too large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := map[string]string{"traefik.enable": "true"}
			for k, v := range tt.labels {
				labels[k] = v
			}
			snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels, Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}}}
			res := Build(snap, Options{Domain: "example.com"})
			var ws []string
			for _, w := range res.Warnings {
				ws = append(ws, strings.TrimPrefix(w.String(), "st/s: "))
			}
			if got := strings.Join(ws, "\n"); got != tt.warn {
				t.Errorf("warnings:\n%s\nwant:\n%s", got, tt.warn)
			}
			b, err := Encode(res.Config)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && !strings.Contains(string(b), tt.want) {
				t.Errorf("no %q in\n%s", tt.want, b)
			}
			if tt.warn != "" && len(res.Config) != 0 {
				t.Errorf("published despite the warning:\n%s", b)
			}
		})
	}
}
