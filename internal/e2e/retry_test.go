package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/config"
)

// counter is a backend that counts, per request id, how often it received
// a request — a request received twice would show here.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counter) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	c.seen[id]++
}

func (c *counter) get(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

// countingBackend answers every request after reading its body, and counts
// it by its X-Request-Id; the body must be the id (a POST's body arrives
// whole, retried or not).
func countingBackend(t *testing.T, ip string, c *counter) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get("X-Request-Id")
		c.add(id)
		if r.Method == http.MethodPost && string(body) != "body of "+id {
			http.Error(w, fmt.Sprintf("body %q", body), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "ok")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// receiveThenDrop is a server that reads a whole request and closes the
// connection without answering — a backend that dies with the request in
// hand. It counts what it received.
func receiveThenDrop(t *testing.T, ip string, c *counter) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				_, _ = io.ReadAll(req.Body)
				c.add(req.Header.Get("X-Request-Id"))
			}()
		}
	}()
	return l.Addr().String()
}

// send sends one request with an id (and, for POST, a body naming it).
func send(client *http.Client, url, host, method, id string) (int, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("body of " + id)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, err
	}
	req.Host = host
	req.Header.Set("X-Request-Id", id)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// TestRetryNeverReachedServer: a service with a live server and a loopback
// port where nothing listens (connection refused: the request never
// reached a server). With retry (the default) every request succeeds, POST
// included, and the live server gets each exactly once; without, about
// half fail.
func TestRetryNeverReachedServer(t *testing.T) {
	for _, tc := range []struct {
		name, attempts string
		wantFail       bool
	}{{"retry on (default)", "", false}, {"retry off", "0", true}} {
		t.Run(tc.name, func(t *testing.T) {
			i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_RETRY_ATTEMPTS": tc.attempts})
			var live counter
			addr := countingBackend(t, "127.0.0.31", &live)
			dead := fmt.Sprintf("127.0.0.32:%d", freePort(t))
			i.writeDynamic("app.toml", route("app", "app.example.com", "http", addr, dead))
			i.start("run")
			i.waitReady()
			url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
			client := plainClient()
			eventually(t, 20*time.Second, "route", func() error {
				if code, err := send(client, url, "app.example.com", http.MethodGet, "probe"); err != nil || code == 404 {
					return fmt.Errorf("%d %v", code, err)
				}
				return nil
			})
			const n = 100
			failed := 0
			for k := range n {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					id := fmt.Sprintf("%s-%d", method, k)
					code, err := send(client, url, "app.example.com", method, id)
					if err != nil || code != 200 {
						failed++
						continue
					}
					if got := live.get(id); got != 1 {
						t.Errorf("%s reached the live server %d times, want once", id, got)
					}
				}
			}
			t.Logf("%d of %d requests failed", failed, 2*n)
			if tc.wantFail && failed == 0 {
				t.Errorf("no request failed with retry off: the dead server was never picked")
			}
			if !tc.wantFail && failed != 0 {
				t.Errorf("%d of %d requests failed with retry on, want 0", failed, 2*n)
			}
		})
	}
}

// TestRetryNeverRepeatsReceivedRequest: a server that receives a POST and
// drops the connection unanswered has the request: it is not sent again,
// to it or to the other server — the client gets the error (502), and every
// request reached exactly one server once.
func TestRetryNeverRepeatsReceivedRequest(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false"})
	var good, dropping counter
	i.writeDynamic("app.toml", route("app", "app.example.com", "http", countingBackend(t, "127.0.0.33", &good), receiveThenDrop(t, "127.0.0.34", &dropping)))
	i.start("run")
	i.waitReady()
	url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	client := plainClient()
	eventually(t, 20*time.Second, "route", func() error {
		if code, err := send(client, url, "app.example.com", http.MethodGet, "probe"); err != nil || code == 404 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	const n = 60
	dropped := 0
	for k := range n {
		id := fmt.Sprintf("post-%d", k)
		code, err := send(client, url, "app.example.com", http.MethodPost, id)
		g, d := good.get(id), dropping.get(id)
		switch {
		case err == nil && code == 200:
			if g != 1 || d != 0 {
				t.Errorf("%s answered 200 after reaching the good server %d and the dropping one %d times, want 1 and 0", id, g, d)
			}
		case err == nil && code == 502:
			dropped++
			if g != 0 || d != 1 {
				t.Errorf("%s failed after reaching the good server %d and the dropping one %d times, want 0 and 1", id, g, d)
			}
		default:
			t.Errorf("%s: %d %v", id, code, err)
		}
	}
	if dropped == 0 || dropped == n {
		t.Errorf("%d of %d requests went to the dropping server, want some and not all", dropped, n)
	}
	t.Logf("%d of %d POSTs received by the dropping server: each answered 502, none sent again", dropped, n)
}

// upgradeStack is the whoami service with its containers, each ip[:state].
func upgradeStack(containers ...string) string {
	var b strings.Builder
	b.WriteString(`stacks:
  - name: shop
    services:
      - name: web
        labels:
          traefik.enable: "true"
          traefik.port: "8080"
          traefik.frontend.rule: Host:web.example.com
        containers:
`)
	for _, c := range containers {
		ip, state, _ := strings.Cut(c, ":")
		if state == "" {
			state = "running"
		}
		fmt.Fprintf(&b, "          - ip: %s\n            state: %s\n", ip, state)
	}
	return b.String()
}

// whoamiProc is a backend in a process of its own (rancher-traefik-dev whoami),
// so that it can be killed as a container is.
func whoamiProc(t *testing.T, ip, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(devBin, "whoami", "--listen", ip+":8080", "--name", name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually(t, 10*time.Second, "whoami "+name, func() error {
		c, err := net.DialTimeout("tcp", ip+":8080", time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return cmd
}

// retryLoad sends requests from workers until stopped, counting every result.
type retryLoad struct {
	ok       atomic.Int64
	mu       sync.Mutex
	failures map[string]int // by cause
	failed   []string       // the ids of the failed requests
	by       map[string]int // successes by backend
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

func startRetryLoad(url, host string, workers int) *retryLoad {
	ctx, stop := context.WithCancel(context.Background())
	l := &retryLoad{failures: map[string]int{}, by: map[string]int{}, stop: stop}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for n := 0; n < 1_000_000 && ctx.Err() == nil; n++ {
				id := fmt.Sprintf("%d-%d", w, n)
				code, body, err := get(client, url+"?r="+id, http.Header{"Host": {host}})
				l.mu.Lock()
				switch {
				case err != nil:
					l.failures["error: "+err.Error()]++
					l.failed = append(l.failed, id)
				case code != 200:
					l.failures[fmt.Sprintf("status %d", code)]++
					l.failed = append(l.failed, id)
				default:
					l.ok.Add(1)
					name, _, _ := strings.Cut(strings.TrimPrefix(body, "I am "), "\n")
					l.by[name]++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// served is how many requests name has answered so far.
func (l *retryLoad) served(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.by[name]
}

// after waits until n more requests have succeeded (bounded).
func (l *retryLoad) after(t *testing.T, n int64) {
	t.Helper()
	target := l.ok.Load() + n
	eventually(t, 60*time.Second, fmt.Sprintf("%d more requests", n), func() error {
		if got := l.ok.Load(); got < target {
			return fmt.Errorf("%d of %d", got, target)
		}
		return nil
	})
}

// finish stops the load and returns the successes, the ids of the failed
// requests and their causes.
func (l *retryLoad) finish() (ok int64, failed, causes []string) {
	l.stop()
	l.wg.Wait()
	for cause, k := range l.failures {
		causes = append(causes, fmt.Sprintf("%d × %s", k, cause))
	}
	sort.Strings(causes)
	return l.ok.Load(), l.failed, causes
}

// upgrade is what one start-first upgrade under load saw.
type upgrade struct {
	ok     int64
	failed []string       // ids of the failed requests
	causes []string       // failures by cause
	last   map[string]int // per request id, the last attempt Traefik logged (none: never retried)
}

// upgradeUnderLoad runs a start-first rolling upgrade of a service of two
// containers, under load from workers: two new containers start beside
// the old ones, then each old one is marked stopped in the metadata and
// killed (kill -9) at the same instant — requests already routed to it find
// a closed port until Traefik has the new routes.
func upgradeUnderLoad(t *testing.T, attempts string, workers int) upgrade {
	old1, old2 := whoamiProc(t, "127.0.0.41", "old1"), whoamiProc(t, "127.0.0.42", "old2")
	// DEBUG and json: Traefik logs every retry with its request's URL.
	i := newInstance(t, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false",
		"TRAEFIK_LOG_LEVEL": "DEBUG", "TRAEFIK_LOG_FORMAT": "json", "TRAEFIK_RETRY_ATTEMPTS": attempts})
	m := startEmulator(t, i.dir, upgradeStack("127.0.0.41", "127.0.0.42"))
	i.env["TRAEFIK_RANCHER_METADATA_URL"] = m.url()
	i.start("run")
	i.waitReady()
	url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
	eventually(t, 20*time.Second, "the route", func() error {
		if code, _, err := get(plainClient(), url, http.Header{"Host": {"web.example.com"}}); err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	l := startRetryLoad(url, "web.example.com", workers)
	defer l.stop()
	eventually(t, 20*time.Second, "old containers serving", func() error {
		if l.served("old1") == 0 || l.served("old2") == 0 {
			return fmt.Errorf("old1 %d, old2 %d", l.served("old1"), l.served("old2"))
		}
		return nil
	})
	// Start first: the new containers run beside the old ones.
	whoamiProc(t, "127.0.0.43", "new1")
	whoamiProc(t, "127.0.0.44", "new2")
	m.write(upgradeStack("127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44"))
	eventually(t, 20*time.Second, "new containers serving", func() error {
		if l.served("new1") == 0 || l.served("new2") == 0 {
			return fmt.Errorf("new1 %d, new2 %d", l.served("new1"), l.served("new2"))
		}
		return nil
	})
	// Then each old one is marked stopped and killed at once.
	m.write(upgradeStack("127.0.0.41:stopped", "127.0.0.42", "127.0.0.43", "127.0.0.44"))
	_ = old1.Process.Kill()
	l.after(t, 500)
	m.write(upgradeStack("127.0.0.41:stopped", "127.0.0.42:stopped", "127.0.0.43", "127.0.0.44"))
	_ = old2.Process.Kill()
	l.after(t, 500)
	var u upgrade
	u.ok, u.failed, u.causes = l.finish()
	u.last = retriesLogged(i.stdout.String())
	return u
}

// retriesLogged reads Traefik's json DEBUG log for its retries ("New
// attempt K for request: /?r=ID") and returns the last K per ID.
func retriesLogged(out string) map[string]int {
	last := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		var e struct{ Message string }
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		var k int
		var id string
		if n, _ := fmt.Sscanf(e.Message, "New attempt %d for request: /?r=%s", &k, &id); n == 2 {
			last[id] = max(last[id], k)
		}
	}
	return last
}

// TestStartFirstUpgradeInstantKill: requests that never reached a server
// are retried on another, so the instant kill costs at most the requests
// Traefik had already sent on a connection of the killed container (in
// flight when it died, or written on its connection before Traefik saw it
// close) — these it never repeats, whatever their method: at most one per
// connection, and it has at most one per concurrent request. Without retry,
// every request routed to it until the new routes are live fails.
//
// A request can also be unlucky: every one of its attempts picked a killed
// container (Traefik's round robin, under concurrency, offers the same
// server again now and then). Those are counted and printed, not failed
// on: their number is chance, a few per thousand retried requests with the
// default attempts (see the README).
func TestStartFirstUpgradeInstantKill(t *testing.T) {
	const workers, kills = 8, 2
	// Connections Traefik can hold to one container: one per concurrent
	// request (the workers and the readiness probe before them).
	bound := (workers + 1) * kills
	t.Run("retry on (default)", func(t *testing.T) {
		attempts := defaultOf(t, "TRAEFIK_RETRY_ATTEMPTS")
		u := upgradeUnderLoad(t, "", workers)
		var sent, exhausted int
		for _, id := range u.failed {
			switch k := u.last[id]; {
			case k == attempts:
				exhausted++
			default: // never retried, or a retry sent on such a connection
				sent++
			}
		}
		for id, k := range u.last {
			if k > attempts {
				t.Errorf("request %s was tried %d times, more than TRAEFIK_RETRY_ATTEMPTS=%d", id, k, attempts)
			}
		}
		t.Logf("%d requests answered, %d failed (%v): %d sent to a killed container before its end was seen (at most %d), %d out of attempts; %d requests retried",
			u.ok, len(u.failed), u.causes, sent, bound, exhausted, len(u.last))
		if sent > bound {
			t.Errorf("%d failed requests were not retried, more than the %d Traefik could have sent to the killed containers", sent, bound)
		}
	})
	t.Run("retry off", func(t *testing.T) {
		u := upgradeUnderLoad(t, "0", workers)
		t.Logf("%d requests answered, %d failed: %v", u.ok, len(u.failed), u.causes)
		if len(u.last) != 0 {
			t.Errorf("%d requests retried with TRAEFIK_RETRY_ATTEMPTS=0", len(u.last))
		}
		if len(u.failed) <= bound {
			t.Errorf("only %d requests failed without retry, not more than the %d that retry cannot save: the kill was not caught under load", len(u.failed), bound)
		}
	})
}

// defaultOf is a variable's documented default, as a number.
func defaultOf(t *testing.T, name string) int {
	t.Helper()
	for _, v := range config.Vars {
		if v.Name == name {
			n, err := strconv.Atoi(v.Default)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no variable %s", name)
	return 0
}

// BenchmarkRetryOverhead measures a request through the real Traefik to a
// live loopback backend, with the retry middleware (the default) and
// without: what it costs a request that needs no retry.
func BenchmarkRetryOverhead(b *testing.B) {
	for _, tc := range []struct{ name, attempts string }{{"retry=on", ""}, {"retry=off", "0"}} {
		b.Run(tc.name, func(b *testing.B) {
			i := newInstance(b, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_RETRY_ATTEMPTS": tc.attempts})
			i.writeDynamic("app.toml", route("app", "app.example.com", "http", backend(b, "127.0.0.35", "app", 0)))
			i.start("run")
			i.waitReady()
			url := fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort)
			client := &http.Client{Timeout: 10 * time.Second}
			eventually(b, 20*time.Second, "route", func() error {
				if code, err := send(client, url, "app.example.com", http.MethodGet, "probe"); err != nil || code != 200 {
					return fmt.Errorf("%d %v", code, err)
				}
				return nil
			})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				t0 := time.Now()
				if code, err := send(client, url, "app.example.com", http.MethodGet, "r"); err != nil || code != 200 {
					b.Fatalf("%d %v", code, err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(quantile(lat, 0.5).Microseconds()), "µs-median")
			b.ReportMetric(float64(quantile(lat, 0.95).Microseconds()), "µs-p95")
		})
	}
}
