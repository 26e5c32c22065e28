package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/handover"
)

// serveChild stands in for Traefik under socket activation (serve:D): it
// takes the sockets named in LISTEN_FDNAMES when LISTEN_PID is its pid (as
// go-systemd's activation.Files does), serves HTTP on them at once, but —
// as Traefik before its first configuration — closes every connection on
// "web" and answers 404 on the probe for D; then "web" answers its pid and
// the probe's /ping 200. SIGTERM: its listeners close, its requests finish,
// it exits 0 (with $SUPERVISOR_TEST_LINGER set, once SIGUSR1 comes after).
// With the file $SUPERVISOR_TEST_FAIL present it exits 3 at
// once (a Traefik that cannot start).
func serveChild(mode string) {
	if fifo := os.Getenv("SUPERVISOR_TEST_PIDS"); fifo != "" {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			fmt.Fprintln(f, os.Getpid())
			f.Close()
		}
	}
	if _, err := os.Stat(os.Getenv("SUPERVISOR_TEST_FAIL")); err == nil {
		os.Exit(3)
	}
	d, err := time.ParseDuration(strings.TrimPrefix(mode, "serve:"))
	if err != nil || os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		fmt.Fprintln(os.Stderr, "serveChild: bad mode or LISTEN_PID", mode, os.Getenv("LISTEN_PID"), err)
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	var configured atomic.Bool
	time.AfterFunc(d, func() { configured.Store(true) })
	pid := strconv.Itoa(os.Getpid())
	var servers []*http.Server
	for i, name := range strings.Split(os.Getenv("LISTEN_FDNAMES"), ":") {
		f := os.NewFile(uintptr(3+i), name)
		l, err := net.FileListener(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "serveChild:", name, err)
			os.Exit(2)
		}
		f.Close() // the listener has its own descriptor, as in Traefik

		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, pid) })
		if name == handover.ProbeName {
			h = func(w http.ResponseWriter, r *http.Request) {
				if !configured.Load() || r.URL.Path != handover.ProbePath {
					http.NotFound(w, r)
				}
			}
		} else {
			l = &closingListener{Listener: l, open: &configured}
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(l) }()
	}
	for sig := range sigs {
		if sig == syscall.SIGTERM || sig == syscall.SIGINT {
			break
		}
	}
	for _, srv := range servers {
		_ = srv.Shutdown(context.Background())
	}
	if os.Getenv("SUPERVISOR_TEST_LINGER") != "" {
		// Its listeners closed, it lingers (a Traefik finishing slow
		// requests) until SIGUSR1.
		for sig := range sigs {
			if sig == syscall.SIGUSR1 {
				break
			}
		}
	}
	os.Exit(0)
}

// closingListener closes what it accepts until open.
type closingListener struct {
	net.Listener
	open *atomic.Bool
}

func (l *closingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.open.Load() {
			return c, err
		}
		c.Close()
	}
}

// clients request addr without pause, each on a new connection, counting
// answers by body (the child's pid) and failures by error.
type clients struct {
	mu    sync.Mutex
	by    map[string]int
	fails map[string]int
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startClients(addr string, n int) *clients {
	c := &clients{by: map[string]int{}, fails: map[string]int{}, stop: make(chan struct{})}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	for range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				select {
				case <-c.stop:
					return
				default:
				}
				resp, err := hc.Get("http://" + addr + "/")
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				c.mu.Lock()
				if err != nil {
					c.fails[err.Error()]++
				} else {
					c.by[string(b)]++
				}
				c.mu.Unlock()
			}
		}()
	}
	return c
}

func (c *clients) end() (map[string]int, map[string]int) {
	close(c.stop)
	c.wg.Wait()
	return c.by, c.fails
}

// waitLog waits for s in the harness's log.
func (h *harness) waitLog(s string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(h.log.String(), s) {
		if time.Now().After(deadline) {
			h.t.Fatalf("log lacks %q after 30s:\n%s", s, h.log.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the log, not standing in for it
	}
}

func handoverHarness(t *testing.T, restarts chan string) (*harness, string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	fail := filepath.Join(t.TempDir(), "fail")
	h := newHarness(t, "serve:300ms", Options{Restarts: restarts, Sockets: handover.New([]handover.Spec{{Name: "web", Network: "tcp", Address: addr}}), HandoverTimeout: 20 * time.Second})
	h.sup.opts.Env = append(h.sup.opts.Env, "SUPERVISOR_TEST_FAIL="+fail)
	return h, addr, fail
}

// TestHandoverRestart: a restart of a child that takes its sockets by
// socket activation is a handover under load: the next child starts beside
// the first, which takes every connection until the next answers its probe
// (300 ms during which the next one closes what it accepts, as Traefik
// before its configuration); the first stops once its queue is empty. No
// request fails, and both children answered; after it, only the second.
func TestHandoverRestart(t *testing.T) {
	restarts := make(chan string, 1)
	h, addr, _ := handoverHarness(t, restarts)
	var firstPid atomic.Int64
	restarted := make(chan error, 1)
	h.sup.opts.Restarted = func() {
		// Called once the first child is gone, not merely steered from.
		restarted <- syscall.Kill(int(firstPid.Load()), 0)
	}
	res := h.start()
	first := <-h.pids
	firstPid.Store(int64(first))
	h.waitLog(`msg="traefik has set its signal handlers"`)
	// The first child's configuration: its probe is not asked (it is the
	// first), so wait for its answers.
	eventuallyAnswers(t, addr, strconv.Itoa(first))
	c := startClients(addr, 8)
	restarts <- "the ACME issuer changed"
	second := <-h.pids
	h.waitLog(`msg="the previous traefik stopped"`)
	by, fails := c.end()
	t.Logf("answers by pid during the handover: %v", by)
	if len(fails) > 0 {
		t.Errorf("requests failed during the handover: %v\n%s", fails, h.log.String())
	}
	if by[strconv.Itoa(first)] == 0 || by[strconv.Itoa(second)] == 0 {
		t.Errorf("answers %v: want both %d and %d", by, first, second)
	}
	if err := syscall.Kill(first, 0); err != syscall.ESRCH {
		t.Errorf("the first child (%d) is still there: %v", first, err)
	}
	select {
	case err := <-restarted:
		if err != syscall.ESRCH {
			t.Errorf("Restarted was called while the first child (%d) was still there: %v", first, err)
		}
	case <-time.After(30 * time.Second):
		t.Error("Restarted was not called")
	}
	c = startClients(addr, 2)
	for {
		c.mu.Lock()
		n := c.by[strconv.Itoa(second)] + len(c.fails)
		c.mu.Unlock()
		if n >= 50 {
			break
		}
		runtime.Gosched()
	}
	by, fails = c.end()
	if len(fails) > 0 || len(by) != 1 {
		t.Errorf("after the handover: answers %v, failures %v; want only %d", by, fails, second)
	}
	h.sigs <- syscall.SIGTERM
	if code, err := h.wait(res); err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Errorf("%s still accepts after the supervisor ended: its sockets were not closed", addr)
	}
}

// TestHandoverNextFails: a next child that ends before its probe answers
// leaves the running one serving, without a failed request; the error
// names why.
func TestHandoverNextFails(t *testing.T) {
	restarts := make(chan string, 1)
	h, addr, fail := handoverHarness(t, restarts)
	res := h.start()
	first := <-h.pids
	eventuallyAnswers(t, addr, strconv.Itoa(first))
	c := startClients(addr, 4)
	if err := os.WriteFile(fail, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	restarts <- "the ACME issuer changed"
	<-h.pids
	h.waitLog(`msg="the next traefik ended before it applied its configuration; the running one stays"`)
	by, fails := c.end()
	if len(fails) > 0 || len(by) != 1 || by[strconv.Itoa(first)] == 0 {
		t.Errorf("answers %v, failures %v; want only the first child's (%d)", by, fails, first)
	}
	h.sigs <- syscall.SIGTERM
	if code, err := h.wait(res); err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
}

// eventuallyAnswers waits until addr answers body.
func eventuallyAnswers(t *testing.T, addr, body string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get("http://" + addr + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == body {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer %q: %v", addr, body, err)
		}
		time.Sleep(10 * time.Millisecond) // polling the child, which has no other sign
	}
}

// TestStopDuringHandover: a stop while the next child is not configured
// yet ends both; nothing is left running, and the code is 0.
func TestStopDuringHandover(t *testing.T) {
	restarts := make(chan string, 1)
	h, _, _ := handoverHarness(t, restarts)
	h.sup.opts.Env = append(h.sup.opts.Env, "SUPERVISOR_TEST_CHILD=serve:1h") // the last one counts
	res := h.start()
	first := <-h.pids
	h.waitLog(`msg="traefik has set its signal handlers"`)
	restarts <- "the ACME issuer changed"
	second := <-h.pids
	h.waitLog(`msg="starting the next traefik beside the running one"`)
	h.sigs <- syscall.SIGTERM
	if code, err := h.wait(res); err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	for _, pid := range []int{first, second} {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("child %d is still there: %v", pid, err)
		}
	}
}

// TestCrashWithSockets: a child holding its generation's sockets that dies
// (SIGKILL) has them closed, and the one started after it gets new ones,
// which take the connections: the supervisor holds no stale socket.
func TestCrashWithSockets(t *testing.T) {
	h, addr, _ := handoverHarness(t, nil)
	h.sup.opts.Restart, h.sup.opts.RestartMax, h.sup.opts.BackoffMin = RestartOnFailure, 3, 10*time.Millisecond
	res := h.start()
	first := <-h.pids
	eventuallyAnswers(t, addr, strconv.Itoa(first))
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := <-h.pids
	eventuallyAnswers(t, addr, strconv.Itoa(second))
	h.sigs <- syscall.SIGTERM
	if code, err := h.wait(res); err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
}

// TestStopRefusesLikeTraefik: on a stop for good the supervisor lets go of
// the child's sockets, so once the child has closed its listeners (as
// Traefik does in its shutdown) connections are refused — not queued for
// a Traefik that will never accept them — while it still finishes.
func TestStopRefusesLikeTraefik(t *testing.T) {
	h, addr, _ := handoverHarness(t, nil)
	h.sup.opts.Env = append(h.sup.opts.Env, "SUPERVISOR_TEST_LINGER=1")
	res := h.start()
	pid := <-h.pids
	eventuallyAnswers(t, addr, strconv.Itoa(pid))
	h.sigs <- syscall.SIGTERM
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial: %v, want refused", err)
			}
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts while the child stops:\n%s", addr, h.log.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the listener until the child closes it
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the child ended before the check: %v", err)
	}
	h.sigs <- syscall.SIGUSR1
	if code, err := h.wait(res); err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
}

// TestRetiredWaitsForItsConnections: a connection the first child has
// answered and keeps alive holds it after the handover — its shutdown
// would drop a request read on it from then on — until the client closes
// it, and then it stops; or, on a stop for good meanwhile, it stops with
// the running one, not once the wait's limit has passed.
func TestRetiredWaitsForItsConnections(t *testing.T) {
	for _, tc := range []struct {
		name  string
		then  func(h *harness, kept net.Conn)
		stops bool   // then stops the supervisor
		want  string // logged as the first child goes
	}{
		{"the client closes", func(_ *harness, kept net.Conn) { kept.Close() }, false, `msg="the previous traefik stopped"`},
		{"a stop for good", func(h *harness, _ net.Conn) { h.sigs <- syscall.SIGTERM }, true, `msg="stopping for good: the previous traefik stops too"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restarts := make(chan string, 1)
			h, addr, _ := handoverHarness(t, restarts)
			res := h.start()
			first := <-h.pids
			eventuallyAnswers(t, addr, strconv.Itoa(first))
			kept, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer kept.Close()
			br := bufio.NewReader(kept)
			ask := func(when string) {
				t.Helper()
				if _, err := io.WriteString(kept, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Fatalf("%s: %v", when, err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("%s: %v\n%s", when, err, h.log.String())
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != strconv.Itoa(first) {
					t.Fatalf("%s: the kept-alive connection was answered %q, want the first child's pid %d", when, b, first)
				}
			}
			ask("before the handover")
			restarts <- "the ACME issuer changed"
			<-h.pids
			h.waitLog(`msg="traefik handed over`)
			// The connection is open, so the first child has not been
			// told to stop (the wait's limit is 10 s away): it answers.
			ask("after the handover")
			if strings.Contains(h.log.String(), `msg="the previous traefik stopped"`) {
				t.Fatalf("the first child stopped with a kept-alive connection open:\n%s", h.log.String())
			}
			tc.then(h, kept)
			h.waitLog(tc.want)
			if !tc.stops {
				h.sigs <- syscall.SIGTERM
			}
			if code, err := h.wait(res); err != nil || code != 0 {
				t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
			}
			if strings.Contains(h.log.String(), "connections open") {
				t.Errorf("the wait ran to its limit:\n%s", h.log.String())
			}
			if err := syscall.Kill(first, 0); err != syscall.ESRCH {
				t.Errorf("the first child (%d) is still there: %v", first, err)
			}
		})
	}
}
