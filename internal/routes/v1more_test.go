package routes

import (
	"bytes"
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/rancher"
)

// buildOne builds service s of stack st (port 80, one container) with
// labels, beside extra services, and returns the result.
func buildLabels(labels map[string]string, extra ...rancher.Service) Result {
	l := map[string]string{"traefik.enable": "true"}
	for k, v := range labels {
		l[k] = v
	}
	services := append([]rancher.Service{{Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: l,
		Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}}}, extra...)
	return Build(&rancher.Snapshot{Version: "1", Services: services}, Options{Domain: "example.com", CredentialDir: testCredDir, CredentialKey: testCredKey})
}

// TestV1LabelsDropped: a label Traefik v3 cannot honour, or a bad value of
// a label whose loss leaves the routing intact, is dropped with one
// warning naming it, and the service is published with what is left
// (want: the router's middlewares, by kind).
func TestV1LabelsDropped(t *testing.T) {
	runDropped(t, []droppedCase{
		{"unknown label", map[string]string{"traefik.frontend.rateLimit.period": "10s"}, nil, []string{"traefik.frontend.rateLimit.period"}, nil},
		{"unknown header option", map[string]string{"traefik.frontend.headers.bogus": "1", "traefik.frontend.headers.frameDeny": "true"}, nil, []string{"traefik.frontend.headers.bogus"}, []string{"headers"}},
		{"a service-only label in a segment", map[string]string{"traefik.a.port": "80", "traefik.a.tags": "x"}, nil, []string{"traefik.a.tags"}, nil},
		{"priority that is not a number", map[string]string{"traefik.frontend.priority": "high"}, nil, []string{"traefik.frontend.priority"}, nil},
		{"client certificate", map[string]string{"traefik.frontend.passTLSClientCert.pem": "yes please"}, nil, []string{"traefik.frontend.passTLSClientCert.pem"}, nil},
		{"rate set without extractor", map[string]string{"traefik.frontend.rateLimit.rateSet.a.average": "5"}, nil, []string{"traefik.frontend.rateLimit.rateSet.a.average"}, nil},
		{"extractor without rate set", map[string]string{"traefik.frontend.rateLimit.extractorFunc": "client.ip"}, nil, []string{"traefik.frontend.rateLimit.extractorFunc"}, nil},
		{"bad extractor", map[string]string{"traefik.frontend.rateLimit.extractorFunc": "client.port", "traefik.frontend.rateLimit.rateSet.a.average": "5"}, nil,
			[]string{"traefik.frontend.rateLimit.extractorFunc", "traefik.frontend.rateLimit.rateSet.a.average"}, nil},
		{"bad rate", map[string]string{"traefik.frontend.rateLimit.extractorFunc": "client.ip", "traefik.frontend.rateLimit.rateSet.a.average": "-5", "traefik.frontend.rateLimit.rateSet.a.burst": "3"}, nil,
			[]string{"traefik.frontend.rateLimit.rateSet.a.average"}, []string{"rateLimit"}},
		{"error page without backend", map[string]string{"traefik.frontend.errors.x.status": "404"}, nil, []string{"traefik.frontend.errors.x.status"}, nil},
		{"error page status", map[string]string{"traefik.frontend.errors.x.status": "4O4", "traefik.frontend.errors.x.backend": "s-st"}, nil, []string{"traefik.frontend.errors.x.status"}, nil},
		{"error page of an unknown backend", map[string]string{"traefik.frontend.errors.x.status": "404", "traefik.frontend.errors.x.backend": "nowhere"}, nil, []string{"traefik.frontend.errors.x.backend"}, nil},
		{"error page of a service not enabled", map[string]string{"traefik.frontend.errors.x.status": "404", "traefik.frontend.errors.x.backend": "off-st"}, []rancher.Service{{Name: "off", Stack: "st", Kind: "service", Labels: map[string]string{"traefik.enable": "false"}}},
			[]string{"traefik.frontend.errors.x.backend"}, nil},
		{"error page of a service left out", map[string]string{"traefik.frontend.errors.x.status": "404", "traefik.frontend.errors.x.backend": "broken-st", "traefik.frontend.headers.frameDeny": "true"},
			[]rancher.Service{{Name: "broken", Stack: "st", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.frontend.rule": "Hots:x"}}},
			[]string{"traefik.frontend.rule", "traefik.port", "traefik.frontend.errors.x.backend"}, []string{"headers"}},
		{"error page query", map[string]string{"traefik.frontend.errors.x.status": "404", "traefik.frontend.errors.x.backend": "s-st", "traefik.frontend.errors.x.query": "page"}, nil, []string{"traefik.frontend.errors.x.query"}, []string{"errors"}},
		{"forward auth loses to basic auth", map[string]string{"traefik.frontend.auth.basic.usersFile": "/etc/htpasswd", "traefik.frontend.auth.forward.address": "http://a.test"}, nil, []string{"traefik.frontend.auth.forward.address"}, []string{"basicAuth"}},
		{"headerField without basic or digest", map[string]string{"traefik.frontend.auth.headerField": "X-User"}, nil, []string{"traefik.frontend.auth.headerField"}, nil},
		{"useXForwardedFor without an allow list", map[string]string{"traefik.frontend.whiteList.useXForwardedFor": "true"}, nil, []string{"traefik.frontend.whiteList.useXForwardedFor"}, nil},
		{"useXForwardedFor with the deprecated allow list", map[string]string{"traefik.frontend.whitelistSourceRange": "10.0.0.0/8", "traefik.frontend.whiteList.useXForwardedFor": "true"}, nil,
			[]string{"traefik.frontend.whiteList.useXForwardedFor"}, []string{"ipAllowList"}},
		{"SSLHost without a redirect", map[string]string{"traefik.frontend.headers.SSLHost": "a.test"}, nil, []string{"traefik.frontend.headers.SSLHost"}, nil},
		{"SSLForceHost", map[string]string{"traefik.frontend.headers.SSLForceHost": "true"}, nil, []string{"traefik.frontend.headers.SSLForceHost"}, nil},
	})
}

// TestV1BackendLabelsDropped: the same for traefik.backend.* labels.
func TestV1BackendLabelsDropped(t *testing.T) {
	runDropped(t, []droppedCase{
		{"unknown load balancer method", map[string]string{"traefik.backend.loadbalancer.method": "fastest"}, nil, []string{"traefik.backend.loadbalancer.method"}, nil},
		{"health check options without a path", map[string]string{"traefik.backend.healthcheck.interval": "5s", "traefik.backend.healthcheck.hostname": "a.test"}, nil,
			[]string{"traefik.backend.healthcheck.hostname", "traefik.backend.healthcheck.interval"}, nil},
		{"health check scheme", map[string]string{"traefik.backend.healthcheck.path": "/h", "traefik.backend.healthcheck.scheme": "ftp"}, nil, []string{"traefik.backend.healthcheck.scheme"}, nil},
		{"health check headers", map[string]string{"traefik.backend.healthcheck.path": "/h", "traefik.backend.healthcheck.headers": "novalue"}, nil, []string{"traefik.backend.healthcheck.headers"}, nil},
		{"flush interval", map[string]string{"traefik.backend.responseForwarding.flushInterval": "soon"}, nil, []string{"traefik.backend.responseForwarding.flushInterval"}, nil},
		{"circuit breaker expression", map[string]string{"traefik.backend.circuitbreaker.expression": "NetworkErrorRatio() > 1"}, nil, []string{"traefik.backend.circuitbreaker.expression"}, nil},
		{"maxconn amount", map[string]string{"traefik.backend.maxconn.amount": "0"}, nil, []string{"traefik.backend.maxconn.amount"}, nil},
		{"maxconn extractor without amount", map[string]string{"traefik.backend.maxconn.extractorfunc": "client.ip"}, nil, []string{"traefik.backend.maxconn.extractorfunc"}, nil},
		{"maxconn extractor", map[string]string{"traefik.backend.maxconn.amount": "5", "traefik.backend.maxconn.extractorfunc": "client.port"}, nil,
			[]string{"traefik.backend.maxconn.amount", "traefik.backend.maxconn.extractorfunc"}, nil},
		{"buffering", map[string]string{"traefik.backend.buffering.maxRequestBodyBytes": "-1", "traefik.backend.buffering.memRequestBodyBytes": "10"}, nil,
			[]string{"traefik.backend.buffering.maxRequestBodyBytes"}, []string{"buffering"}},
	})
}

// droppedCase is a service's labels (and other services), the labels
// warned about and the kinds of the router's middlewares.
type droppedCase struct {
	name   string
	labels map[string]string
	extra  []rancher.Service
	warn   []string
	want   []string // the kinds of the router's middlewares
}

func runDropped(t *testing.T, tests []droppedCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := buildLabels(tt.labels, tt.extra...)
			var warned []string
			for _, w := range res.Warnings {
				if w.Service == "s" && w.Severity != Dropped {
					t.Fatalf("service left out: %v", res.Warnings)
				}
				warned = append(warned, w.Label)
			}
			if diff := cmp.Diff(warned, tt.warn); diff != "" {
				t.Errorf("warnings (-got +want):\n%s\n%v", diff, res.Warnings)
			}
			router := "s-st"
			if _, ok := tt.labels["traefik.a.port"]; ok {
				router = "s-st-a"
			}
			r, ok := lookup(res.Config, "http/routers/"+router).(map[string]any)
			if !ok {
				t.Fatalf("router %s not published: %v", router, Routers(res.Config))
			}
			mws, _ := r["middlewares"].([]string)
			var kinds []string
			for _, mw := range mws {
				for k := range lookup(res.Config, "http/middlewares/"+mw).(map[string]any) {
					kinds = append(kinds, k)
				}
			}
			if diff := cmp.Diff(kinds, tt.want); diff != "" {
				t.Errorf("middlewares (-got +want):\n%s", diff)
			}
		})
	}
}

// TestV1AccessLabelsLeaveTheServiceOut: forward auth and the allow list
// guard access; a bad label of theirs leaves the service out rather than
// publish it unprotected.
func TestV1AccessLabelsLeaveTheServiceOut(t *testing.T) {
	for _, labels := range []map[string]string{
		{"traefik.frontend.auth.forward.address": "auth.test"},
		{"traefik.frontend.auth.forward.trustForwardHeader": "true"},
		{"traefik.frontend.auth.forward.address": "http://a.test", "traefik.frontend.auth.forward.tls.insecureSkipVerify": "maybe"},
		{"traefik.frontend.auth.forward.address": "http://a.test", "traefik.frontend.auth.forward.tls.ca": " "},
		{"traefik.frontend.whiteList.sourceRange": "10.0.0.0/8", "traefik.frontend.whiteList.useXForwardedFor": "maybe"},
	} {
		res := buildLabels(labels)
		if len(res.Config) != 0 {
			t.Errorf("%v: published %v", labels, Routers(res.Config))
		}
		if len(res.Warnings) == 0 || res.Warnings[len(res.Warnings)-1].Severity != LeftOut {
			t.Errorf("%v: warnings %v, want an error", labels, res.Warnings)
		}
	}
}

// TestV1ErrorPageBackends: traefik.frontend.errors.<name>.backend finds a
// service by its Traefik v1.7 backend name: "<service>-<stack>"
// normalized, traefik.backend, or a segment's.
func TestV1ErrorPageBackends(t *testing.T) {
	pages := func(name string, labels map[string]string) rancher.Service {
		l := map[string]string{"traefik.enable": "true", "traefik.port": "80"}
		for k, v := range labels {
			l[k] = v
		}
		return rancher.Service{Name: name, Stack: "web", Kind: "service", Labels: l}
	}
	tests := []struct {
		backend string
		extra   rancher.Service
		want    string
	}{
		{"errors-web", pages("errors", nil), "errors-web"},
		{"errors_web", pages("errors", nil), "errors-web"},
		{"pages", pages("errors", map[string]string{"traefik.backend": "pages"}), "errors-web"},
		{"errors-web-errors-web-main", pages("errors", map[string]string{"traefik.main.port": "80"}), "errors-web-main"},
		{"errors-web-mine", pages("errors", map[string]string{"traefik.main.port": "80", "traefik.main.backend": "mine"}), "errors-web-main"},
	}
	for _, tt := range tests {
		res := buildLabels(map[string]string{"traefik.frontend.errors.e.status": "500-599", "traefik.frontend.errors.e.backend": tt.backend}, tt.extra)
		if len(res.Warnings) > 0 {
			t.Errorf("%s: %v", tt.backend, res.Warnings)
		}
		if got := lookup(res.Config, "http/middlewares/s-st-errors-e/errors/service"); got != tt.want {
			t.Errorf("%s: service %v, want %s", tt.backend, got, tt.want)
		}
	}
}

// TestCBExpression: circuit breaker expressions as Traefik v3 reads them.
func TestCBExpression(t *testing.T) {
	for _, ok := range []string{
		"NetworkErrorRatio() > 0.5",
		"LatencyAtQuantileMS(50.0) > 100",
		"ResponseCodeRatio(500, 600, 0, 600) > 0.25",
		"(NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(99.0) >= 300) && ResponseCodeRatio(500, 600, 0, 600) != 0.0",
	} {
		if err := checkCBExpression(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                                 "empty",
		"NetworkErrorRatio() >":            "not an expression",
		"NetworkErrorRatio() > 1":          "decimal number",
		"LatencyAtQuantileMS(50) > 100":    "argument 1",
		"LatencyAtQuantileMS(50.0) > 0.5":  "whole number",
		"ResponseCodeRatio(500, 600) > .5": "takes 4 arguments",
		"Foo() > 0.5":                      "calls a function other",
		"0.5 < NetworkErrorRatio()":        "must start with",
		"NetworkErrorRatio() + 0.5":        "operator +",
		"NetworkErrorRatio()":              "is not a comparison",
		"os.Exit(1) > 0.5":                 "calls something other",
	} {
		err := checkCBExpression(bad)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
}

// FuzzCBExpression: any expression is refused or made only of the
// functions Traefik knows, and never shows in the error.
func FuzzCBExpression(f *testing.F) {
	for _, s := range []string{"NetworkErrorRatio() > 0.5", "LatencyAtQuantileMS(50.0) > 100 && ResponseCodeRatio(500, 600, 0, 600) > 0.5", "(", "SECRETX() > 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		err := checkCBExpression(expr)
		if err != nil {
			if strings.Contains(err.Error(), "SECRETX") {
				t.Fatalf("the error shows the expression: %v", err)
			}
			return
		}
		var sc scanner.Scanner
		fs := token.NewFileSet()
		sc.Init(fs.AddFile("", -1, len(expr)), []byte(expr), nil, 0)
		for {
			_, tok, lit := sc.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.IDENT && lit != "NetworkErrorRatio" && lit != "ResponseCodeRatio" && lit != "LatencyAtQuantileMS" {
				t.Fatalf("accepted %q, which names %s", expr, lit)
			}
		}
	})
}

// FuzzV1MoreLabels: any value of the v1 labels of issue #9 (the rows
// after backend.healthcheck.port) gives a configuration that encodes, and
// warnings that never show the value.
func FuzzV1MoreLabels(f *testing.F) {
	f.Add(0, "10")
	f.Add(5, "client.ip")
	f.Add(40, "X-A:1||X-B:2")
	f.Fuzz(func(t *testing.T, row int, value string) {
		var keys []string
		for i, r := range v1Labels {
			if i > 0 && v1Labels[i-1].key == "backend.healthcheck.port" || len(keys) > 0 {
				keys = append(keys, r.key)
			}
		}
		if row < 0 {
			row = -row
		}
		key := strings.ReplaceAll(keys[row%len(keys)], "<name>", "n")
		res := buildLabels(map[string]string{"traefik." + key: "SECRETX" + value, "traefik.frontend.errors.n.status": "404", "traefik.frontend.errors.n.backend": "s-st"})
		if _, err := Encode(res.Config); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		for _, w := range res.Warnings {
			if strings.Contains(w.String(), "SECRETX") {
				t.Fatalf("%s: the warning shows the value: %s", key, w)
			}
		}
	})
}

// TestV1ErrorPagesInParallel: services translated in parallel (more than
// fanout's minChunk) share the backend index and the error pages' check;
// every page finds its service, and one whose service is left out is
// dropped from its own router only. Run with -race.
func TestV1ErrorPagesInParallel(t *testing.T) {
	services := pageUsers(1200)
	services = append(services, pageService("pages", nil),
		rancher.Service{Name: "broken", Stack: "st", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "x"}})
	res := Build(&rancher.Snapshot{Version: "1", Services: services}, Options{Domain: "example.com"})
	dropped := 0
	for _, w := range res.Warnings {
		if w.Label == "traefik.frontend.errors.e.backend" {
			dropped++
		}
	}
	if dropped != 12 || len(res.Warnings) != 13 {
		t.Errorf("%d error pages dropped, %d warnings; want 12 and 13", dropped, len(res.Warnings))
	}
	for i := range 1200 {
		name := fmt.Sprintf("s%d-st", i)
		got := lookup(res.Config, "http/middlewares/"+name+"-errors-e/errors/service")
		mws := lookup(res.Config, "http/routers/"+name+"/middlewares")
		if i%100 == 7 {
			if got != nil || mws != nil {
				t.Fatalf("%s: page %v, middlewares %v, want none", name, got, mws)
			}
		} else if got != "pages-st" || !cmp.Equal(mws, []string{name + "-errors-e"}) {
			t.Fatalf("%s: page %v, middlewares %v", name, got, mws)
		}
	}
}

// TestV1ErrorPageOfAServiceNotMergedLeavesOthersAlone: a v1 error page
// whose service is not published because another service already took one
// of its names (here the page's middleware name) must not drop that other
// service's middleware nor edit its router: one bad label costs at most its
// own service. The page names a backend whose service is left out
// (a bad port), so checkErrorPages sees it as dangling.
func TestV1ErrorPageOfAServiceNotMergedLeavesOthersAlone(t *testing.T) {
	o := Options{Domain: "example.com"}
	ctr := func(n, ip string) []rancher.Container {
		return []rancher.Container{{Name: n, PrimaryIP: ip, State: "running"}}
	}
	const mw = "a-z-errors-e" // the name A's error page would take
	b := rancher.Service{Name: "b", Stack: "b", Kind: "service", State: "active", Containers: ctr("b-b-1", "10.0.0.1"),
		Labels: map[string]string{"traefik.enable": "true",
			"traefik.http.routers.a-z.rule":                                           "Host(`b.example.com`)",
			"traefik.http.routers.a-z.middlewares":                                    mw,
			"traefik.http.middlewares." + mw + ".headers.customrequestheaders.X-Auth": "1",
			"traefik.http.services.b.loadbalancer.server.port":                        "80"}}
	target := rancher.Service{Name: "target", Stack: "t", Kind: "service", State: "active", Containers: ctr("t-target-1", "10.0.0.2"),
		Labels: map[string]string{"traefik.enable": "true", "traefik.port": "notaport"}}
	a := rancher.Service{Name: "a", Stack: "z", Kind: "service", State: "active", Containers: ctr("z-a-1", "10.0.0.3"),
		Labels: map[string]string{"traefik.enable": "true", "traefik.port": "80",
			"traefik.frontend.errors.e.status": "500", "traefik.frontend.errors.e.backend": "target-t"}}

	res := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{b, target, a}}, o)
	if got := lookup(res.Config, "http/middlewares/"+mw+"/headers/customRequestHeaders/X-Auth"); got != "1" {
		t.Errorf("B's middleware %s: %v, want it kept", mw, got)
	}
	if got := lookup(res.Config, "http/routers/a-z/middlewares"); fmt.Sprint(got) != "["+mw+"]" {
		t.Errorf("B's router a-z middlewares %v, want [%s]", got, mw)
	}
	for _, w := range res.Warnings {
		if w.Stack == "b" {
			t.Errorf("a warning for B, which is not at fault: %v", w)
		}
	}
	alone := Build(&rancher.Snapshot{Version: "1", Services: []rancher.Service{b}}, o)
	got, err := Encode(res.Config)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Encode(alone.Config)
	if !bytes.Equal(got, want) {
		t.Errorf("with A and target beside it, B's routes differ from B's alone:\n%s\nwant:\n%s", got, want)
	}
}

// TestErrorPageDroppedFromTwin: an error page dropped after the merge (the
// service of its backend was left out) leaves no router naming its
// middleware — with entry points http,https, neither the router nor its
// plain-HTTP twin, which Traefik would not build with a middleware that
// does not exist. Found in review: the twin kept the reference.
func TestErrorPageDroppedFromTwin(t *testing.T) {
	labels := map[string]string{"traefik.enable": "true", "traefik.frontend.entryPoints": "http,https",
		"traefik.frontend.errors.x.status": "500", "traefik.frontend.errors.x.backend": "broken-st", "traefik.frontend.headers.frameDeny": "true"}
	snap := &rancher.Snapshot{Version: "1", Services: []rancher.Service{
		{Name: "s", Stack: "st", Kind: "service", Ports: []string{"80/tcp"}, Labels: labels, Containers: []rancher.Container{{PrimaryIP: "10.0.0.1"}}},
		{Name: "broken", Stack: "st", Kind: "service", Labels: map[string]string{"traefik.enable": "true", "traefik.port": "x"}, Containers: []rancher.Container{{PrimaryIP: "10.0.0.2"}}},
	}}
	res := Build(snap, Options{Domain: "example.com", HTTPS: true})
	mws, _ := lookup(res.Config, "http/middlewares").(map[string]any)
	for _, name := range []string{"s-st", "s-st-http"} {
		r, ok := lookup(res.Config, "http/routers/"+name).(map[string]any)
		if !ok {
			t.Fatalf("router %s not published: %v", name, Routers(res.Config))
		}
		used, _ := r["middlewares"].([]string)
		if len(used) == 0 {
			t.Errorf("router %s lost the headers middleware too", name)
		}
		for _, mw := range used {
			if _, ok := mws[mw]; !ok {
				t.Errorf("router %s names middleware %s, which is not defined (defined: %v)", name, mw, mws)
			}
		}
	}
}
