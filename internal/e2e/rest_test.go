package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// portClient sends every request, whatever its host, to 127.0.0.1:port.
func portClient(port int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		},
	}}
}

// restPort is the REST entry point's port as traefik.toml declares it.
func restPort(t *testing.T, i *instance) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(i.home, "etc", "traefik.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\[entryPoints\.rancher-traefik-rest\]\s+address = "127\.0\.0\.1:(\d+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("traefik.toml declares no REST entry point on loopback:\n%s", b)
	}
	port, _ := strconv.Atoi(string(m[1]))
	return port
}

// nonLoopbackIPv4 is an address of this host that is not loopback, or "".
func nonLoopbackIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

func put(c *http.Client, url, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// restV2App is a service whose v2 labels name a middleware defined in
// the user's own file (own-header), not in the labels.
const restV2App = `      - name: v2app
        labels:
          traefik.enable: "true"
          traefik.http.routers.v2app.rule: Host(` + "`v2.example.com`" + `)
          traefik.http.routers.v2app.middlewares: own-header
          traefik.http.services.v2app.loadbalancer.server.port: "8080"
        containers:
          - ip: 127.0.0.44
`

// TestRESTDelivery: TRAEFIK_ROUTES_DELIVERY=rest, the real Traefik and
// the emulator. The routes go live from a push (no rancher.toml in the
// watched directory), a scale change follows, a Traefik killed with
// SIGKILL is restarted and gets them again, the REST entry point is on
// loopback behind the credential, the admin port takes no PUT, and a
// router of the user's without entry points is not on the REST one.
func TestRESTDelivery(t *testing.T) {
	ips := []string{"127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44"}
	backends(t, ips...)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_REFRESH": "5",
		"TRAEFIK_ROUTES_DELIVERY": "rest", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_LOG_LEVEL": "DEBUG"})
	stack := func(containers ...string) string { return whoamiStack(containers...) + restV2App }
	m := startEmulator(t, i.dir, stack(ips[0], ips[1]))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.writeDynamic("own.toml", "[http.routers.own]\n  rule = \"Host(`own.example.com`)\"\n  service = \"own\"\n[http.services.own.loadBalancer]\n  [[http.services.own.loadBalancer.servers]]\n    url = \"http://"+ips[3]+":8080\"\n"+
		"[http.middlewares.own-header.headers.customResponseHeaders]\n  X-Own = \"1\"\n")
	i.start("run")
	i.waitReady()
	client := portClient(i.httpPort)
	url := "http://whoami.example.com/"

	t.Run("routes live from the push, rancher.toml kept outside the watched directory", func(t *testing.T) {
		expectBackends(t, client, url, ips[0], ips[1])
		if _, err := os.Stat(filepath.Join(i.home, "etc", "dynamic", "rancher.toml")); err == nil {
			t.Error("rancher.toml is in the watched directory")
		}
		if b, err := os.ReadFile(filepath.Join(i.home, "etc", "rancher.toml")); err != nil || !strings.Contains(string(b), "whoami-iamfoo") {
			t.Errorf("the durable copy etc/rancher.toml: %v\n%s", err, b)
		}
		if info, err := os.Stat(filepath.Join(i.home, "etc", "rest-users")); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("etc/rest-users: %v %v, want mode 0600", err, info)
		}
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers/whoami-iamfoo@rest", i.admin), nil)
		if err != nil || code != 200 || !strings.Contains(body, `"status":"enabled"`) {
			t.Errorf("the pushed router in Traefik's API: %d %v %s", code, err, body)
		}
	})
	t.Run("a label naming a middleware of the user's files: qualified, it applies", func(t *testing.T) {
		eventually(t, 20*time.Second, "v2.example.com with X-Own", func() error {
			req, _ := http.NewRequest(http.MethodGet, "http://v2.example.com/", nil)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Own") != "1" {
				return fmt.Errorf("%d X-Own %q", resp.StatusCode, resp.Header.Get("X-Own"))
			}
			return nil
		})
	})
	t.Run("a router without entry points is not on the REST entry point", func(t *testing.T) {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers/own@file", i.admin), nil)
		if err != nil || code != 200 {
			t.Fatalf("own@file: %d %v %s", code, err, body)
		}
		if !strings.Contains(body, `"entryPoints":["http"]`) {
			t.Errorf("own@file's entry points, want http alone: %s", body)
		}
	})
	port := restPort(t, i)
	t.Run("the REST entry point: loopback only, behind the credential; the admin port takes no PUT", func(t *testing.T) {
		restURL := fmt.Sprintf("http://127.0.0.1:%d/api/providers/rest", port)
		if code, err := put(plainClient(), restURL, "{}"); err != nil || code != http.StatusUnauthorized {
			t.Errorf("PUT without the credential: %d %v, want 401", code, err)
		}
		adminURL := fmt.Sprintf("http://127.0.0.1:%d/api/providers/rest", i.admin)
		if code, err := put(plainClient(), adminURL, "{}"); err != nil || (code != 404 && code != 405) {
			t.Errorf("PUT on the admin port: %d %v, want 404 or 405", code, err)
		}
		ip := nonLoopbackIPv4()
		if ip == "" {
			t.Skip("this host has no address but loopback")
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("the REST entry point answers on %s", ip)
		}
	})
	t.Run("scale 2 to 4", func(t *testing.T) {
		m.write(stack(ips[:3]...))
		expectBackends(t, client, url, ips[:3]...)
	})
	t.Run("Traefik killed with SIGKILL: restarted, the routes pushed again", func(t *testing.T) {
		old := traefikChild(t, i.cmd.Process.Pid)
		mark := len(i.stderr.String())
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		i.waitLog(mark, "traefik started", 30*time.Second)
		if pid := traefikChild(t, i.cmd.Process.Pid); pid == old {
			t.Fatalf("Traefik %d still runs", old)
		}
		expectBackends(t, client, url, ips[:3]...)
		if _, err := os.Stat(filepath.Join(i.home, "etc", "dynamic", "rancher.toml")); err == nil {
			t.Error("rancher.toml is in the watched directory: the routes came from it, not from a push")
		}
	})
	t.Run("no credential in the log", func(t *testing.T) {
		users, err := os.ReadFile(filepath.Join(i.home, "etc", "rest-users"))
		if err != nil {
			t.Fatal(err)
		}
		_, hash, _ := strings.Cut(strings.TrimSpace(string(users)), ":")
		if out := i.stderr.String() + i.stdout.String(); strings.Contains(out, hash) || strings.Contains(out, "Authorization") {
			t.Error("the log holds the credential's hash or an Authorization header")
		}
	})
}

// TestRESTDeliveryRefusedWithClusterACME: cluster-wide ACME restarts
// Traefik by a handover that does not wait for pushed routes, so the
// combination is refused at start: exit code 78, both variables named.
func TestRESTDeliveryRefusedWithClusterACME(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_ROUTES_DELIVERY": "rest",
		"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CLUSTER": "auto"})
	code, _, stderr := i.run("run")
	if code != 78 {
		t.Errorf("exit code %d, want 78\n%s", code, stderr)
	}
	for _, s := range []string{"TRAEFIK_ROUTES_DELIVERY", "TRAEFIK_ACME_CLUSTER=auto"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("the error does not name %s:\n%s", s, stderr)
		}
	}
}
