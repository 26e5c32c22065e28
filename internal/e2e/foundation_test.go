package e2e

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// TestServesHTTPS runs the seed's configuration against the real Traefik:
// HTTPS with our certificate, the redirect, the API, the health check.
func TestServesHTTPS(t *testing.T) {
	i := newInstance(t, nil)
	c := i.withCert("whoami.example.com", "*.example.com")
	other := i.withVolumeCert(t, "other", "other.example.org")
	addr := backend(t, "127.0.0.2", "b1", 0)
	i.writeDynamic("backend.toml", route("whoami", "whoami.example.com", "https", addr)+route("other", "other.example.org", "https", addr))
	i.start("run")
	i.waitReady()

	roots := certPool(c)
	roots.AddCert(other.CA)
	client := tlsClient(roots, i.httpsPort)
	eventually(t, 15*time.Second, "route through HTTPS", func() error {
		code, body, err := get(client, "https://whoami.example.com/hello", nil)
		if err != nil {
			return err
		}
		if code != 200 || body != "b1 /hello" {
			return fmt.Errorf("got %d %q", code, body)
		}
		return nil
	})

	t.Run("handshake presents our leaf and chain", func(t *testing.T) {
		checkServedChains(t, i.httpsPort, roots, map[string]*testcert.Chain{
			"whoami.example.com": c, "anything.example.com": c, "other.example.org": other})
	})

	t.Run("http redirects to https", func(t *testing.T) {
		code, loc, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/path?q=1", i.httpPort), http.Header{"Host": {"whoami.example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Location: https://whoami.example.com:%d/path?q=1", i.httpsPort)
		if (code != 301 && code != 308) || loc != want {
			t.Errorf("got %d %q, want a permanent redirect to %q", code, loc, want)
		}
	})

	t.Run("admin API and ping", func(t *testing.T) {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers", i.admin), nil)
		if err != nil || code != 200 || !strings.Contains(body, `"name":"whoami@file"`) {
			t.Errorf("API: %d %v, body lacks whoami@file: %.300s", code, err, body)
		}
	})

	t.Run("traefik healthcheck passes", func(t *testing.T) {
		out, err := exec.Command(traefikBin, "healthcheck", "--configFile="+filepath.Join(i.home, "etc", "traefik.toml")).CombinedOutput()
		if err != nil {
			t.Errorf("traefik healthcheck: %v\n%s", err, out)
		}
	})

	t.Run("access log on stdout", func(t *testing.T) {
		eventually(t, 5*time.Second, "access log line", func() error {
			if !strings.Contains(i.stdout.String(), `"GET /hello HTTP/1.1" 200`) {
				return fmt.Errorf("no access log line for /hello in stdout")
			}
			return nil
		})
	})

	t.Run("files and modes", func(t *testing.T) {
		checkModes(t, i.home, map[string]os.FileMode{"certs/traefik.key": 0o600, "certs/traefik.crt": 0o644, "etc/traefik.toml": 0o644, "etc/dynamic/tls.toml": 0o644})
	})

	i.signal(15)
	if code := i.wait(20 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// withVolumeCert puts an extra pair for hosts into the certs volume
// (name.crt, name.key), which Traefik serves by SNI.
func (i *instance) withVolumeCert(t *testing.T, name string, hosts ...string) *testcert.Chain {
	t.Helper()
	chain, err := testcert.New(testcert.Options{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	certsDir := filepath.Join(i.home, "certs")
	if err := os.MkdirAll(certsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, b := range map[string][]byte{name + ".crt": chain.Bundle(), name + ".key": chain.KeyPEM} {
		if err := os.WriteFile(filepath.Join(certsDir, file), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return chain
}

// checkServedChains: a handshake with each SNI on port gets that chain's
// leaf and intermediate.
func checkServedChains(t *testing.T, port int, roots *x509.CertPool, want map[string]*testcert.Chain) {
	t.Helper()
	for sni, chain := range want {
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{ServerName: sni, RootCAs: roots})
		if err != nil {
			t.Fatalf("%s: %v", sni, err)
		}
		peers := conn.ConnectionState().PeerCertificates
		conn.Close()
		if got := testcert.Fingerprint(peers[0].Raw); got != chain.Fingerprint() {
			t.Errorf("%s: leaf SHA-256 %s, want %s", sni, got, chain.Fingerprint())
		}
		if len(peers) != 2 || testcert.Fingerprint(peers[1].Raw) != testcert.Fingerprint(chain.CA.Raw) {
			t.Errorf("%s: served %d certificates, want leaf + intermediate", sni, len(peers))
		}
	}
}

// checkModes: each file under home has its permission bits.
func checkModes(t *testing.T, home string, want map[string]os.FileMode) {
	t.Helper()
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

func TestHTTPSModes(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		entryPoint   string
		wantHTTPCode int
		httpsOpen    bool
	}{
		{"https false: http only, no redirect", map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"}, "http", 200, false},
		{"redirect off: http not redirected", map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false"}, "http", 200, true},
		{"only: redirect even when asked not to", map[string]string{"TRAEFIK_HTTPS_ENABLE": "only", "TRAEFIK_HTTPS_REDIRECT": "false"}, "http", 308, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := newInstance(t, tt.env)
			addr := backend(t, "127.0.0.3", "plain", 0)
			i.writeDynamic("backend.toml", route("plain", "plain.example.com", tt.entryPoint, addr))
			i.start("run")
			i.waitReady()
			var code int
			var body string
			eventually(t, 15*time.Second, "http request", func() error {
				var err error
				code, body, err = get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"plain.example.com"}})
				if err != nil {
					return err
				}
				if code == 404 {
					return fmt.Errorf("404: route not loaded yet")
				}
				return nil
			})
			if code != tt.wantHTTPCode && !(tt.wantHTTPCode == 308 && code == 301) {
				t.Errorf("HTTP answered %d %q, want %d", code, body, tt.wantHTTPCode)
			}
			conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(i.httpsPort)), 2*time.Second)
			if conn != nil {
				conn.Close()
			}
			if (err == nil) != tt.httpsOpen {
				t.Errorf("https port open = %v, want %v", err == nil, tt.httpsOpen)
			}
		})
	}
}

func shaUser(user, pw string) string {
	s := sha1.Sum([]byte(pw))
	return user + ":{SHA}" + base64.StdEncoding.EncodeToString(s[:])
}

func TestAdminAuth(t *testing.T) {
	i := newInstance(t, nil)
	users := i.writeSecret("admin-users", []byte(shaUser("admin", "s3cret")+"\n"+shaUser("ops", "other")+"\n"))
	i.env["TRAEFIK_ADMIN_AUTH_USERS_FILE"] = users
	i.start("run")
	i.waitReady() // /ping answers without credentials

	api := fmt.Sprintf("http://127.0.0.1:%d/api/http/routers", i.admin)
	auth := func(u, p string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}}
	}
	eventually(t, 15*time.Second, "API behind auth", func() error {
		code, _, err := get(plainClient(), api, auth("admin", "s3cret"))
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("with credentials: %d", code)
		}
		return nil
	})
	for _, tc := range []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"no credentials", nil, 401},
		{"wrong password", auth("admin", "nope"), 401},
		{"second user", auth("ops", "other"), 200},
	} {
		code, _, err := get(plainClient(), api, tc.hdr)
		if err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, err, tc.want)
		}
	}
	if strings.Contains(i.stderr.String(), "open to anyone") {
		t.Error("warned that the API is open although users are set")
	}
	toml, err := os.ReadFile(filepath.Join(i.home, "etc", "traefik.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(toml), "insecure = false") {
		t.Error("API still insecure in traefik.toml")
	}
}

// TestDashboardOff: TRAEFIK_ADMIN_DASHBOARD=false serves the API alone, and
// Traefik has no dashboard to complain of. The Traefik under test is built
// by make traefik, without the dashboard UI: with the dashboard on, it says
// so at start — which shows the complaint is seen when there is one.
func TestDashboardOff(t *testing.T) {
	complained := func(i *instance) bool {
		return strings.Contains(i.stdout.String()+i.stderr.String(), "Error appending dashboard")
	}
	var took time.Duration
	for _, dashboard := range []string{"true", "false"} {
		i := newInstance(t, map[string]string{"TRAEFIK_ADMIN_DASHBOARD": dashboard})
		start := time.Now()
		i.start("run")
		i.waitReady()
		eventually(t, 15*time.Second, "API", func() error {
			code, _, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers", i.admin), nil)
			if err != nil || code != 200 {
				return fmt.Errorf("%d %v", code, err)
			}
			return nil
		})
		toml, err := os.ReadFile(filepath.Join(i.home, "etc", "traefik.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(toml), "dashboard = "+dashboard) {
			t.Errorf("traefik.toml does not say dashboard = %s", dashboard)
		}
		if dashboard == "true" {
			eventually(t, 15*time.Second, "Traefik's complaint of a missing dashboard UI", func() error {
				if !complained(i) {
					return fmt.Errorf("not (yet) in its output")
				}
				return nil
			})
			took = time.Since(start)
			continue
		}
		time.Sleep(max(2*took-time.Since(start), 500*time.Millisecond))
		if complained(i) {
			t.Error("Traefik complained about the dashboard although it is off")
		}
	}
}
