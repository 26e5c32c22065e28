package supervisor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/handover"
	"rancher-traefik/internal/testcert"
	"rancher-traefik/internal/testlog"
)

// TestHandoverRealTraefik: the real Traefik (TRAEFIK_TEST_BINARY; skipped
// without it — run it under the e2e lock) restarted five times in a row
// under HTTPS load, each client on a new connection. Handed over, no
// request fails, whatever phase of Traefik's start and shutdown it meets
// (before its first configuration a Traefik closes what it accepts; its
// shutdown closes what its TCP router has not yet handed to its HTTP
// server). Stopped then started — Traefik opening its own socket — requests
// fail: what the handover is for, and proof the load can see it.
func TestHandoverRealTraefik(t *testing.T) {
	bin := os.Getenv("TRAEFIK_TEST_BINARY")
	if bin == "" {
		t.Skip("TRAEFIK_TEST_BINARY is not set")
	}
	for _, tc := range []struct {
		name     string
		handover bool
	}{{"handover", true}, {"stop then start", false}} {
		t.Run(tc.name, func(t *testing.T) { realTraefikRestarts(t, bin, tc.handover) })
	}
}

func realTraefikRestarts(t *testing.T, bin string, handOver bool) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	chain, err := testcert.New(testcert.Options{Hosts: []string{"app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dyn := filepath.Join(dir, "dynamic")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "cert.pem"), string(chain.Bundle()))
	write(filepath.Join(dir, "key.pem"), string(chain.KeyPEM))
	addr := freeTCP(t)
	static := fmt.Sprintf(`[entryPoints.web]
  address = %q
  [entryPoints.web.transport.lifeCycle]
    graceTimeOut = "5s"
[entryPoints.%s]
  address = "127.0.0.1:0"
[providers.file]
  directory = %q
[ping]
  entryPoint = "web"
[log]
  level = "ERROR"
`, addr, handover.ProbeName, dyn)
	write(filepath.Join(dir, "traefik.toml"), static)
	write(filepath.Join(dyn, "probe.toml"), fmt.Sprintf("[http.routers.probe]\n  entryPoints = [%q]\n  rule = \"Path(`%s`)\"\n  service = \"ping@internal\"\n"+
		"[http.routers.probe-web]\n  entryPoints = [\"web\"]\n  rule = \"Path(`%s`)\"\n  service = \"ping@internal\"\n  [http.routers.probe-web.tls]\n",
		handover.ProbeName, handover.ProbePath, handover.ProbeRoute))
	write(filepath.Join(dyn, "app.toml"), fmt.Sprintf(`[http.routers.app]
  entryPoints = ["web"]
  rule = "Host(%s)"
  service = "app"
  [http.routers.app.tls]
[[http.services.app.loadBalancer.servers]]
  url = %q
[[tls.certificates]]
  certFile = %q
  keyFile = %q
`, "`app.example.com`", backend.URL, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")))

	var logs testlog.Buffer
	restarts := make(chan string, 1)
	opts := Options{
		Path: bin, Args: []string{"--configFile=" + filepath.Join(dir, "traefik.toml")}, Env: []string{"PATH=" + os.Getenv("PATH")},
		Trampoline: exe, StopGrace: 10 * time.Second, Restart: RestartNever, Restarts: restarts, HandoverTimeout: 60 * time.Second,
	}
	done := `msg="traefik started"` // one more each restart
	if handOver {
		opts.Sockets = handover.New([]handover.Spec{{Name: "web", Network: "tcp", Address: addr, Check: handover.CheckTLS}})
		done = `msg="the previous traefik stopped"`
	}
	sup := New(opts, testReaper(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	sigs := make(chan os.Signal, 4)
	res := make(chan error, 1)
	go func() { _, err := sup.Run(context.Background(), sigs); res <- err }()

	roots := x509.NewCertPool()
	roots.AddCert(chain.CA)
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() error {
		resp, err := hc.Get("https://app.example.com/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && (resp.StatusCode != 200 || string(b) != "ok") {
			err = fmt.Errorf("%s %q", resp.Status, b)
		}
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for err := get(); err != nil; err = get() {
		if time.Now().After(deadline) {
			sigs <- os.Interrupt
			<-res
			t.Fatalf("Traefik does not serve: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a starting Traefik
	}

	c := &clients{by: map[string]int{}, fails: map[string]int{}, stop: make(chan struct{})}
	for range 8 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				select {
				case <-c.stop:
					return
				default:
				}
				err := get()
				c.mu.Lock()
				if err != nil {
					c.fails[errKind(err)]++
				} else {
					c.by["ok"]++
				}
				c.mu.Unlock()
			}
		}()
	}
	restartsN := 5
	if !handOver {
		restartsN = 1 // one gap is enough to see
	}
	for n := 1; n <= restartsN; n++ {
		restarts <- "test " + strconv.Itoa(n)
		if handOver {
			waitCount(t, &logs, done, n)
			continue
		}
		waitCount(t, &logs, done, n+1)
		for err := get(); err != nil; err = get() { // serving again
			time.Sleep(5 * time.Millisecond) // polling a starting Traefik
		}
	}
	by, fails := c.end()
	t.Logf("%d restarts of the real Traefik under load: %d requests answered, failures %v", restartsN, by["ok"], fails)
	switch {
	case by["ok"] == 0:
		t.Errorf("no request answered:\n%s", logs.String())
	case handOver && len(fails) > 0:
		t.Errorf("requests failed: %v\n%s", fails, logs.String())
	case !handOver && len(fails) == 0:
		t.Errorf("no request failed while Traefik was stopped then started: the load cannot see a gap")
	}
	if strings.Contains(logs.String(), "stopping it anyway") {
		t.Errorf("a retired Traefik was stopped with connections waiting:\n%s", logs.String())
	}
	sigs <- os.Interrupt
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("supervisor still running:\n%s", logs.String())
	}
}

// errKind names how a request failed, briefly.
func errKind(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	}
	return err.Error()
}

// waitCount waits until s appears n times in logs.
func waitCount(t *testing.T, logs *testlog.Buffer, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(logs.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged %d times:\n%s", s, n, logs.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the log
	}
}

func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
