// Package e2e drives the built rancher-traefik binary end to end: real
// Traefik, real HTTP and TLS on loopback, real processes.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
	"rancher-traefik/internal/testlog"
)

var (
	ourBin     string // the rancher-traefik binary under test
	devBin     string // rancher-traefik-dev, the development tools (whoami, dev-cert)
	fakeBin    string // testdata/fakechild
	traefikBin string // the pinned real Traefik (make traefik)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rancher-traefik-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ourBin = filepath.Join(dir, "rancher-traefik")
	devBin = filepath.Join(dir, "rancher-traefik-dev")
	fakeBin = filepath.Join(dir, "fakechild")
	for _, b := range []struct{ out, pkg string }{
		{ourBin, "rancher-traefik/cmd/rancher-traefik"},
		{devBin, "rancher-traefik/cmd/rancher-traefik-dev"},
		{fakeBin, "./testdata/fakechild"},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	traefikBin = os.Getenv("TRAEFIK_TEST_BINARY")
	if traefikBin == "" {
		_, file, _, _ := runtime.Caller(0)
		traefikBin = filepath.Join(filepath.Dir(file), "..", "..", "bin", "traefik")
	}
	if _, err := os.Stat(traefikBin); err != nil {
		fmt.Fprintf(os.Stderr, "the real Traefik is needed at %s (run `make traefik`, or set TRAEFIK_TEST_BINARY): %v\n", traefikBin, err)
		return 1
	}
	code := m.Run()
	// The tests remove what they create; the image is shared by several.
	if err := removeTestImage(); err != nil {
		fmt.Fprintf(os.Stderr, "removing the test image: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// handedOut are the ports freePort gave in this process: the kernel may
// offer a port again as soon as its probe listener closes, and two entry
// points of one instance must never share one.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort returns a loopback port nobody listens on right now and that no
// earlier call of this process returned. It is taken below the kernel's
// ephemeral range where there is room: a port handed out is bound a moment
// later by another process (Traefik), and within the ephemeral range the
// kernel may give it meanwhile to any socket bound to port 0 or any
// outgoing connection — a long-poll held for seconds, say — and the bind
// then fails with EADDRINUSE (seen in CI: TestRedirectsKeepPublicPort's
// Traefik restarted 5 times on a taken port). Below the range only an
// explicit bind can take it.
func freePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if lo := ephemeralLow(); lo-reservedFloor >= 1000 {
		for range 1000 {
			port := reservedFloor + rand.IntN(lo-reservedFloor)
			if handedOut.ports[port] {
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				continue
			}
			l.Close()
			handedOut.ports[port] = true
			return port
		}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
	t.Fatal("no loopback port that was not handed out already")
	return 0
}

// reservedFloor is the lowest port freePort hands out below the ephemeral
// range (well above the well-known and usual service ports).
const reservedFloor = 20000

// ephemeralLow is the first port of the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), or 0 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return lo
}

// instance is one rancher-traefik process and its directories.
type instance struct {
	t                          testing.TB
	dir, home, secrets         string
	env                        map[string]string
	httpPort, httpsPort, admin int
	chain                      *testcert.Chain // the main certificate, when given

	cmd            *exec.Cmd
	stdout, stderr testlog.Buffer
	done           chan struct{}
	exitCode       int
	wrap           []string // command prefix, e.g. unshare
}

// newInstance prepares an instance on free loopback ports with the real
// Traefik; env overrides or adds variables (an empty value removes one).
func newInstance(t testing.TB, env map[string]string) *instance {
	t.Helper()
	dir := t.TempDir()
	i := &instance{
		t: t, dir: dir, home: filepath.Join(dir, "home"), secrets: filepath.Join(dir, "secrets"),
		httpPort: freePort(t), httpsPort: freePort(t), admin: freePort(t),
	}
	if err := os.MkdirAll(i.secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	i.env = map[string]string{
		"PATH":                  os.Getenv("PATH"),
		"HOME":                  dir,
		"TRAEFIK_HOME":          i.home,
		"TRAEFIK_SECRETS_DIR":   i.secrets,
		"TRAEFIK_BINARY":        traefikBin,
		"TRAEFIK_BIND_ADDRESS":  "127.0.0.1",
		"TRAEFIK_HTTP_PORT":     strconv.Itoa(i.httpPort),
		"TRAEFIK_HTTPS_PORT":    strconv.Itoa(i.httpsPort),
		"TRAEFIK_ADMIN_PORT":    strconv.Itoa(i.admin),
		"TRAEFIK_GRACE_TIMEOUT": "2s",
		"TRAEFIK_STOP_TIMEOUT":  "10s",
		// Tests that need Rancher start the emulator and set the mode.
		"TRAEFIK_RANCHER_MODE": "off",
	}
	for k, v := range env {
		if v == "" {
			delete(i.env, k)
		} else {
			i.env[k] = v
		}
	}
	return i
}

// withCert writes a fresh chain for hosts as Rancher secrets and points the
// TLS variables at them by alias, as the seed image did.
func (i *instance) withCert(hosts ...string) *testcert.Chain {
	i.t.Helper()
	c, err := testcert.New(testcert.Options{Hosts: hosts})
	if err != nil {
		i.t.Fatal(err)
	}
	i.writeSecret("traefik-cert", c.Bundle())
	i.writeSecret("traefik-key", c.KeyPEM)
	i.env["TRAEFIK_SSL_CERT"] = "traefik-cert"
	i.env["TRAEFIK_SSL_PRIVATE_KEY"] = "traefik-key"
	i.chain = c
	return c
}

func (i *instance) writeSecret(name string, b []byte) string {
	i.t.Helper()
	p := filepath.Join(i.secrets, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		i.t.Fatal(err)
	}
	return p
}

func (i *instance) environ() []string {
	var out []string
	for k, v := range i.env {
		out = append(out, k+"="+v)
	}
	return out
}

// run runs a command of ours to completion.
func (i *instance) run(args ...string) (code int, stdout, stderr string) {
	i.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ourBin, args...)
	cmd.Env = i.environ()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		i.t.Fatalf("running %v: %v", args, err)
	}
	return code, o.String(), e.String()
}

// start starts `rancher-traefik args...` in the background; the test's
// cleanup stops it.
func (i *instance) start(args ...string) {
	i.t.Helper()
	argv := append(append(append([]string{}, i.wrap...), ourBin), args...)
	i.cmd = exec.Command(argv[0], argv[1:]...)
	i.cmd.Env = i.environ()
	i.cmd.Stdout, i.cmd.Stderr = &i.stdout, &i.stderr
	i.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := i.cmd.Start(); err != nil {
		i.t.Fatal(err)
	}
	i.done = make(chan struct{})
	go func() {
		_ = i.cmd.Wait()
		i.exitCode = i.cmd.ProcessState.ExitCode()
		if ws, ok := i.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			i.exitCode = 128 + int(ws.Signal())
		}
		close(i.done)
	}()
	i.t.Cleanup(func() {
		select {
		case <-i.done:
		default:
			target := i.cmd.Process.Pid
			if len(i.wrap) > 0 { // unshare forwards nothing: signal its child
				if c := children(target); len(c) == 1 {
					target = c[0]
				}
			}
			_ = syscall.Kill(target, syscall.SIGTERM)
			select {
			case <-i.done:
			case <-time.After(20 * time.Second):
				_ = i.cmd.Process.Kill()
				<-i.done
			}
		}
		if i.t.Failed() {
			i.t.Logf("rancher-traefik stdout:\n%s\nstderr:\n%s", i.stdout.String(), i.stderr.String())
		}
	})
}

// wait waits for the process to end and returns its exit code.
func (i *instance) wait(limit time.Duration) int {
	i.t.Helper()
	select {
	case <-i.done:
		return i.exitCode
	case <-time.After(limit):
		i.t.Fatalf("rancher-traefik still running after %v", limit)
		return -1
	}
}

// signal sends sig to the process we started (PID 1 of its namespace when
// wrapped: unshare --fork forwards nothing, so the caller signals the
// namespace's init through its pid).
func (i *instance) signal(sig syscall.Signal) {
	i.t.Helper()
	if err := i.cmd.Process.Signal(sig); err != nil {
		i.t.Fatalf("signal %v: %v", sig, err)
	}
}

// eventually polls cond every 20ms until it holds or limit passes.
func eventually(t testing.TB, limit time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", what, limit, err)
}

// waitReady waits until Traefik answers /ping on the admin port.
func (i *instance) waitReady() {
	i.t.Helper()
	eventually(i.t, 30*time.Second, "traefik /ping", func() error {
		select {
		case <-i.done:
			i.t.Fatalf("rancher-traefik exited with %d before Traefik was ready\nstderr:\n%s", i.exitCode, i.stderr.String())
		default:
		}
		code, _, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/ping", i.admin), nil)
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
}

func plainClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true},
	}
}

// tlsClient trusts roots and sends every connection to 127.0.0.1:port,
// whatever the URL's host, so names in the certificate can be used.
func tlsClient(roots *x509.CertPool, port int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			},
		},
	}
}

func get(c *http.Client, url string, hdr http.Header) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v[0] // Go sends req.Host, not a Host header
			continue
		}
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, "Location: " + loc, err
	}
	return resp.StatusCode, b.String(), err
}

// backend starts an HTTP server on 127.0.0.x answering with its name.
func backend(t testing.TB, ip, name string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		fmt.Fprintf(w, "%s %s", name, r.URL.Path)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// writeDynamic writes a dynamic file into the watched directory the safe
// way (temp file, rename), as the publisher does.
func (i *instance) writeDynamic(name, content string) {
	i.t.Helper()
	dir := filepath.Join(i.home, "etc", "dynamic")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		i.t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		i.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		i.t.Fatal(err)
	}
}

// route is a dynamic file routing host on entryPoint to servers.
func route(name, host, entryPoint string, servers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[http.routers.%s]\n  rule = \"Host(`%s`)\"\n  entryPoints = [%q]\n  service = %q\n", name, host, entryPoint, name)
	fmt.Fprintf(&b, "[http.services.%s.loadBalancer]\n", name)
	for _, s := range servers {
		fmt.Fprintf(&b, "  [[http.services.%s.loadBalancer.servers]]\n    url = \"http://%s\"\n", name, s)
	}
	return b.String()
}

func certPool(c *testcert.Chain) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.CA)
	return p
}

// tlsDial opens a TLS connection to 127.0.0.1:port with SNI name.
func tlsDial(roots *x509.CertPool, port int, name string) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{ServerName: name, RootCAs: roots})
}

// tlsDialInsecure connects without verifying (to look at what is served).
func tlsDialInsecure(port int, name string) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{ServerName: name, InsecureSkipVerify: true})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func getenv(k string) string { return os.Getenv(k) }
