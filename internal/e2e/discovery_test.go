package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"rancher-traefik/internal/testlog"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// emulator is our metadata-server process serving a stack file.
type emulator struct {
	t    testing.TB
	file string
	addr string
	cmd  *exec.Cmd
	out  testlog.Buffer
}

func startEmulator(t testing.TB, dir, stack string) *emulator {
	t.Helper()
	m := &emulator{t: t, file: filepath.Join(dir, "stack.yml"), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))}
	m.write(stack)
	m.start()
	t.Cleanup(m.stop)
	return m
}

// start runs metadata-server on the stack file, with extra flags if given.
func (m *emulator) start(extra ...string) {
	m.t.Helper()
	m.cmd = exec.Command(ourBin, append([]string{"metadata-server", "--answers", m.file, "--listen", m.addr}, extra...)...)
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	eventually(m.t, 10*time.Second, "emulator up", func() error {
		code, _, err := get(plainClient(), "http://"+m.addr+"/", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
}

func (m *emulator) stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	_ = m.cmd.Wait()
	m.cmd = nil
}

// write replaces the stack file atomically, as an editor or a deploy would.
func (m *emulator) write(stack string) {
	m.t.Helper()
	tmp := m.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(stack), 0o644); err != nil {
		m.t.Fatal(err)
	}
	if err := os.Rename(tmp, m.file); err != nil {
		m.t.Fatal(err)
	}
}

func (m *emulator) url() string { return "http://" + m.addr + "/2016-07-29" }

// whoamiStack is the seed's stack: whoami behind Host:whoami.example.com,
// its containers given as ip[:health].
func whoamiStack(containers ...string) string {
	var b strings.Builder
	b.WriteString(`stacks:
  - name: iamfoo
    services:
      - name: whoami
        health_check: true
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:whoami.example.com
        containers:
`)
	for _, c := range containers {
		ip, health, _ := strings.Cut(c, ":")
		if health == "" {
			health = "healthy"
		}
		fmt.Fprintf(&b, "          - ip: %s\n            health_state: %s\n", ip, health)
	}
	return b.String()
}

// backends starts one named HTTP server per IP on port 8080.
func backends(t testing.TB, ips ...string) {
	t.Helper()
	for _, ip := range ips {
		l, err := net.Listen("tcp", ip+":8080")
		if err != nil {
			t.Fatalf("backend %s: %v", ip, err)
		}
		name := ip
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.URL.Path)
		})}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
}

// seen sends n requests and returns the backends that answered, sorted.
func seen(client *http.Client, url string, n int) ([]string, error) {
	set := map[string]bool{}
	for range n {
		code, body, err := get(client, url, nil)
		if err != nil {
			return nil, err
		}
		if code != 200 {
			return nil, fmt.Errorf("status %d %q", code, body)
		}
		name, _, _ := strings.Cut(body, " ")
		set[name] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

func expectBackends(t *testing.T, client *http.Client, url string, want ...string) {
	t.Helper()
	sort.Strings(want)
	eventually(t, 20*time.Second, "backends "+strings.Join(want, ","), func() error {
		got, err := seen(client, url, 4*len(want)+4)
		if err != nil {
			return err
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("answered by %v", got)
		}
		return nil
	})
}

// TestDiscoveryEndToEnd: the seed's labels through the emulator, the real
// Traefik over HTTPS, backends on loopback.
func TestDiscoveryEndToEnd(t *testing.T) {
	ips := []string{"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"}
	backends(t, append(ips, "127.0.0.21", "127.0.0.22", "127.0.0.23")...)
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_RANCHER_REFRESH": "5", "TRAEFIK_RANCHER_DOMAIN": "example.com"})
	c := i.withCert("whoami.example.com", "*.example.com", "*.iamfoo.example.com")
	m := startEmulator(t, i.dir, whoamiStack(ips[0], ips[1]))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	client := tlsClient(certPool(c), i.httpsPort)
	url := "https://whoami.example.com/"

	// The first routes were published before Traefik started.
	if b, err := os.ReadFile(filepath.Join(i.home, "etc", "dynamic", "rancher.toml")); err != nil || !strings.Contains(string(b), "whoami-iamfoo") {
		t.Fatalf("rancher.toml before the first request: %v\n%s", err, b)
	}
	t.Run("every container answers", func(t *testing.T) { expectBackends(t, client, url, ips[0], ips[1]) })
	t.Run("scale 2 to 4", func(t *testing.T) {
		m.write(whoamiStack(ips...))
		expectBackends(t, client, url, ips...)
	})
	t.Run("scale 4 to 1", func(t *testing.T) {
		m.write(whoamiStack(ips[2]))
		expectBackends(t, client, url, ips[2])
	})
	t.Run("an unhealthy container stops getting traffic", func(t *testing.T) {
		m.write(whoamiStack(ips[0], ips[1]+":unhealthy", ips[2]+":initializing"))
		expectBackends(t, client, url, ips[0])
	})
	t.Run("all unhealthy: 503, not 404", func(t *testing.T) {
		m.write(whoamiStack(ips[0] + ":unhealthy"))
		eventually(t, 20*time.Second, "503", func() error {
			code, _, err := get(client, url, nil)
			if err != nil || code != 503 {
				return fmt.Errorf("%d %v", code, err)
			}
			return nil
		})
	})

	t.Run("no health check, a bad label elsewhere, v2 labels with a middleware", func(t *testing.T) {
		mark := len(i.stderr.String())
		m.write(mixedStack(ips[0]))
		expectBackends(t, client, "https://nohealth.iamfoo.example.com/", "127.0.0.21")
		expectBackends(t, client, url, ips[0])
		eventually(t, 10*time.Second, "v2 route with strip prefix", func() error {
			code, body, err := get(client, "https://v2.example.com/app/x", nil)
			if err != nil || code != 200 || body != "127.0.0.23 /x" {
				return fmt.Errorf("%d %q %v", code, body, err)
			}
			return nil
		})
		code, _, err := get(client, "https://broken.example.com/", nil)
		if err != nil || code != 404 {
			t.Errorf("the broken service answered %d %v, want 404 (left out)", code, err)
		}
		i.waitLog(mark, `msg="service left out" component=publish stack=iamfoo service=broken label=traefik.frontend.rule`, 5*time.Second)
	})

	t.Run("Rancher away for 30 seconds: routes keep serving", func(t *testing.T) {
		checkOutageKeepsRoutes(t, i, m, client, url, ips[0], ips[1])
	})
}

// mixedStack is the stack at ip with three services more: one without a
// health check (127.0.0.21), one with a bad label (127.0.0.22), and one
// with v2 labels and a middleware (127.0.0.23).
func mixedStack(ip string) string {
	return whoamiStack(ip) + `      - name: nohealth
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
        containers:
          - ip: 127.0.0.21
      - name: broken
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Hots:broken.example.com
        containers:
          - ip: 127.0.0.22
      - name: v2app
        labels:
          traefik.enable: "true"
          traefik.http.routers.v2app.rule: Host(` + "`v2.example.com`" + `) && PathPrefix(` + "`/app`" + `)
          traefik.http.routers.v2app.middlewares: v2app-strip
          traefik.http.middlewares.v2app-strip.stripprefix.prefixes: /app
          traefik.http.services.v2app.loadbalancer.server.port: "8080"
        containers:
          - ip: 127.0.0.23
`
}

// checkOutageKeepsRoutes stops the emulator for 30 seconds: url keeps
// answering from serving, and the outage is logged; once Rancher is back,
// a change (to then) is followed.
func checkOutageKeepsRoutes(t *testing.T, i *instance, m *emulator, client *http.Client, url, serving, then string) {
	t.Helper()
	m.stop()
	deadline := time.Now().Add(30 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		code, body, err := get(client, url, nil)
		if err != nil || code != 200 || !strings.HasPrefix(body, serving) {
			t.Fatalf("during the outage: %d %q %v", code, body, err)
		}
		n++
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(i.stderr.String(), "Rancher is not answering; keeping the last good routes") {
		t.Error("the outage was not logged")
	}
	m.start()
	m.write(whoamiStack(then))
	expectBackends(t, client, url, then)
	t.Logf("%d requests served during the outage", n)
}

// TestRoutesCommand replays a stack file offline.
func TestRoutesCommand(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com"})
	file := filepath.Join(i.dir, "stack.yml")
	if err := os.WriteFile(file, []byte(whoamiStack("10.0.0.1", "10.0.0.2:unhealthy")+`      - name: bad
        labels:
          traefik.enable: "true"
          traefik.port: "x"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := i.run("routes", "--answers", file)
	if code != 0 {
		t.Fatalf("routes: %d %s", code, stderr)
	}
	if !strings.Contains(stdout, `url = "http://10.0.0.1:8080"`) || strings.Contains(stdout, "10.0.0.2") {
		t.Errorf("routes output:\n%s", stdout)
	}
	if strings.TrimSpace(stderr) != `warning: iamfoo/bad: label traefik.port: "x" is not a port number (1-65535)` {
		t.Errorf("stderr %q", stderr)
	}
	// The same through a live emulator.
	m := startEmulator(t, i.dir, whoamiStack("10.0.0.1"))
	code, live, stderr := i.run("routes", "--metadata-url", m.url())
	if code != 0 || !strings.Contains(live, `url = "http://10.0.0.1:8080"`) {
		t.Errorf("routes --metadata-url: %d %s %s", code, live, stderr)
	}
}

// TestGoldenRoutesAcceptedByTraefik loads every router the routes golden
// test produces into the real Traefik, published as run publishes them
// (with the credential files they name): none may be refused.
func TestGoldenRoutesAcceptedByTraefik(t *testing.T) {
	// ACME must exist for the certResolver label; its server is an unused
	// loopback port, so nothing leaves the machine.
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com", "TRAEFIK_ACME_ENABLE": "true",
		"TRAEFIK_ACME_CASERVER": fmt.Sprintf("http://127.0.0.1:%d/directory", freePort(t)), "TRAEFIK_ACME_EMAIL": "ops@example.com",
		"TRAEFIK_RANCHER_MODE": "metadata"})
	i.withCert("whoami.example.com")
	stack, err := os.ReadFile(filepath.Join("..", "routes", "testdata", "stacks.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m := startEmulator(t, i.dir, string(stack))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	code, routesTOML, stderr := i.run("routes", "--answers", filepath.Join("..", "routes", "testdata", "stacks.yml"))
	if code != 0 {
		t.Fatalf("routes: %s", stderr)
	}
	i.start("run")
	eventually(t, 20*time.Second, "the routes published", func() error {
		b, err := os.ReadFile(filepath.Join(i.home, "etc", "dynamic", "rancher.toml"))
		if err != nil || string(b) != routesTOML {
			return fmt.Errorf("rancher.toml is not what routes printed (%v)", err)
		}
		return nil
	})
	i.waitReady()
	type item struct {
		Status string   `json:"status"`
		Err    []string `json:"error"`
	}
	var raw struct {
		Routers     map[string]item `json:"routers"`
		Services    map[string]item `json:"services"`
		Middlewares map[string]item `json:"middlewares"`
		TCPRouters  map[string]item `json:"tcpRouters"`
		TCPServices map[string]item `json:"tcpServices"`
	}
	eventually(t, 20*time.Second, "routers loaded", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/rawdata", i.admin), nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		if err := jsonUnmarshal(body, &raw); err != nil {
			return err
		}
		if _, ok := raw.Routers["whoami-iamfoo@file"]; !ok {
			return fmt.Errorf("not loaded yet")
		}
		return nil
	})
	n := 0
	for _, group := range []map[string]item{raw.Routers, raw.Services, raw.Middlewares, raw.TCPRouters, raw.TCPServices} {
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
	if n < 25 {
		t.Errorf("only %d items from the file provider", n)
	}
}

// TestEmulatorReloadsOnSIGHUP: SIGHUP reloads the answers and bumps the
// version even when the file did not change; a broken file keeps the last.
func TestEmulatorReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	m := startEmulator(t, dir, whoamiStack("10.0.0.1"))
	version := func() string {
		_, v, err := get(plainClient(), "http://"+m.addr+"/latest/version", nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := version()
	if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "version bumped by SIGHUP", func() error {
		if v := version(); v == v1 {
			return fmt.Errorf("still %s", v)
		}
		return nil
	})
	v2 := version()
	m.write("stacks: [\n") // broken YAML
	if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The SIGHUP's own reload fails (the file watcher's may too, with its
	// own message): this one says so.
	eventually(t, 10*time.Second, "the SIGHUP reload's failure logged", func() error {
		if !strings.Contains(m.out.String(), "reload on SIGHUP failed; still serving the previous answers") {
			return fmt.Errorf("not logged")
		}
		return nil
	})
	if v := version(); v != v2 {
		t.Errorf("a broken file changed the version: %s → %s", v2, v)
	}
	if code, body, _ := get(plainClient(), "http://"+m.addr+"/latest/services/whoami/containers/0/primary_ip", nil); code != 200 || body != "10.0.0.1" {
		t.Errorf("answers after a broken reload: %d %q", code, body)
	}
}
