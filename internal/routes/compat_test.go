package routes

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// The label-compatibility table (issue #9, "Tests and figures"): one case
// per Traefik v1.7 label row (v1LabelCases, v1labels_test.go), per
// rawmind0 label (rawmindCases, rawmind_test.go) and per behaviour of the
// v2 provider and of issue #9 §2/§5 (behaviourCases, below). Each case is
// labels (and options) → the piece of v3 configuration they give, and a
// status the test checks against the warnings. README's label tables are
// generated from it (TestREADMELabelTables), and
// testdata/compat-stack.yml, the metadata answer internal/e2e loads into
// the real Traefik, too (TestCompatStack).

// compatStatus is what rancher-traefik does with a case's labels.
type compatStatus string

const (
	// translated: published with the v3 equivalent, no warning (an info
	// line at most).
	translated compatStatus = "translated"
	// droppedWarn: the service is published without the label's setting,
	// and a warning names the label.
	droppedWarn compatStatus = "dropped with warning"
)

type compatCase struct {
	key    string // the row (v1Labels, rawmindLabels) or the behaviour
	labels map[string]string
	opts   func(*Options)
	svc    func(*rancher.Service) // a service other than s of st
	at     string                 // "" with want nil: nothing is published
	want   any
	cred   string            // the content of the one credential file
	status compatStatus      // "": translated, or droppedWarn when warn is set
	warn   []string          // labels dropped with a warning (the service published)
	extra  []rancher.Service // other services of the snapshot
	note   string
	noE2E  string // why the case is not in compat-stack.yml, if it is not
}

// compatGroup is one of the table's parts and the service its cases are
// labels of.
type compatGroup struct {
	name  string
	cases []compatCase
	svc   func(labels map[string]string) rancher.Service
	opts  Options
}

func compatGroups() []compatGroup {
	v1svc := func(labels map[string]string) rancher.Service {
		l := map[string]string{"traefik.enable": "true"}
		maps.Copy(l, labels)
		return rancher.Service{Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: l,
			Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}
	}
	o := Options{Domain: "example.com", CredentialDir: testCredDir, CredentialKey: testCredKey}
	return []compatGroup{
		{name: "v1", cases: v1LabelCases, svc: v1svc, opts: o},
		{name: "rawmind0", cases: rawmindCases, opts: Options{Domain: "example.com"}, svc: func(labels map[string]string) rancher.Service {
			return rancher.Service{Name: "s", Stack: "St", Kind: "service", Ports: []string{"8080/tcp"}, Labels: labels,
				Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}
		}},
		{name: "behaviour", cases: behaviourCases, svc: v1svc, opts: o},
	}
}

// behaviourCases: Traefik v2.11's Rancher provider's behaviours (issue #9
// §3) and those of §2 and §5, each as labels → configuration.
var behaviourCases = []compatCase{
	{key: "v1 priority", labels: map[string]string{"traefik.frontend.rule": "Host:a.test;PathPrefix:/api"}, at: "http/routers/s-st/priority", want: int64(27),
		note: "a v1 router without traefik.frontend.priority gets v1's: the length of its v1 rule as written (27 here), so overlapping rules match in v1's order"},
	{key: "http,https: a router per TLS mode", labels: map[string]string{"traefik.frontend.entryPoints": "http,https", "traefik.frontend.redirect.entryPoint": "https"}, opts: func(o *Options) { o.HTTPS = true },
		at: "http/routers/s-st-http/middlewares", want: []string{"s-st-redirectscheme"},
		note: "`<name>` on https with TLS, `<name>-http` on http; a redirect to https fires on the http one only"},
	{key: "v1 PathPrefixStrip", labels: map[string]string{"traefik.frontend.rule": "Host:strip.test;PathPrefixStrip:/api", "traefik.frontend.entryPoints": "http"},
		at: "http/middlewares/s-st-stripprefix/stripPrefix/prefixes", want: []string{"/api"}, note: "the matcher, and a stripPrefix middleware (the rule table below)"},
	{key: "http,https without HTTPS", labels: map[string]string{"traefik.frontend.entryPoints": "http,https"}, at: "http/routers/s-st/entryPoints", want: []string{"http"},
		warn: []string{"traefik.frontend.entryPoints"}, note: "with TRAEFIK_HTTPS_ENABLE=false, https is left out and the router serves http"},
	{key: "unknown v1 entry point", labels: map[string]string{"traefik.frontend.entryPoints": "http,admin"}, at: "http/routers/s-st/entryPoints", want: []string{"http"},
		warn: []string{"traefik.frontend.entryPoints"}, note: "an entry point that does not exist is left out, as v1.7 skipped it; with none left the service is left out"},
	{key: "web and websecure", labels: map[string]string{"traefik.http.routers.web.rule": "Host(`a.test`)", "traefik.http.routers.web.entrypoints": "web,websecure"}, opts: func(o *Options) { o.HTTPS = true },
		at: "http/routers/web/entryPoints", want: []string{"http", "https"}, note: "v2's names for http and https"},
	{key: "unknown v2 entry point", labels: map[string]string{"traefik.http.routers.bogus.rule": "Host(`a.test`)", "traefik.http.routers.bogus.entrypoints": "web,bogus"},
		at: "http/routers/bogus/entryPoints", want: []string{"http"}, warn: []string{"traefik.http.routers.bogus.entrypoints"},
		note: "left out of the router; a router left with none is not published, the service's other routers are"},
	{key: "@rancher references", labels: map[string]string{"traefik.http.routers.ref.rule": "Host(`a.test`)", "traefik.http.routers.ref.middlewares": "shared@rancher", "traefik.http.middlewares.shared.headers.framedeny": "true"},
		at: "http/routers/ref/middlewares", want: []string{"shared"}, note: "`name@rancher` (and `@docker`) is what rancher-traefik publishes as `name`"},
	{key: "first port", labels: map[string]string{"traefik.http.routers.first.rule": "Host(`a.test`)"}, svc: func(s *rancher.Service) { s.Ports = []string{"8080/tcp", "9090/tcp"} },
		at: "http/services/s-st/loadBalancer/servers", want: []map[string]any{{"url": "http://10.0.0.1:8080"}}, note: "several ports and no port label: the first Rancher lists, with an info line, as v2 did"},
	{key: "default rule template", opts: func(o *Options) { o.DefaultRule, _ = ParseRuleTemplate("Host(`{{ normalize .Name }}.example.com`)") },
		at: "http/routers/s-st/rule", want: "Host(`s-st.example.com`)", note: "TRAEFIK_RANCHER_DEFAULT_RULE, a Go template like v2's defaultRule", noE2E: "needs its own TRAEFIK_RANCHER_DEFAULT_RULE"},
	{key: "constraint expression", labels: map[string]string{"traefik.tags": "api"}, opts: func(o *Options) {
		o.Constraints, _ = ParseConstraints(`Label("traefik.tags","api") && !LabelRegex("env","^dev")`)
	},
		at: "http/routers/s-st/rule", want: "Host(`s.st.example.com`)", note: "TRAEFIK_RANCHER_CONSTRAINTS in v2's expression language", noE2E: "needs its own TRAEFIK_RANCHER_CONSTRAINTS"},
	{key: "constraint glob", labels: map[string]string{"traefik.tags": "api"}, opts: func(o *Options) { o.Constraints, _ = ParseConstraints("tag==ap*") },
		at: "http/routers/s-st/rule", want: "Host(`s.st.example.com`)", note: "v1's `tag==` with `*` globs, as v1.7", noE2E: "needs its own TRAEFIK_RANCHER_CONSTRAINTS"},
	{key: "TCP entry points", labels: map[string]string{"traefik.tcp.routers.db.rule": "HostSNI(`*`)", "traefik.tcp.services.db.loadbalancer.server.port": "5432"},
		opts: func(o *Options) { o.EntryPoints = map[string]string{"pg": "tcp", "dns": "udp"} }, at: "tcp/routers/db/entryPoints", want: []string{"pg"},
		note: "a TCP router without an entrypoints label gets every /tcp entry point of TRAEFIK_ENTRYPOINTS"},
	{key: "UDP entry points", labels: map[string]string{"traefik.udp.routers.dns.service": "dns", "traefik.udp.services.dns.loadbalancer.server.port": "53"},
		opts: func(o *Options) { o.EntryPoints = map[string]string{"pg": "tcp", "dns": "udp"} }, at: "udp/routers/dns/entryPoints", want: []string{"dns"},
		note: "a UDP router gets every /udp one"},
	{key: "injective names", svc: func(s *rancher.Service) { s.Name, s.Stack = "my-app", "web" }, at: "http/routers/my--app-web/rule", want: "Host(`my-app.web.example.com`)",
		note: "a dash in a name part is doubled, other characters escaped: no two services share a name"},
	{key: "IDNA hosts", svc: func(s *rancher.Service) { s.Name, s.Stack = "服务", "zz" }, at: "http/routers/_e6_9c_8d_e5_8a_a1-zz/rule", want: "Host(`xn--zfr188b.zz.example.com`)",
		note: "a non-ASCII host is written in its IDNA form"},
	{key: "CR/LF in a header value", labels: map[string]string{"traefik.frontend.headers.customRequestHeaders": "X-A:1\r\nX-B: 2", "traefik.frontend.headers.frameDeny": "true"},
		at: "http/middlewares/s-st-headers/headers", want: map[string]any{"frameDeny": true}, warn: []string{"traefik.frontend.headers.customRequestHeaders"},
		note: "a header value with a control character is refused, naming the label, never its value"},
	{key: "dialect mix: v2 middlewares on a v1 service", labels: map[string]string{"traefik.frontend.rule": "Host:a.test", "traefik.frontend.middlewares": "limit", "traefik.http.middlewares.limit.ratelimit.average": "100"},
		at: "http/routers/s-st/middlewares", want: []string{"limit"}, note: "the v1 labels route the service and use the v2 middlewares through traefik.frontend.middlewares"},
	{key: "dialect mix: v1 labels beside v2 routers", labels: map[string]string{"traefik.http.routers.mixed.rule": "Host(`a.test`)", "traefik.frontend.priority": "10"},
		at: "http/routers/mixed/rule", want: "Host(`a.test`)", warn: []string{"traefik.frontend.priority"},
		note: "v2 routers route the service; a v1 label beside them (but enable, tags, domain, docker.network) is not read"},
}

// TestCompat: every case of the table gives its piece of configuration,
// with the warnings its status says; every row of v1Labels and
// rawmindLabels has a case, so that a row added later needs one.
func TestCompat(t *testing.T) {
	for _, g := range compatGroups() {
		for _, c := range g.cases {
			t.Run(g.name+"/"+c.key, func(t *testing.T) { checkCompat(t, g, c) })
		}
	}
	rows := map[string][]string{}
	for _, r := range v1Labels {
		rows["v1"] = append(rows["v1"], r.key)
	}
	for _, r := range rawmindLabels {
		rows["rawmind0"] = append(rows["rawmind0"], r.key)
	}
	for _, g := range compatGroups() {
		cased := map[string]bool{}
		for _, c := range g.cases {
			if cased[c.key] {
				t.Errorf("%s: two cases for %q", g.name, c.key)
			}
			cased[c.key] = true
			if rows[g.name] != nil && !slices.Contains(rows[g.name], c.key) {
				t.Errorf("%s: case %q is no row of the label table", g.name, c.key)
			}
		}
		for _, k := range rows[g.name] {
			if !cased[k] {
				t.Errorf("%s label row %q has no case in the compatibility table", g.name, k)
			}
		}
	}
	for _, row := range v1Labels {
		if row.doc == "" {
			t.Errorf("label row %q has no doc line", row.key)
		}
	}
}

// compatBuild builds the one service of case c.
func compatBuild(g compatGroup, c compatCase) Result {
	return Build(compatInput(g, c))
}

func checkCompat(t *testing.T, g compatGroup, c compatCase) {
	res := compatBuild(g, c)
	var warned []string
	for _, w := range res.Warnings {
		switch {
		case w.Severity == Note:
		case w.Severity == Dropped && slices.Contains(c.warn, w.Label):
			warned = append(warned, w.Label)
		default:
			t.Errorf("warning: %v", w)
		}
	}
	for _, l := range c.warn {
		if !slices.Contains(warned, l) {
			t.Errorf("no warning naming %s (got %v)", l, warned)
		}
	}
	switch {
	case c.cred != "":
		if len(res.Credentials) != 1 {
			t.Fatalf("%d credential files, want 1", len(res.Credentials))
		}
		for _, f := range res.Credentials {
			if diff := cmp.Diff(f.Reveal(), c.cred); diff != "" {
				t.Errorf("credential file (-got +want):\n%s", diff)
			}
		}
	case c.at == "":
		if len(res.Config) != 0 {
			t.Errorf("published %v, want nothing", res.Config)
		}
	default:
		if diff := cmp.Diff(lookup(res.Config, c.at), c.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", c.at, diff)
		}
	}
}

// compatStatusOf is the status of c ("" is translated).
func compatStatusOf(c compatCase) compatStatus {
	switch {
	case c.status != "":
		return c.status
	case len(c.warn) > 0:
		return droppedWarn
	}
	return translated
}

// mdCode is s as Markdown code in a table cell.
func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", `\r`, "\n", `\n`).Replace(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// compatExample is a case's labels and what they give, for the README.
func compatExample(c compatCase) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.labels)) {
		parts = append(parts, mdCode(k+"="+c.labels[k]))
	}
	labels := strings.Join(parts, "<br>")
	if labels == "" {
		labels = "(no label)"
	}
	var got string
	switch {
	case c.cred != "":
		got = "a users file, one line per user"
	case c.at == "":
		got = "nothing published"
	default:
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.want); err != nil {
			panic(err)
		}
		got = mdCode(c.at + " = " + strings.TrimSuffix(b.String(), "\n"))
	}
	return labels + " → " + got
}

// compatMarkdown is the README table of a group's cases, one row per case,
// key given by label(key).
func compatMarkdown(cases []compatCase, header string, label func(key string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | Example → v3 | Status | Note |\n|%s\n", header, strings.Repeat("---|", strings.Count(header, "|")+4))
	for _, c := range cases {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", label(c.key), compatExample(c), compatStatusOf(c), strings.ReplaceAll(c.note, "|", `\|`))
	}
	return b.String()
}

// compatSections are README's generated label tables: the section's name
// (between <!-- name:begin --> and <!-- name:end -->) and its text.
func compatSections() map[string]string {
	v1doc := func(key string) string {
		return "`traefik." + key + "` | " + strings.ReplaceAll(v1LabelIndex[key].doc, "|", `\|`)
	}
	rawmind := map[string]rawmindLabel{}
	for _, r := range rawmindLabels {
		rawmind[r.key] = r
	}
	rawmindRow := func(key string) string {
		return "`" + key + "` | " + rawmind[key].meaning + " | " + rawmind[key].translation
	}
	return map[string]string{
		"v1-labels":        compatMarkdown(v1LabelCases, "Label | Traefik v1.7", v1doc),
		"rawmind-labels":   compatMarkdown(rawmindCases, "Label | rawmind0 | Here", rawmindRow),
		"label-behaviours": compatMarkdown(behaviourCases, "Behaviour", func(key string) string { return key }),
	}
}

// TestREADMELabelTables: README's label tables are those of the
// compatibility table (go test ./internal/routes -run README -update
// rewrites them).
func TestREADMELabelTables(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	update := false
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" { // the golden package's flag
		update = true
	}
	sections := compatSections()
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
		i, j := bytes.Index(b, []byte(begin)), bytes.Index(b, []byte(end))
		if i < 0 || j < i {
			t.Errorf("README.md has no %s section", name)
			continue
		}
		want := sections[name]
		if update {
			b = append(append(append([]byte{}, b[:i+len(begin)]...), want...), b[j:]...)
			continue
		}
		if diff := cmp.Diff(string(b[i+len(begin):j]), want); diff != "" {
			t.Errorf("README.md %s section is stale (go test ./internal/routes -run README -update) (-got +want):\n%s", name, diff)
		}
	}
	if update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compatStackOptions are the options internal/e2e's TestCompatTraefik
// runs rancher-traefik with (TRAEFIK_RANCHER_DOMAIN=example.com, HTTPS on,
// TRAEFIK_ENTRYPOINTS=pg:…/tcp,dns:…/udp).
func compatStackOptions() Options {
	return Options{Domain: "example.com", HTTPS: true, EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"},
		CredentialDir: testCredDir, CredentialKey: testCredKey}
}

// compatIP is the address of every container of compat-stack.yml, where
// the e2e test serves its backend.
const compatIP = "127.0.41.1"

// compatSlug is a case's key as a service name.
func compatSlug(key string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// compatStack is every case that can run beside the others (not noE2E) as
// one service of a metadata answer (metadata-server's stack file), stack
// named after its group, and the snapshot it stands for.
func compatStack() (string, *rancher.Snapshot) {
	snap := &rancher.Snapshot{Version: "1"}
	byStack := map[string][]rancher.Service{}
	seen := map[string]bool{}
	for _, g := range compatGroups() {
		for _, c := range g.cases {
			if c.noE2E != "" {
				continue
			}
			s := g.svc(c.labels)
			s.Name, s.Stack = compatSlug(c.key), g.name
			if c.svc != nil {
				c.svc(&s)
			}
			for _, s := range append([]rancher.Service{s}, c.extra...) {
				if seen[s.Stack+"/"+s.Name] {
					continue
				}
				seen[s.Stack+"/"+s.Name] = true
				s.Containers = []rancher.Container{{PrimaryIP: compatIP}}
				byStack[s.Stack] = append(byStack[s.Stack], s)
				snap.Services = append(snap.Services, s)
			}
		}
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	b.WriteString("# Generated by internal/routes' TestCompatStack (-update): every case of the\n# label-compatibility table that can run beside the others, for internal/e2e,\n# and the number of routers (HTTP, TCP, UDP) they give:\n")
	fmt.Fprintf(&b, "# routers: %d\nstacks:\n", compatRouters(Build(snap, compatStackOptions()).Config))
	for _, st := range slices.Sorted(maps.Keys(byStack)) {
		fmt.Fprintf(&b, "  - name: %s\n    services:\n", q(st))
		for _, s := range byStack[st] {
			fmt.Fprintf(&b, "      - name: %s\n        ports: [%s]\n        labels:\n", q(s.Name), strings.Join(s.Ports, ", "))
			for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
				fmt.Fprintf(&b, "          %s: %s\n", q(k), q(s.Labels[k]))
			}
			fmt.Fprintf(&b, "        containers:\n          - ip: %s\n", compatIP)
		}
	}
	return b.String(), snap
}

// TestCompatStack: testdata/compat-stack.yml is compatStack, and Build
// gives its services, together, the routers they give alone: no case
// changes another's (internal/e2e's TestCompatTraefik counts on both).
func TestCompatStack(t *testing.T) {
	text, snap := compatStack()
	golden(t, "compat-stack.yml", []byte(text))
	res := Build(snap, compatStackOptions())
	alone := 0
	for _, s := range snap.Services {
		r := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{s}}, compatStackOptions())
		alone += compatRouters(r.Config)
	}
	if got := compatRouters(res.Config); got != alone || got < len(snap.Services)/2 {
		t.Errorf("%d routers together, %d alone, for %d services", got, alone, len(snap.Services))
	}
}

// compatRouters counts the HTTP, TCP and UDP routers of cfg.
func compatRouters(cfg map[string]any) int {
	n := 0
	for _, p := range []string{"http/routers", "tcp/routers", "udp/routers"} {
		m, _ := lookup(cfg, p).(map[string]any)
		n += len(m)
	}
	return n
}
