package e2e

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dnsProviderAPI stands in for a DNS provider's API, the one outside part
// that cannot run here: lego's httpreq provider posts {fqdn, value} to
// /present and /cleanup with basic auth, and this passes the TXT record to
// pebble-challtestsrv, the real DNS server Pebble reads it from.
func dnsProviderAPI(t *testing.T, p *pebbleCA, user, password string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	handle := func(path, to string) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			u, pw, ok := r.BasicAuth()
			if !ok || u != user || subtle.ConstantTimeCompare([]byte(pw), []byte(password)) != 1 {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			var req struct{ FQDN, Value string }
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body := map[string]string{"host": req.FQDN}
			if to == "/set-txt" {
				body["value"] = req.Value
			}
			if err := p.challtestsrv(to, body); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		})
	}
	handle("/present", "/set-txt")
	handle("/cleanup", "/clear-txt")
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// dnsStack: a v1 route (traefik.acme=true) and a v2 route whose
// certificate is a wildcard (tls.domains[0].main).
func dnsStack(legacy, modern string) string {
	lip, lport, _ := strings.Cut(legacy, ":")
	mip, mport, _ := strings.Cut(modern, ":")
	return `stacks:
  - name: shop
    services:
      - name: legacy
        labels:
          traefik.enable: "true"
          traefik.port: "` + lport + `"
          traefik.frontend.rule: Host:legacy.example.com
          traefik.acme: "true"
        containers:
          - ip: ` + lip + `
      - name: modern
        labels:
          traefik.enable: "true"
          traefik.http.routers.modern.rule: Host(` + "`a.wild.example.com`" + `)
          traefik.http.routers.modern.tls.certresolver: acme
          traefik.http.routers.modern.tls.domains[0].main: "*.wild.example.com"
          traefik.http.services.modern.loadbalancer.server.port: "` + mport + `"
        containers:
          - ip: ` + mip + `
`
}

// TestACMEDNS01Pebble: TRAEFIK_ACME_CHALLENGE=dns with lego's httpreq
// provider, its endpoint, user and password given through
// TRAEFIK_ACME_DNS_CREDENTIALS (the password a Rancher secret alias):
// Pebble validates both names by TXT records in its DNS server — no HTTP
// fetch at all — and issues a certificate for legacy.example.com and a
// wildcard *.wild.example.com, each served by SNI. The password is in no
// log.
func TestACMEDNS01Pebble(t *testing.T) {
	pebbleBinaries(t)
	legacy := backend(t, "127.0.14.1", "legacy", 0)
	modern := backend(t, "127.0.14.2", "modern", 0)
	i := newInstance(t, map[string]string{
		"TRAEFIK_RANCHER_MODE":         "metadata",
		"TRAEFIK_ACME_ENABLE":          "true",
		"TRAEFIK_ACME_CHALLENGE":       "dns",
		"TRAEFIK_ACME_EMAIL":           "ops@example.com",
		"TRAEFIK_ACME_DNS_PROVIDER":    "httpreq",
		"TRAEFIK_ACME_DNS_CREDENTIALS": "HTTPREQ_ENDPOINT,HTTPREQ_USERNAME,HTTPREQ_PASSWORD",
		"TRAEFIK_ACME_DNS_PROPAGATION": "1s",
		"HTTPREQ_USERNAME":             "dns-user",
		"HTTPREQ_PASSWORD":             "httpreq-password", // an alias: the file in the secrets directory
	})
	const password = "S3CRET-dns-password"
	i.writeSecret("httpreq-password", []byte(password+"\n"))
	p := startPebble(t, pebbleOptions{Host: "127.0.0.1", HTTPPort: i.httpPort, TLSPort: i.httpsPort, DefaultIPv4: "127.0.0.1"})
	i.env["HTTPREQ_ENDPOINT"] = dnsProviderAPI(t, p, "dns-user", password)
	i.env["TRAEFIK_ACME_DNS_RESOLVERS"] = p.DNS
	i.env["TRAEFIK_ACME_CASERVER"] = p.DirURL
	i.env["LEGO_CA_CERTIFICATES"] = p.CAFile
	i.env["TRAEFIK_CHILD_ENV"] = "LEGO_CA_CERTIFICATES"
	m := startEmulator(t, i.dir, dnsStack(legacy, modern))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	for host, want := range map[string]string{"legacy.example.com": "legacy.example.com", "a.wild.example.com": "*.wild.example.com"} {
		leaf := waitIssued(t, i, p, host)
		if strings.Join(leaf.DNSNames, ",") != want {
			t.Errorf("%s: the certificate names %v, want %s", host, leaf.DNSNames, want)
		}
	}
	log := p.log()
	if n := strings.Count(log, " set VALID by completed challenge "); n != 2 {
		t.Errorf("Pebble validated %d authorizations, want 2", n)
	}
	if httpValidation.MatchString(log) {
		t.Errorf("Pebble fetched an HTTP-01 token: the DNS challenge was not used")
	}
	for what, out := range map[string]string{"stdout": i.stdout.String(), "stderr": i.stderr.String()} {
		if strings.Contains(out, password) {
			t.Errorf("the DNS provider's password is in rancher-traefik's %s", what)
		}
	}
}
