package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/testcert"
)

// TestDefaultCertificateWithoutMainPair: with HTTPS on and no
// TRAEFIK_SSL_CERT, a client asking for a name nothing serves gets the
// default certificate rancher-traefik made (Traefik's kind: its common
// name, a name under traefik.default; key 0600), and the same one after
// Traefik applies another configuration — Traefik no longer makes a new
// key at each (certs.Fallback) — and after a restart of rancher-traefik.
func TestDefaultCertificateWithoutMainPair(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_HTTPS_REDIRECT": "false"})
	dir := filepath.Join(i.home, "etc", "default-certificate")
	addr := backend(t, "127.0.0.5", "after", 0)
	served := func() (fingerprint, cn string, err error) {
		conn, err := tlsDialInsecure(i.httpsPort, "nothing-serves-this.example.org")
		if err != nil {
			return "", "", err
		}
		defer conn.Close()
		leaf := conn.ConnectionState().PeerCertificates[0]
		return testcert.Fingerprint(leaf.Raw), leaf.Subject.CommonName, nil
	}
	expectFile := func() {
		t.Helper()
		pemBytes, err := os.ReadFile(filepath.Join(dir, certs.FallbackCert))
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, err := os.ReadFile(filepath.Join(dir, certs.FallbackKey))
		if err != nil {
			t.Fatal(err)
		}
		p, err := certs.Parse(pemBytes, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		want := certs.Fingerprint(p.Leaf())
		eventually(t, 15*time.Second, "the default certificate served", func() error {
			fp, cn, err := served()
			if err != nil || fp != want || cn != certs.FallbackName {
				return fmt.Errorf("served %s (%q), %v; want %s", fp, cn, err, want)
			}
			return nil
		})
		if fi, err := os.Stat(filepath.Join(dir, certs.FallbackKey)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("the key: %v, want mode 0600", err)
		}
	}
	i.start("run")
	i.waitReady()
	expectFile()
	first, _, _ := served()

	// Another configuration applied (a route of the user's own file).
	i.writeDynamic("after.toml", route("after", "after.example.com", "http", addr))
	eventually(t, 15*time.Second, "the new route", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"after.example.com"}})
		if err != nil || code != 200 || !strings.HasPrefix(body, "after ") {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	if fp, _, err := served(); err != nil || fp != first {
		t.Errorf("after an apply: served %s, %v; want the same %s", fp, err, first)
	}

	// A restart keeps it.
	i.signal(syscall.SIGTERM)
	if code := i.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	i.start("run")
	i.waitReady()
	expectFile()
	if fp, _, _ := served(); fp != first {
		t.Errorf("after a restart: served %s, want the same %s", fp, first)
	}
}
