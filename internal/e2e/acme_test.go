package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// acmeStack is a stack of two services asking for certificates through the
// metadata emulator: legacy with the v1 label traefik.acme=true (the
// seed's), modern with the v2 tls.certresolver=acme.
func acmeStack(legacy, modern string) string {
	_, lport, _ := strings.Cut(legacy, ":")
	_, mport, _ := strings.Cut(modern, ":")
	return fmt.Sprintf(`stacks:
  - name: shop
    services:
      - name: legacy
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:legacy.example.com
          traefik.acme: "true"
        containers:
          - ip: %s
      - name: modern
        labels:
          traefik.enable: "true"
          traefik.http.routers.modern.rule: Host(`+"`modern.example.com`"+`)
          traefik.http.routers.modern.tls.certresolver: acme
          traefik.http.services.modern.loadbalancer.server.port: "%s"
        containers:
          - ip: %s
`, lport, strings.Split(legacy, ":")[0], mport, strings.Split(modern, ":")[0])
}

// acmeInstance is rancher-traefik with TRAEFIK_ACME_CHALLENGE=challenge,
// routes from the emulator, and a Pebble of its own that validates against
// its http and https entry points on 127.0.0.1 (every name resolves there).
func acmeInstance(t *testing.T, challenge string) (*instance, *pebbleCA) {
	t.Helper()
	pebbleBinaries(t) // skips before anything starts when Pebble is not built
	legacy := backend(t, "127.0.13.1", "legacy", 0)
	modern := backend(t, "127.0.13.2", "modern", 0)
	i := newInstance(t, map[string]string{
		"TRAEFIK_RANCHER_MODE":   "metadata",
		"TRAEFIK_ACME_ENABLE":    "true",
		"TRAEFIK_ACME_CHALLENGE": challenge,
		"TRAEFIK_ACME_EMAIL":     "ops@example.com",
	})
	p := startPebble(t, pebbleOptions{Host: "127.0.0.1", HTTPPort: i.httpPort, TLSPort: i.httpsPort, DefaultIPv4: "127.0.0.1"})
	i.env["TRAEFIK_ACME_CASERVER"] = p.DirURL
	// Traefik's ACME client (lego) trusts the system's roots, or the files
	// LEGO_CA_CERTIFICATES names: Pebble's HTTPS certificate is the test's.
	i.env["LEGO_CA_CERTIFICATES"] = p.CAFile
	i.env["TRAEFIK_CHILD_ENV"] = "LEGO_CA_CERTIFICATES"
	m := startEmulator(t, i.dir, acmeStack(legacy, modern))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	return i, p
}

// waitIssued waits until the https entry point serves host a certificate
// Pebble issued, and returns it.
func waitIssued(t *testing.T, i *instance, p *pebbleCA, host string) *x509.Certificate {
	t.Helper()
	var leaf *x509.Certificate
	// Issuance is an account, an order, a validation and a finalization:
	// seconds on an idle machine, bounded well above that for a loaded one.
	eventually(t, 90*time.Second, "a certificate from Pebble for "+host, func() error {
		c, err := tlsDialInsecure(i.httpsPort, host)
		if err != nil {
			return err
		}
		defer c.Close()
		chain := c.ConnectionState().PeerCertificates
		if err := p.issued(chain, host); err != nil {
			return err
		}
		leaf = chain[0]
		return nil
	})
	return leaf
}

// TestACMEPebble: with ACME on, a v1 route (traefik.acme=true) and a v2
// route (tls.certresolver=acme) each get a certificate from a real ACME CA,
// Pebble, which validates the challenge against this instance's entry
// points (HTTP-01 on http, TLS-ALPN-01 on https); the certificate is served
// by SNI, verifies to Pebble's root through its intermediate, the routes
// answer over it, and it is kept in acme/acme.json.
func TestACMEPebble(t *testing.T) {
	pebbleBinaries(t)
	for _, tc := range []struct{ name, challenge string }{
		{"HTTP-01", "http"},
		{"TLS-ALPN-01", "tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, p := acmeInstance(t, tc.challenge)
			root, _ := p.issuers()
			pool := x509.NewCertPool()
			pool.AddCert(root)
			for _, host := range []string{"legacy.example.com", "modern.example.com"} {
				leaf := waitIssued(t, i, p, host)
				if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != host {
					t.Errorf("%s: the certificate names %v", host, leaf.DNSNames)
				}
				// A client that trusts Pebble's root alone reaches the route.
				name, _, _ := strings.Cut(host, ".")
				code, body, err := get(tlsClient(pool, i.httpsPort), "https://"+host+"/", nil)
				if err != nil || code != 200 || body != name+" /" {
					t.Errorf("https://%s/ with Pebble's root: %d %q %v", host, code, body, err)
				}
			}
			checkValidations(t, p, tc.challenge, i.httpPort)
			// Plain HTTP redirects to HTTPS all along (the default): with
			// HTTP-01, Traefik's challenge router answers before the redirect.
			code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"legacy.example.com"}})
			if err != nil || code/100 != 3 || !strings.Contains(body, "https://legacy.example.com") {
				t.Errorf("http://legacy.example.com/: %d %q %v, want the redirect to HTTPS", code, body, err)
			}
			checkStored(t, i, "legacy.example.com", "modern.example.com")
		})
	}
}

// httpValidation is the line Pebble v2.10.3 logs as it fetches an HTTP-01
// token (va.fetchHTTP); TLS-ALPN-01 has no line of its own.
var httpValidation = regexp.MustCompile(`Attempting to validate w/ HTTP: http://([a-z.]+):(\d+)/\.well-known/acme-challenge/`)

// checkValidations reads in Pebble's log that both authorizations were
// validated, and by which challenge: HTTP-01 fetched from our http port for
// each name, TLS-ALPN-01 without any HTTP fetch (Pebble offers every
// challenge; Traefik answers only the one it is configured for).
func checkValidations(t *testing.T, p *pebbleCA, challenge string, httpPort int) {
	t.Helper()
	log := p.log()
	if n := strings.Count(log, " set VALID by completed challenge "); n != 2 {
		t.Errorf("Pebble validated %d authorizations, want 2 (one a name):\n%s", n, log)
	}
	fetched := map[string]bool{}
	for _, m := range httpValidation.FindAllStringSubmatch(log, -1) {
		if m[2] != fmt.Sprint(httpPort) {
			t.Errorf("Pebble fetched the HTTP-01 token of %s on port %s, not the http entry point's %d", m[1], m[2], httpPort)
		}
		fetched[m[1]] = true
	}
	want := map[string]bool{}
	if challenge == "http" {
		want = map[string]bool{"legacy.example.com": true, "modern.example.com": true}
	}
	if fmt.Sprint(fetched) != fmt.Sprint(want) {
		t.Errorf("HTTP-01 fetches for %v, want %v", fetched, want)
	}
}

// checkStored: Traefik keeps the certificates in acme/acme.json under
// TRAEFIK_HOME (the volume the catalog entry keeps across upgrades). The
// file holds private keys: a failure names what is missing, never the file.
func checkStored(t *testing.T, i *instance, hosts ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(i.home, "acme", "acme.json"))
	if err != nil {
		t.Fatal(err)
	}
	var store map[string]struct {
		Certificates []struct {
			Domain struct{ Main string }
		}
	}
	if err := json.Unmarshal(b, &store); err != nil {
		t.Fatalf("acme/acme.json: %v", err)
	}
	var got []string
	for _, c := range store["acme"].Certificates {
		got = append(got, c.Domain.Main)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(hosts, ",") {
		t.Errorf("acme/acme.json keeps certificates for %v, want %v", got, hosts)
	}
}
