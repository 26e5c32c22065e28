package routes

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/testsnap"
	"rancher-traefik/internal/teststack"
)

// EncodedCase is a snapshot and options the routes tests build: the
// environments lean_test.go (package routes_test, which may import
// restpush) holds BuildEncoded to Build with.
type EncodedCase struct {
	Name string
	Snap *rancher.Snapshot
	Opts Options
}

// EncodedCases are the environments of this package's tests: every stack
// file of testdata under the options its tests use (HTTPS on and off, the
// acme resolver dropped, exposed by default with system stacks and a
// constraint), every case of the compatibility table alone and
// compat-stack.yml, the error page tests' environments, a name collision,
// teststack.Scale, and seeded random mixes of the table's labels (names
// taken twice, pages dangling, credentials).
func EncodedCases(t testing.TB) []EncodedCase {
	var out []EncodedCase
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files in testdata: %v", err)
	}
	for _, f := range files {
		snap := snapshot(t, f)
		for name, o := range optionSets(t) {
			out = append(out, EncodedCase{f + "/" + name, snap, o})
		}
	}
	for _, g := range compatGroups() {
		for _, c := range g.cases {
			s, o := compatInput(g, c)
			out = append(out, EncodedCase{"compat/" + g.name + "/" + c.key, s, o})
		}
	}
	_, stack := compatStack()
	out = append(out, EncodedCase{"compat-stack", stack, compatStackOptions()})
	out = append(out, errorPageCases()...)
	out = append(out, EncodedCase{"name collision", collisionSnapshot(), Options{}})
	scale, err := metadataserver.Parse([]byte(teststack.Scale(1200, false)))
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, EncodedCase{"teststack.Scale(1200)", testsnap.Of(t, scale), Options{Domain: "example.com", HTTPS: true}})
	for seed := range uint64(8) {
		out = append(out, randomCase(seed))
	}
	return out
}

// optionSets are the options the tests build stack files with.
func optionSets(t testing.TB) map[string]Options {
	cred := func(o Options) Options { o.CredentialDir, o.CredentialKey = testCredDir, testCredKey; return o }
	return map[string]Options{
		"https":            cred(Options{Domain: "example.com", HTTPS: true, ACME: true}),
		"https-no-acme":    cred(Options{Domain: "example.com", HTTPS: true, ACME: true, DropResolver: "acme"}),
		"http-only":        cred(Options{Domain: "example.com"}),
		"exposed-system":   cred(Options{Domain: "example.com", HTTPS: true, ExposedByDefault: true, IncludeSystem: true, Constraints: mustConstraints(t, "tag!=internal")}),
		"entrypoints-rule": cred(Options{Domain: "example.com", EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"}, DefaultRule: fuzzRule}),
	}
}

// compatInput is what compatBuild builds for case c.
func compatInput(g compatGroup, c compatCase) (*rancher.Snapshot, Options) {
	s := g.svc(c.labels)
	if c.svc != nil {
		c.svc(&s)
	}
	o := g.opts
	if c.opts != nil {
		c.opts(&o)
	}
	return &rancher.Snapshot{Version: "1", Services: append([]rancher.Service{s}, c.extra...)}, o
}

// pageUsers are n services with an error page each, served by pages-st,
// but every hundredth from the eighth (7, 107, …) by broken-st, whose
// service the tests leave out.
func pageUsers(n int) []rancher.Service {
	var out []rancher.Service
	for i := range n {
		backend := "pages-st"
		if i%100 == 7 {
			backend = "broken-st"
		}
		out = append(out, rancher.Service{Name: fmt.Sprintf("s%d", i), Stack: "st", Kind: "service", Ports: []string{"80/tcp"},
			Labels:     map[string]string{"traefik.enable": "true", "traefik.frontend.errors.e.status": "500-599", "traefik.frontend.errors.e.backend": backend},
			Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}})
	}
	return out
}

// errorPageCases are the error page tests' environments: pages whose
// backend is published, pages whose backend's service is left out
// (dropped after the merge), and the page of a service that did not merge.
func errorPageCases() []EncodedCase {
	many := pageUsers(300)
	for _, i := range []int{107, 207} { // a router and its plain-HTTP twin both name the page
		many[i].Labels["traefik.frontend.entryPoints"] = "http,https"
	}
	many = append(many, pageService("pages", nil),
		rancher.Service{Name: "broken", Stack: "st", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "x"}})
	ctr := []rancher.Container{{PrimaryIP: "10.0.0.1", State: "running"}}
	const mw = "a-z-errors-e"
	notMerged := []rancher.Service{
		{Name: "b", Stack: "b", Kind: "service", State: "active", Containers: ctr, Labels: map[string]string{"traefik.enable": "true",
			"traefik.http.routers.a-z.rule": "Host(`b.example.com`)", "traefik.http.routers.a-z.middlewares": mw,
			"traefik.http.middlewares." + mw + ".headers.customrequestheaders.X-Auth": "1",
			"traefik.http.services.b.loadbalancer.server.port":                        "80"}},
		{Name: "target", Stack: "t", Kind: "service", State: "active", Containers: ctr, Labels: map[string]string{"traefik.enable": "true", "traefik.port": "notaport"}},
		{Name: "a", Stack: "z", Kind: "service", State: "active", Containers: ctr, Labels: map[string]string{"traefik.enable": "true", "traefik.port": "80",
			"traefik.frontend.errors.e.status": "500", "traefik.frontend.errors.e.backend": "target-t"}},
	}
	o := Options{Domain: "example.com"}
	return []EncodedCase{
		{"error pages, some dangling", &rancher.Snapshot{Version: "1", Services: many}, o},
		{"error pages, some dangling, HTTPS", &rancher.Snapshot{Version: "1", Services: many}, Options{Domain: "example.com", HTTPS: true}},
		{"error page of a service not merged", &rancher.Snapshot{Version: "1", Services: notMerged}, o},
	}
}

// collisionSnapshot is TestNameCollision's: two services name one router.
func collisionSnapshot() *rancher.Snapshot {
	svc := func(n, ip string) rancher.Service {
		return rancher.Service{Name: n, Stack: "s", Kind: "service", Labels: map[string]string{"traefik.enable": "true",
			"traefik.http.routers.shared.rule": "Host(`" + n + "`)", "traefik.http.services." + n + ".loadbalancer.server.port": "80"},
			Containers: []rancher.Container{{PrimaryIP: ip}}}
	}
	return &rancher.Snapshot{Version: "1", Services: []rancher.Service{svc("a", "1.1.1.1"), svc("b", "1.1.1.2")}}
}

// randomCase mixes the compatibility table's labels at random: 200
// services of a few names in a few stacks (names taken twice), each with
// the labels of one to three cases (error pages, credentials, TCP and UDP
// routers, references to each other's middlewares), under options of one
// of the cases.
func randomCase(seed uint64) EncodedCase {
	r := rand.New(rand.NewPCG(seed, 12))
	var cases []compatCase
	var groups []compatGroup
	for _, g := range compatGroups() {
		for _, c := range g.cases {
			cases, groups = append(cases, c), append(groups, g)
		}
	}
	snap := &rancher.Snapshot{Version: "1"}
	k := r.IntN(len(cases))
	_, o := compatInput(groups[k], cases[k])
	o.EntryPoints = map[string]string{"pg": "tcp", "dns": "udp"}
	for i := range 200 {
		labels := map[string]string{}
		var extra []rancher.Service
		for range 1 + r.IntN(3) {
			c := cases[r.IntN(len(cases))]
			maps.Copy(labels, c.labels)
			extra = append(extra, c.extra...)
		}
		s := groups[k].svc(labels)
		s.Name, s.Stack = fmt.Sprintf("s%d", r.IntN(40)), fmt.Sprintf("st%d", r.IntN(3))
		if i%7 == 0 {
			s.Stack = "st" // beside the table's page services
		}
		snap.Services = append(snap.Services, s)
		snap.Services = append(snap.Services, extra...)
	}
	snap.Services = slices.Clip(snap.Services)
	return EncodedCase{fmt.Sprintf("random/%d", seed), snap, o}
}
