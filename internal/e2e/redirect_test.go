package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"rancher-traefik/internal/config"
)

// forward listens on a free loopback port and relays every connection to
// 127.0.0.1:target, as Docker's port mapping does (-p 8443:443). It returns
// the port it listens on.
func forward(t testing.TB, target int) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { relay(ctx, c, target) })
		}
	})
	t.Cleanup(func() {
		cancel()
		l.Close()
		wg.Wait()
	})
	return l.Addr().(*net.TCPAddr).Port
}

// relay copies c to and from 127.0.0.1:target until both sides are done or
// ctx ends.
func relay(ctx context.Context, c net.Conn, target int) {
	defer c.Close()
	u, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(target)))
	if err != nil {
		return
	}
	defer u.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); u.Close() })
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(u, c)
		_ = u.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(c, u)
	_ = c.(*net.TCPConn).CloseWrite()
	<-done
}

// followingClient follows redirects, recording each URL it is sent to, and
// sends every connection to 127.0.0.1 on the URL's own port: the host names
// of the certificate can be used, and the port is the one the redirect named.
func followingClient(roots *x509.CertPool, visited *[]string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			*visited = append(*visited, req.URL.String())
			if len(via) > 3 {
				return errors.New("more than 3 redirects")
			}
			return nil
		},
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
		},
	}
}

// followThrough asks http://host:publicHTTP/path and follows the redirect:
// it must go to https://host:publicHTTPS/path (the forwarded port clients
// reach, not Traefik's own) and end at the backend.
func followThrough(t *testing.T, roots *x509.CertPool, publicHTTP, publicHTTPS int, host, wantBody string) {
	t.Helper()
	want := fmt.Sprintf("https://%s:%d/path?q=1", host, publicHTTPS)
	eventually(t, 20*time.Second, "redirect to "+want+" followed", func() error {
		var visited []string
		code, body, err := get(followingClient(roots, &visited), fmt.Sprintf("http://%s:%d/path?q=1", host, publicHTTP), nil)
		if err != nil {
			return fmt.Errorf("%w (visited %v)", err, visited)
		}
		if len(visited) != 1 || visited[0] != want {
			return fmt.Errorf("redirected to %v, want [%s] (answer %d %q)", visited, want, code, body)
		}
		if code != 200 || body != wantBody {
			return fmt.Errorf("after the redirect: %d %q, want 200 %q", code, body, wantBody)
		}
		return nil
	})
}

// TestRedirectsKeepPublicPort: behind a port mapping (here a TCP forward
// from other loopback ports to Traefik's), every redirect we generate names
// TRAEFIK_HTTPS_PUBLIC_PORT, so following it works: the entry point's
// redirect, the v1 label traefik.frontend.redirect.entryPoint and the
// headers' SSLRedirect.
func TestRedirectsKeepPublicPort(t *testing.T) {
	t.Run("entry point redirect", func(t *testing.T) {
		i := newInstance(t, nil)
		c := i.withCert("*.example.com")
		publicHTTP, publicHTTPS := forward(t, i.httpPort), forward(t, i.httpsPort)
		i.env["TRAEFIK_HTTPS_PUBLIC_PORT"] = strconv.Itoa(publicHTTPS)
		i.writeDynamic("backend.toml", route("whoami", "whoami.example.com", "https", backend(t, "127.0.14.1", "b1", 0)))
		i.start("run")
		i.waitReady()
		followThrough(t, certPool(c), publicHTTP, publicHTTPS, "whoami.example.com", "b1 /path")
	})

	t.Run("v1 labels", func(t *testing.T) {
		web, secure := backend(t, "127.0.14.2", "web", 0), backend(t, "127.0.14.3", "secure", 0)
		_, webPort, _ := net.SplitHostPort(web)
		_, securePort, _ := net.SplitHostPort(secure)
		// The entry point does not redirect: the labels do, each on a
		// segment on http beside one on https.
		i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_REDIRECT": "false"})
		c := i.withCert("*.example.com")
		m := startEmulator(t, i.dir, fmt.Sprintf(`stacks:
  - name: pub
    services:
      - name: web
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:web.example.com
          traefik.main.frontend.priority: "1"
          traefik.redir.frontend.entryPoints: http
          traefik.redir.frontend.redirect.entryPoint: https
        containers:
          - ip: 127.0.14.2
      - name: secure
        labels:
          traefik.enable: "true"
          traefik.port: "%s"
          traefik.frontend.rule: Host:secure.example.com
          traefik.main.frontend.priority: "1"
          traefik.plain.frontend.entryPoints: http
          traefik.plain.frontend.headers.SSLRedirect: "true"
        containers:
          - ip: 127.0.14.3
`, webPort, securePort))
		i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
		publicHTTP, publicHTTPS := forward(t, i.httpPort), forward(t, i.httpsPort)
		i.env["TRAEFIK_HTTPS_PUBLIC_PORT"] = strconv.Itoa(publicHTTPS)
		i.start("run")
		i.waitReady()
		t.Run("redirect.entryPoint", func(t *testing.T) {
			followThrough(t, certPool(c), publicHTTP, publicHTTPS, "web.example.com", "web /path")
		})
		t.Run("SSLRedirect", func(t *testing.T) {
			followThrough(t, certPool(c), publicHTTP, publicHTTPS, "secure.example.com", "secure /path")
		})
	})
}

// composeRedirect: the compose example's HTTP port redirects to its mapped
// HTTPS port (TRAEFIK_HTTPS_PUBLIC_PORT), and the redirect leads to whoami.
func composeRedirect(t *testing.T, httpPort, httpsPort int) {
	t.Helper()
	var visited []string
	c := followingClient(nil, &visited)
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // Traefik's own certificate, as documented
	want := fmt.Sprintf("https://whoami.localhost:%d/", httpsPort)
	code, body, err := get(c, fmt.Sprintf("http://whoami.localhost:%d/", httpPort), nil)
	if err != nil || code != 200 || len(visited) != 1 || visited[0] != want || !strings.HasPrefix(body, "I am whoami-") {
		t.Errorf("http://whoami.localhost:%d/: %d %v, redirected to %v (want [%s]), body %.40q", httpPort, code, err, visited, want, body)
	}
}

// TestPublicPortFollowsTheMapping: the catalog entry and the compose example
// set TRAEFIK_HTTPS_PUBLIC_PORT to the host side of their HTTPS mapping.
func TestPublicPortFollowsTheMapping(t *testing.T) {
	t.Run("catalog", func(t *testing.T) {
		qs, _ := catalogQuestions(t)
		values := catalogDefaults(qs)
		values["https_port"] = "8443"
		var dc catalogCompose
		if err := yaml.Unmarshal(renderCatalog(t, values), &dc); err != nil {
			t.Fatal(err)
		}
		env := dc.Services["traefik"].Environment
		cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.PublicHTTPSPort() != 8443 || cfg.HTTPSPort != 443 {
			t.Errorf("public port %d, https port %d, want 8443 and 443 for the mapping 8443:443", cfg.PublicHTTPSPort(), cfg.HTTPSPort)
		}
	})
	t.Run("compose example", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "docker-compose.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var dc struct {
			Services map[string]struct {
				Ports       []string          `yaml:"ports"`
				Environment map[string]string `yaml:"environment"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(b, &dc); err != nil {
			t.Fatal(err)
		}
		svc := dc.Services["traefik"]
		mapped := ""
		for _, p := range svc.Ports {
			if host, ok := strings.CutSuffix(p, ":443"); ok {
				mapped = host[strings.Index(host, ":")+1:] // after the bind address
			}
		}
		if got := svc.Environment["TRAEFIK_HTTPS_PUBLIC_PORT"]; mapped == "" || got != mapped {
			t.Errorf("TRAEFIK_HTTPS_PUBLIC_PORT is %q, the mapping to 443 is %q", got, mapped)
		}
	})
}
