package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawmindStack is services labelled for rawmind0/rancher-traefik, each with
// a backend on loopback port 8080.
const rawmindStack = `stacks:
  - name: shop
    services:
      - name: web
        labels:
          traefik.enable: stack
          traefik.domain: shop.test, shop.example
          traefik.alias: www
          traefik.alias.fqdn: Store.Example.org
          traefik.port: "8080"
        containers:
          - ip: 127.0.0.71
      - name: api
        labels:
          traefik.enable: "true"
          traefik.domain: shop.test
          traefik.port: "8080"
          traefik.path.prefix.strip: /API
          traefik.ratelimit.average: "1"
          traefik.ratelimit.burst: "1"
          traefik.ratelimit.period: 1m
        containers:
          - ip: 127.0.0.72
      - name: wild
        labels:
          traefik.enable: "true"
          traefik.domain: shop.test
          traefik.domain.regexp: "{tenant:[a-z]+}.wild.test"
          traefik.port: "8080"
        containers:
          - ip: 127.0.0.73
`

// TestRawmindLabelsServedByTraefik: rawmind0's labels through the emulator
// and the real Traefik: every host its domain, alias and alias.fqdn labels
// give, the host regexp, the stripped path prefix and the per-client rate
// limit answer as rawmind0 documented; Traefik refuses none of the items.
func TestRawmindLabelsServedByTraefik(t *testing.T) {
	backends(t, "127.0.0.71", "127.0.0.72", "127.0.0.73")
	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_RANCHER_MODE": "metadata"})
	m := startEmulator(t, i.dir, rawmindStack)
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	url := fmt.Sprintf("http://127.0.0.1:%d", i.httpPort)
	host := func(h string) http.Header { return http.Header{"Host": {h}} }
	for _, tt := range []struct {
		host, path string
		code       int
		body       string
	}{
		{"shop.shop.test", "/", 200, "127.0.0.71 /"},
		{"shop.shop.example", "/a", 200, "127.0.0.71 /a"},
		{"www.shop.test", "/", 200, "127.0.0.71 /"},
		{"www.shop.example", "/", 200, "127.0.0.71 /"},
		{"store.example.org", "/", 200, "127.0.0.71 /"},
		{"web.shop.shop.test", "/", 404, ""}, // enable=stack: the stack's name only
		{"acme.wild.test", "/", 200, "127.0.0.73 /"},
		{"wild.shop.shop.test", "/", 200, "127.0.0.73 /"},
		{"acme1.wild.test", "/", 404, ""},
		{"api.shop.shop.test", "/api/orders", 200, "127.0.0.72 /orders"},
	} {
		eventually(t, 20*time.Second, tt.host+tt.path, func() error {
			code, body, err := get(plainClient(), url+tt.path, host(tt.host))
			if err != nil {
				return err
			}
			if code != tt.code || tt.body != "" && body != tt.body {
				return fmt.Errorf("%d %q, want %d %q", code, body, tt.code, tt.body)
			}
			return nil
		})
	}
	// The api's one request a minute (burst 1) was spent above.
	if code, body, err := get(plainClient(), url+"/api/orders", host("api.shop.shop.test")); err != nil || code != http.StatusTooManyRequests {
		t.Errorf("second request within the rate limit: %d %q %v, want 429", code, body, err)
	}
	checkFileItemsEnabled(t, i, 10)
	code, out, stderr := i.run("explain", "--metadata-url", m.url(), "shop/api")
	if code != 0 || !strings.Contains(out, "shop/api (service, rawmind0 labels): published") || !strings.Contains(out, "rateLimit (average, burst, period)") {
		t.Errorf("explain: exit %d\n%s\n%s", code, out, stderr)
	}
}

// checkFileItemsEnabled: every router, service and middleware of the file
// provider is enabled without error in Traefik's API, and there are at
// least min of them.
func checkFileItemsEnabled(t *testing.T, i *instance, min int) {
	t.Helper()
	type item struct {
		Status string   `json:"status"`
		Err    []string `json:"error"`
	}
	var raw struct {
		Routers, Services, Middlewares map[string]item
	}
	code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/rawdata", i.admin), nil)
	if err != nil || code != 200 {
		t.Fatalf("/api/rawdata: %d %v", code, err)
	}
	if err := jsonUnmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, group := range []map[string]item{raw.Routers, raw.Services, raw.Middlewares} {
		for name, it := range group {
			if !strings.HasSuffix(name, "@file") {
				continue
			}
			n++
			if it.Status != "enabled" || len(it.Err) > 0 {
				t.Errorf("%s: status %q, errors %v", name, it.Status, it.Err)
			}
		}
	}
	if n < min {
		t.Errorf("only %d items from the file provider, want %d or more", n, min)
	}
}
