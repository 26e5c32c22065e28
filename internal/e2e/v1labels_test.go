package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// v1LabelsStack uses every Traefik v1.7 label that became a v3 middleware
// or service option of its own (issue #9 §1): circuit breaker, connection
// limit, buffering, health check options, response forwarding, client
// certificate headers, error pages (served by another service, named by its
// traefik.backend), rate sets, forward auth, the allow list from
// X-Forwarded-For, SSLProxyHeaders, SSLHost, featurePolicy, PathStripRegex,
// and labels v3 cannot honour (drr, a word as priority, SSLForceHost).
const v1LabelsStack = `stacks:
  - name: lbl
    services:
      - name: full
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:full.example.com
          traefik.backend: fullbackend
          traefik.frontend.priority: high
          traefik.backend.loadbalancer.method: drr
          traefik.backend.circuitbreaker.expression: NetworkErrorRatio() > 0.5 || ResponseCodeRatio(500, 600, 0, 600) > 0.9
          traefik.backend.maxconn.amount: "10"
          traefik.backend.maxconn.extractorfunc: client.ip
          traefik.backend.buffering.maxRequestBodyBytes: "1000000"
          traefik.backend.buffering.memRequestBodyBytes: "100000"
          traefik.backend.buffering.maxResponseBodyBytes: "1000000"
          traefik.backend.buffering.memResponseBodyBytes: "100000"
          traefik.backend.buffering.retryExpression: IsNetworkError() && Attempts() <= 2
          traefik.backend.healthcheck.path: /health
          traefik.backend.healthcheck.interval: 5s
          traefik.backend.healthcheck.scheme: http
          traefik.backend.healthcheck.hostname: full.example.com
          traefik.backend.healthcheck.headers: X-Check:1
          traefik.backend.responseForwarding.flushInterval: 100ms
          traefik.frontend.passTLSCert: "true"
          traefik.frontend.passTLSClientCert.infos.notAfter: "true"
          traefik.frontend.passTLSClientCert.infos.subject.commonName: "true"
          traefik.frontend.passTLSClientCert.infos.issuer.organization: "true"
          traefik.frontend.rateLimit.extractorFunc: client.ip
          traefik.frontend.rateLimit.rateSet.a.average: "100"
          traefik.frontend.rateLimit.rateSet.a.burst: "200"
          traefik.frontend.rateLimit.rateSet.b.period: 1m
          traefik.frontend.rateLimit.rateSet.b.average: "6000"
          traefik.frontend.headers.SSLProxyHeaders: X-Forwarded-Proto:https
          traefik.frontend.headers.featurePolicy: camera 'none'
          traefik.frontend.headers.STSSeconds: "60"
          traefik.frontend.headers.SSLForceHost: "true"
        containers:
          - ip: 127.0.0.71
      - name: pages
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.backend: errorpages
          traefik.frontend.rule: Host:pages.example.com
        containers:
          - ip: 127.0.0.72
      - name: authserver
        labels:
          traefik.enable: "false"
        containers:
          - ip: 127.0.0.73
      - name: guarded
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:guarded.example.com
          traefik.frontend.whiteList.sourceRange: 127.0.0.0/8
          traefik.frontend.whiteList.useXForwardedFor: "true"
          traefik.frontend.errors.denied.status: "403"
          traefik.frontend.errors.denied.backend: errorpages
          traefik.frontend.errors.denied.query: /denied{status}
        containers:
          - ip: 127.0.0.74
      - name: fwd
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:fwd.example.com
          traefik.frontend.auth.forward.address: http://127.0.0.73:8080/auth
          traefik.frontend.auth.forward.trustForwardHeader: "true"
          traefik.frontend.auth.forward.authResponseHeaders: X-User
          traefik.frontend.auth.forward.tls.insecureSkipVerify: "true"
        containers:
          - ip: 127.0.0.75
      - name: secure
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:secure-app.example.com
          traefik.frontend.entryPoints: http
          traefik.frontend.headers.SSLRedirect: "true"
          traefik.frontend.headers.SSLHost: secure.example.com
        containers:
          - ip: 127.0.0.76
      - name: limited
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:limited.example.com
          traefik.frontend.rateLimit.extractorFunc: client.ip
          traefik.frontend.rateLimit.rateSet.one.period: 1m
          traefik.frontend.rateLimit.rateSet.one.average: "1"
          traefik.frontend.rateLimit.rateSet.one.burst: "1"
        containers:
          - ip: 127.0.0.77
      - name: paths
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:paths.example.com;PathStripRegex:/v{n:[0-9]+}
        containers:
          - ip: 127.0.0.78
`

// TestV1LabelsLoadIntoTraefik: the real Traefik v3 accepts every
// middleware and option the Traefik v1.7 labels became (no error or
// warning in /api/overview, every router enabled), the services stay
// published with their untranslatable labels dropped and logged, and real
// requests see the error page, the allow list by X-Forwarded-For, forward
// auth, the SSLHost redirect, the rate limit and PathStripRegex work.
func TestV1LabelsLoadIntoTraefik(t *testing.T) {
	backends(t, "127.0.0.71", "127.0.0.72", "127.0.0.74", "127.0.0.75", "127.0.0.76", "127.0.0.77", "127.0.0.78")
	authServer(t, "127.0.0.73:8080")
	// No entry point redirect: the routers' own (SSLRedirect) answer HTTP.
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_DOMAIN": "example.com", "TRAEFIK_TRUSTED_IPS": "127.0.0.0/8", "TRAEFIK_HTTPS_REDIRECT": "false"})
	c := i.withCert("*.example.com")
	m := startEmulator(t, i.dir, v1LabelsStack)
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	client := tlsClient(certPool(c), i.httpsPort)
	expect := func(t *testing.T, url string, hdr http.Header, code int, body string) {
		t.Helper()
		expectAnswer(t, client, url, hdr, code, body)
	}
	expect(t, "https://full.example.com/x", nil, 200, "127.0.0.71 /x")

	t.Run("Traefik reports no error or warning, and every router is enabled", func(t *testing.T) {
		checkTraefikAccepts(t, i.admin, 7)
	})
	t.Run("labels Traefik v3 cannot honour are dropped and logged, the service stays", func(t *testing.T) {
		for _, label := range []string{"traefik.backend.loadbalancer.method", "traefik.frontend.priority", "traefik.frontend.headers.SSLForceHost"} {
			i.waitLog(0, `msg="label setting dropped" component=publish stack=lbl service=full label=`+label, 5*time.Second)
		}
	})
	t.Run("error page from the service named by traefik.backend, allow list by X-Forwarded-For", func(t *testing.T) {
		expect(t, "https://guarded.example.com/", http.Header{"X-Forwarded-For": {"127.0.0.5"}}, 200, "127.0.0.74 /")
		expect(t, "https://guarded.example.com/", http.Header{"X-Forwarded-For": {"10.9.9.9"}}, 403, "127.0.0.72 /denied403")
	})
	t.Run("forward auth", func(t *testing.T) {
		expect(t, "https://fwd.example.com/y", nil, 200, "127.0.0.75 /y")
		expect(t, "https://fwd.example.com/deny", nil, 401, "denied")
	})
	// SSLHost names no port: the public HTTPS port is added (it defaults
	// to TRAEFIK_HTTPS_PORT, random here), as in every redirect we make.
	t.Run("SSLRedirect with SSLHost", func(t *testing.T) {
		url := fmt.Sprintf("http://127.0.0.1:%d/p?q=1", i.httpPort)
		want := fmt.Sprintf("Location: https://secure.example.com:%d/p?q=1", i.httpsPort)
		eventually(t, 20*time.Second, "redirect", func() error {
			code, loc, err := get(plainClient(), url, http.Header{"Host": {"secure-app.example.com"}})
			if err != nil || code != 301 || loc != want {
				return fmt.Errorf("%d %q %v", code, loc, err)
			}
			return nil
		})
	})
	t.Run("rate set", func(t *testing.T) {
		expect(t, "https://limited.example.com/", nil, 200, "127.0.0.77 /")
		code, _, err := get(client, "https://limited.example.com/", nil)
		if err != nil || code != 429 {
			t.Errorf("second request in the minute: %d %v, want 429", code, err)
		}
	})
	t.Run("PathStripRegex", func(t *testing.T) {
		expect(t, "https://paths.example.com/v2/z", nil, 404, "404 page not found\n")
		expect(t, "https://paths.example.com/v2", nil, 200, "127.0.0.78 /")
	})
}

// expectAnswer waits (20 s at most) until url answers code and body.
func expectAnswer(t *testing.T, client *http.Client, url string, hdr http.Header, code int, body string) {
	t.Helper()
	eventually(t, 20*time.Second, url, func() error {
		got, b, err := get(client, url, hdr)
		if err != nil || got != code || b != body {
			return fmt.Errorf("%d %q %v, want %d %q", got, b, err, code, body)
		}
		return nil
	})
}

// adminAPI decodes the answer of Traefik's API at path on the admin port
// into v.
func adminAPI(t *testing.T, admin int, path string, v any) {
	t.Helper()
	code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d%s", admin, path), nil)
	if err != nil || code != 200 {
		t.Fatalf("%s: %d %v", path, code, err)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkTraefikAccepts: Traefik's overview shows routers, services and
// middlewares with no error or warning, every router is enabled, and at
// least services routers come from the file provider.
func checkTraefikAccepts(t *testing.T, admin, services int) {
	t.Helper()
	var overview struct {
		HTTP map[string]struct{ Total, Warnings, Errors int } `json:"http"`
	}
	adminAPI(t, admin, "/api/overview", &overview)
	for _, section := range []string{"routers", "services", "middlewares"} {
		s := overview.HTTP[section]
		if s.Total == 0 || s.Errors != 0 || s.Warnings != 0 {
			t.Errorf("%s: %+v, want some, with no error or warning", section, s)
		}
	}
	var routers []struct {
		Name, Status string
		Error        []string `json:"error"`
	}
	adminAPI(t, admin, "/api/http/routers", &routers)
	ours := 0
	for _, r := range routers {
		if strings.HasSuffix(r.Name, "@file") {
			ours++
		}
		if r.Status != "enabled" {
			t.Errorf("router %s is %s: %v", r.Name, r.Status, r.Error)
		}
	}
	if ours < services {
		t.Errorf("%d routers from the file provider, want the %d services'", ours, services)
	}
}

// authServer is a forward auth server: 401 "denied" for a request to a
// path starting with /deny (X-Forwarded-Uri), 200 for the others.
func authServer(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Forwarded-Uri"), "/deny") {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, "denied")
			return
		}
		w.Header().Set("X-User", "alice")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}
