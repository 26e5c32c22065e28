package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// overviewClean: Traefik's /api/overview counts no router, service or
// middleware error nor warning, and at least routers routers.
func overviewClean(t *testing.T, i *instance, routers int) {
	t.Helper()
	eventually(t, 20*time.Second, "overview without errors", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/overview", i.admin), nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		var o struct {
			HTTP map[string]struct{ Total, Warnings, Errors int } `json:"http"`
		}
		if err := jsonUnmarshal(body, &o); err != nil {
			return err
		}
		for kind, c := range o.HTTP {
			if c.Errors != 0 || c.Warnings != 0 {
				return fmt.Errorf("%s: %d errors, %d warnings", kind, c.Errors, c.Warnings)
			}
		}
		if o.HTTP["routers"].Total < routers {
			return fmt.Errorf("%d routers, want %d", o.HTTP["routers"].Total, routers)
		}
		return nil
	})
}

// answers asks url (Host host) until it answers want (status, body).
func answers(t *testing.T, c *http.Client, url, host string, wantCode int, wantBody string) {
	t.Helper()
	eventually(t, 20*time.Second, host+url+" answers "+wantBody, func() error {
		code, body, err := get(c, url, http.Header{"Host": {host}})
		if err != nil {
			return err
		}
		if code != wantCode || body != wantBody {
			return fmt.Errorf("%d %q, want %d %q", code, body, wantCode, wantBody)
		}
		return nil
	})
}

// TestV1Priority: overlapping v1 rules match in Traefik v1's order, the
// longer v1 rule first: Host:a.prio.test;PathPrefix:/api (32 characters)
// before Host:a.prio.test,b.prio.test (28), though the translated rules'
// lengths, Traefik v3's own priority, would order them the other way.
func TestV1Priority(t *testing.T) {
	first, second := backend(t, "127.0.31.1", "first", 0), backend(t, "127.0.31.2", "second", 0)
	_, p1, _ := net.SplitHostPort(first)
	_, p2, _ := net.SplitHostPort(second)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false"})
	m := startEmulator(t, i.dir, fmt.Sprintf(`stacks:
  - name: prio
    services:
      - name: api
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:a.prio.test;PathPrefix:/api
        containers:
          - ip: 127.0.31.1
      - name: hosts
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:a.prio.test,b.prio.test
        containers:
          - ip: 127.0.31.2
`, p1, p2))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	base := fmt.Sprintf("http://127.0.0.1:%d", i.httpPort)
	answers(t, plainClient(), base+"/api/x", "a.prio.test", 200, "first /api/x")
	answers(t, plainClient(), base+"/other", "a.prio.test", 200, "second /other")
	answers(t, plainClient(), base+"/api/x", "b.prio.test", 200, "second /api/x")
	overviewClean(t, i, 2)
}

// TestV1EntryPoints: traefik.frontend.entryPoints=http,https serves both:
// HTTP answers, and a per-service redirect to https (redirect.entryPoint,
// headers.SSLRedirect) fires from http and is followed to the backend.
// With TRAEFIK_HTTPS_ENABLE=false the https entry point is left out with
// a warning naming the label, and HTTP still answers.
func TestV1EntryPoints(t *testing.T) {
	both, red, ssl := backend(t, "127.0.31.3", "both", 0), backend(t, "127.0.31.4", "red", 0), backend(t, "127.0.31.5", "ssl", 0)
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	stack := fmt.Sprintf(`stacks:
  - name: ep
    services:
      - name: both
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:both.example.com
          traefik.frontend.entryPoints: http,https
        containers:
          - ip: 127.0.31.3
      - name: red
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:red.example.com
          traefik.frontend.entryPoints: http,https
          traefik.frontend.redirect.entryPoint: https
        containers:
          - ip: 127.0.31.4
      - name: ssl
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:ssl.example.com
          traefik.frontend.entryPoints: https,http
          traefik.frontend.headers.SSLRedirect: "true"
        containers:
          - ip: 127.0.31.5
`, port(both), port(red), port(ssl))

	t.Run("HTTPS on", func(t *testing.T) {
		// The entry point does not redirect: the labels do.
		i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_REDIRECT": "false"})
		c := i.withCert("*.example.com")
		m := startEmulator(t, i.dir, stack)
		i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
		publicHTTP, publicHTTPS := forward(t, i.httpPort), forward(t, i.httpsPort)
		i.env["TRAEFIK_HTTPS_PUBLIC_PORT"] = fmt.Sprint(publicHTTPS)
		i.start("run")
		i.waitReady()
		answers(t, plainClient(), fmt.Sprintf("http://127.0.0.1:%d/path", i.httpPort), "both.example.com", 200, "both /path")
		answers(t, tlsClient(certPool(c), i.httpsPort), "https://both.example.com/path", "both.example.com", 200, "both /path")
		t.Run("redirect.entryPoint", func(t *testing.T) {
			followThrough(t, certPool(c), publicHTTP, publicHTTPS, "red.example.com", "red /path")
		})
		t.Run("SSLRedirect", func(t *testing.T) {
			followThrough(t, certPool(c), publicHTTP, publicHTTPS, "ssl.example.com", "ssl /path")
		})
		overviewClean(t, i, 6)
	})

	t.Run("HTTPS off", func(t *testing.T) {
		i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false"})
		m := startEmulator(t, i.dir, stack)
		i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
		i.start("run")
		i.waitReady()
		answers(t, plainClient(), fmt.Sprintf("http://127.0.0.1:%d/path", i.httpPort), "both.example.com", 200, "both /path")
		// A redirect to https, which does not exist, is still written
		// (v1.7 did the same); SSLRedirect's service answers on http too.
		overviewClean(t, i, 3)
		eventually(t, 10*time.Second, "the warning naming the label", func() error {
			for _, line := range strings.Split(i.stderr.String(), "\n") {
				if strings.Contains(line, "label setting dropped") && strings.Contains(line, "service=both") && strings.Contains(line, "traefik.frontend.entryPoints") {
					return nil
				}
			}
			return fmt.Errorf("no warning for ep/both's traefik.frontend.entryPoints in:\n%s", i.stderr.String())
		})
	})
}

// TestNamesValuesAndMixedDialects, with the real Traefik: services whose
// names once collided both answer; a non-ASCII service answers on its
// default rule's IDNA host; a header label holding CR LF costs only that
// header; v2 middlewares beside v1 labels keep the v1 rule and serve the v1
// router that names them. Traefik counts no error.
func TestNamesValuesAndMixedDialects(t *testing.T) {
	addrs := map[string]string{}
	for i, name := range []string{"ab-c", "b-ca", "fuwu", "shuju", "crlf", "mixed"} {
		addrs[name] = backend(t, fmt.Sprintf("127.0.31.%d", 10+i), name, 0)
	}
	port := func(name string) string { _, p, _ := net.SplitHostPort(addrs[name]); return p }
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_RANCHER_DOMAIN": "example.com"})
	m := startEmulator(t, i.dir, fmt.Sprintf(`stacks:
  - name: a-b
    services:
      - name: c
        labels: {traefik.enable: "true", traefik.port: "%s", traefik.frontend.rule: "Host:one.names.test"}
        containers: [{ip: 127.0.31.10}]
  - name: b
    services:
      - name: c-a
        labels: {traefik.enable: "true", traefik.port: "%s", traefik.frontend.rule: "Host:two.names.test"}
        containers: [{ip: 127.0.31.11}]
  - name: zz
    services:
      - name: 服务
        labels: {traefik.enable: "true", traefik.port: "%s"}
        containers: [{ip: 127.0.31.12}]
      - name: 数据
        labels: {traefik.enable: "true", traefik.port: "%s"}
        containers: [{ip: 127.0.31.13}]
      - name: crlf
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:crlf.names.test
          traefik.frontend.headers.customResponseHeaders: "X-Bad:a\r\nX-Injected: 1"
          traefik.frontend.headers.customFrameOptionsValue: SAMEORIGIN
        containers: [{ip: 127.0.31.14}]
      - name: mixed
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:mixed.names.test;PathPrefix:/api
          traefik.frontend.middlewares: api-strip
          traefik.http.middlewares.api-strip.stripprefix.prefixes: /api
        containers: [{ip: 127.0.31.15}]
`, port("ab-c"), port("b-ca"), port("fuwu"), port("shuju"), port("crlf"), port("mixed")))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	base := fmt.Sprintf("http://127.0.0.1:%d", i.httpPort)
	answers(t, plainClient(), base+"/x", "one.names.test", 200, "ab-c /x")
	answers(t, plainClient(), base+"/x", "two.names.test", 200, "b-ca /x")
	answers(t, plainClient(), base+"/x", "xn--zfr188b.zz.example.com", 200, "fuwu /x") // 服务
	answers(t, plainClient(), base+"/x", "xn--vxup8b.zz.example.com", 200, "shuju /x") // 数据
	answers(t, plainClient(), base+"/x", "crlf.names.test", 200, "crlf /x")
	answers(t, plainClient(), base+"/api/x", "mixed.names.test", 200, "mixed /x")
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Host = "crlf.names.test"
	resp, err := plainClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Frame-Options"); got != "SAMEORIGIN" || resp.Header.Get("X-Bad") != "" || resp.Header.Get("X-Injected") != "" {
		t.Errorf("crlf: X-Frame-Options %q, X-Bad %q, X-Injected %q: want the good header only", got, resp.Header.Get("X-Bad"), resp.Header.Get("X-Injected"))
	}
	overviewClean(t, i, 6)
}
