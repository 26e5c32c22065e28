package e2e

import (
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

func TestHealthcheckCommand(t *testing.T) {
	i := newInstance(t, nil)
	code, stdout, stderr := i.run("healthcheck", "--timeout", "1s")
	if code != 1 || !strings.HasPrefix(stderr, "rancher-traefik: unhealthy: http://127.0.0.1:") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("with nothing listening: %d %q %q, want 1 and one line", code, stdout, stderr)
	}
	i.start("run")
	i.waitReady()
	code, stdout, stderr = i.run("healthcheck")
	if code != 0 || strings.TrimSpace(stdout) != "healthy" {
		t.Errorf("with Traefik up: %d %q %q, want 0 healthy", code, stdout, stderr)
	}
}

// An expired certificate is logged at error level and still served.
func TestExpiredCertificateStillServed(t *testing.T) {
	i := newInstance(t, nil)
	c, err := testcert.New(testcert.Options{Hosts: []string{"old.example.com"}, NotBefore: time.Now().Add(-60 * 24 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	i.writeSecret("cert", c.Bundle())
	i.writeSecret("key", c.KeyPEM)
	i.env["TRAEFIK_SSL_CERT"] = "cert"
	i.env["TRAEFIK_SSL_PRIVATE_KEY"] = "key"
	i.start("run")
	i.waitReady()
	if !strings.Contains(i.stderr.String(), `level=ERROR msg="certificate has expired; serving it anyway" certificate=TRAEFIK_SSL_CERT names=old.example.com`) {
		t.Errorf("no error-level line about the expired certificate:\n%s", i.stderr.String())
	}
	conn, err := tlsDialInsecure(i.httpsPort, "old.example.com")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw); got != c.Fingerprint() {
		t.Errorf("serving %s, want the expired leaf %s", got, c.Fingerprint())
	}
}

// TestHealthcheckURL: healthcheck --url asks another server of the image
// (the compose example's emulator and whoami use it), with no environment.
func TestHealthcheckURL(t *testing.T) {
	i := newInstance(t, nil)
	m := startEmulator(t, i.dir, whoamiStack("127.0.0.11"))
	for _, tc := range []struct {
		url  string
		code int
		out  string
	}{
		{m.url() + "/version", 0, "healthy"},
		{"http://" + m.addr + "/nope", 1, "rancher-traefik: unhealthy: http://" + m.addr + "/nope answered 404 Not Found"},
		{"ftp://" + m.addr + "/", 64, `rancher-traefik: --url "ftp://` + m.addr + `/" is not an http(s) URL`},
	} {
		code, stdout, stderr := i.run("healthcheck", "--url", tc.url)
		if got := strings.TrimSpace(stdout + stderr); code != tc.code || got != tc.out {
			t.Errorf("healthcheck --url %s: %d %q, want %d %q", tc.url, code, got, tc.code, tc.out)
		}
	}
}
