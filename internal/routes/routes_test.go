package routes

import (
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	goldenfile "rancher-traefik/internal/golden"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/testsnap"
)

// snapshot reads a stack file the way the product would: through the
// emulator's expansion and the metadata decoder.
func snapshot(t testing.TB, path string) *rancher.Snapshot {
	t.Helper()
	return testsnap.File(t, path)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

func render(t *testing.T, res Result) []byte {
	t.Helper()
	b, err := Encode(res.Config)
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	for _, x := range res.Warnings {
		w.WriteString("# " + [...]string{LeftOut: "warning", Dropped: "dropped", Note: "note"}[x.Severity] + ": " + x.String() + "\n")
	}
	return append([]byte(w.String()), b...)
}

func TestBuildGolden(t *testing.T) {
	snap := snapshot(t, "testdata/stacks.yml")
	tests := []struct {
		golden string
		opts   Options
	}{
		{"https.toml", Options{Domain: "example.com", HTTPS: true, ACME: true}},
		{"http-only.toml", Options{Domain: "example.com"}},
		{"exposed-system-constrained.toml", Options{Domain: "example.com", HTTPS: true, ExposedByDefault: true, IncludeSystem: true, Constraints: mustConstraints(t, "tag!=internal")}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			tt.opts.CredentialDir, tt.opts.CredentialKey = testCredDir, testCredKey
			res := Build(snap, tt.opts)
			out := render(t, res)
			golden(t, tt.golden, out)
			var v map[string]any
			if _, err := toml.Decode(string(out), &v); err != nil {
				t.Fatalf("output is not TOML: %v", err)
			}
			// The same input gives the same bytes.
			if again := render(t, Build(snap, tt.opts)); string(again) != string(out) {
				t.Error("Build is not deterministic")
			}
		})
	}
}

func TestIsolationAndWarnings(t *testing.T) {
	res := Build(snapshot(t, "testdata/stacks.yml"), Options{Domain: "example.com", HTTPS: true})
	var got []string
	for _, w := range res.Warnings {
		got = append(got, w.Stack+"/"+w.Service+" "+w.Label)
	}
	want := []string{
		"iamfoo/badport traefik.port",
		"iamfoo/badrule traefik.frontend.rule",
		"iamfoo/unknownlabel traefik.frontend.rateLimit.extractorFunc",
		"v2/badvalue traefik.http.routers.badvalue.priority",
		// Every problem of a service is listed: it exposes no port either.
		"v2/badvalue traefik.http.services.badvalue-v2.loadbalancer.server.port",
		// A TCP router with HostSNI(`*`) on https would take every
		// connection from the HTTP routers: only that router is dropped.
		"v2/db traefik.tcp.routers.db.entrypoints",
		"v2/defaults traefik.http.routers.defaults.tls.certresolver", // ACME is off here
		"v2/typo traefik.http.routers.typo.rulez",
		"v2/typo traefik.http.services.typo-v2.loadbalancer.server.port",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("warnings (-got +want):\n%s", diff)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.String(), "$apr1$") {
			t.Errorf("a warning shows a label value: %s", w)
		}
	}
	routers := Routers(res.Config)
	for _, r := range []string{"http/whoami-iamfoo", "http/down-iamfoo", "http/app"} {
		if !slices.Contains(routers, r) {
			t.Errorf("router %s missing: %v", r, routers)
		}
	}
	if res.Servers["whoami-iamfoo"] != 2 || res.Servers["down-iamfoo"] != 0 || res.Servers["nohealth-iamfoo"] != 1 {
		t.Errorf("server counts: %v", res.Servers)
	}
}

func TestNameCollision(t *testing.T) {
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{
		{Name: "a", Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.http.routers.shared.rule": "Host(`a`)", "traefik.http.services.a.loadbalancer.server.port": "80"}, Containers: []rancher.Container{{PrimaryIP: "1.1.1.1"}}},
		{Name: "b", Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.http.routers.shared.rule": "Host(`b`)", "traefik.http.services.b.loadbalancer.server.port": "80"}, Containers: []rancher.Container{{PrimaryIP: "1.1.1.2"}}},
	}}
	res := Build(snap, Options{})
	if len(res.Warnings) != 1 || res.Warnings[0].Service != "b" || !strings.Contains(res.Warnings[0].Msg, `"shared" is already defined`) {
		t.Errorf("warnings: %v", res.Warnings)
	}
	if _, ok := res.Config["http"].(map[string]any)["services"].(map[string]any)["b"]; ok {
		t.Error("the colliding service's other parts were kept")
	}
}

// fuzzRule is a default rule template that reads a label.
var fuzzRule, _ = ParseRuleTemplate("Host(`{{ index .Labels \"traefik.http.routers.r.rule\" | default (normalize .Name) }}.example.com`)")

func FuzzLabels(f *testing.F) {
	if fuzzRule == nil {
		f.Fatal("the fuzz default rule does not parse")
	}
	f.Add("traefik.http.routers.r.rule", "Host(`a`)")
	f.Add("traefik.frontend.rule", "Host:a.com;PathPrefixStrip:/x")
	f.Add("traefik.http.routers.r.tls.domains[0].main", "a.com")
	f.Add("traefik.http.middlewares.m.plugin.p.opt", "v")
	f.Add("traefik.tcp.routers.r.rule", "HostSNI(`*`)")
	f.Add("traefik.udp.routers.r.entrypoints", "dns,web")
	f.Add("traefik.http.routers.r.middlewares", "a@rancher,b@file")
	f.Add("traefik.http.services.*.loadbalancer.server.port", "80") // a name spelled * (it once panicked)
	f.Add("traefik.http.routers.r.tls.domains.[].main", "a.com")
	f.Add("traefik.frontend.middlewares", "a,b@rancher")
	f.Add("traefik.frontend.entryPoints", "http,https,admin")
	f.Fuzz(func(t *testing.T, key, value string) {
		snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{
			Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"},
			Labels:     map[string]string{"traefik.enable": "true", key: value},
			Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}},
		}}}
		// The defaults, and declared entry points with a default rule
		// template (the TCP, UDP and template paths).
		for _, o := range []Options{
			{Domain: "example.com", HTTPS: true},
			{Domain: "example.com", EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"}, DefaultRule: fuzzRule},
		} {
			res := Build(snap, o)
			b, err := Encode(res.Config)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var v map[string]any
			if _, err := toml.Decode(string(b), &v); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, b)
			}
		}
	})
}

// TestWarningsNeverShowValues: a credential in the wrong place must not be
// repeated in a warning.
func TestWarningsNeverShowValues(t *testing.T) {
	for _, labels := range []map[string]string{
		{"traefik.port": "80", "traefik.frontend.headers.customRequestHeaders": "Authorization Basic SECRETX"},
		{"traefik.http.routers.r.rule": "Host(`a`)", "traefik.http.middlewares.m.basicauth.removeheader": "admin:SECRETX"},
		{"traefik.http.routers.r.priority": "SECRETX"},
	} {
		labels["traefik.enable"] = "true"
		snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{{Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels, Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}}}
		res := Build(snap, Options{Domain: "example.com"})
		if len(res.Warnings) != 1 {
			t.Fatalf("%v: warnings %v", labels, res.Warnings)
		}
		if strings.Contains(res.Warnings[0].String(), "SECRETX") {
			t.Errorf("the warning shows the value: %s", res.Warnings[0])
		}
	}
}
