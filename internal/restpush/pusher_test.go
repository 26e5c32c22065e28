package restpush

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"rancher-traefik/internal/testlog"
)

const (
	testUser     = "rancher-traefik"
	testPassword = "s3cret-per-run-credential"
)

// endpoint stands in for Traefik's REST provider on a loopback listener:
// basic auth, PUT only, an answer chosen per request; it records every
// body it accepted.
type endpoint struct {
	mu       sync.Mutex
	bodies   []string
	fail     int // the next fail requests get 503
	missing  int // the next missing requests get 404 (the router not applied yet)
	accepted chan string
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != testUser || pass != testPassword {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPut || r.URL.Path != Path {
		http.Error(w, "no", http.StatusMethodNotAllowed)
		return
	}
	b, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	if e.missing > 0 {
		e.missing--
		e.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	failing := e.fail > 0
	if failing {
		e.fail--
	}
	e.mu.Unlock()
	if failing {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b))
	e.mu.Unlock()
	_, _ = w.Write(b)
	e.accepted <- string(b)
}

// serve serves e on ln until the test ends.
func serve(t *testing.T, ln net.Listener, e *endpoint) {
	t.Helper()
	srv := &http.Server{Handler: e}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func newPusher(t *testing.T, addr string, logs *testlog.Buffer) *Pusher {
	t.Helper()
	return &Pusher{
		URL: "http://" + addr + Path, User: testUser, Password: testPassword,
		Log:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MinRetry: 5 * time.Millisecond, MaxRetry: 50 * time.Millisecond,
	}
}

func run(t *testing.T, p *Pusher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func next(t *testing.T, e *endpoint) string {
	t.Helper()
	select {
	case b := <-e.accepted:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no push accepted within 10s")
		return ""
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestPushRetriesUntilAccepted: a configuration set before the endpoint
// listens (a Traefik starting) is pushed once it does, through refusals
// and 503s, with the credential; the log never holds the password.
func TestPushRetriesUntilAccepted(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close() // refused until it listens again
	var logs testlog.Buffer
	p := newPusher(t, addr, &logs)
	run(t, p)
	if err := p.Set(map[string]any{"http": map[string]any{"routers": map[string]any{"r": map[string]any{"service": "s", "rule": "Host(`a`)"}}}}); err != nil {
		t.Fatal(err)
	}
	// Refused for a while: the pusher keeps trying.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "not answering yet") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no retries logged:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e := &endpoint{fail: 2, accepted: make(chan string, 8)}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	serve(t, ln2, e)
	got := next(t, e)
	want := `{"http":{"routers":{"r":{"rule":"Host(` + "`a`" + `)","service":"s@file"}}}}`
	if got != want {
		t.Errorf("pushed %s, want %s", got, want)
	}
	if strings.Contains(logs.String(), testPassword) {
		t.Errorf("the log holds the password:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "503") {
		t.Errorf("the 503s are not logged:\n%s", logs.String())
	}
}

// TestPushAgainOnRestart: a started Traefik gets the current
// configuration again; a new configuration while one is refused is what
// ends up accepted; an unchanged one is not pushed again.
func TestPushAgainOnRestart(t *testing.T) {
	ln := listen(t)
	e := &endpoint{accepted: make(chan string, 8)}
	serve(t, ln, e)
	var logs testlog.Buffer
	p := newPusher(t, ln.Addr().String(), &logs)
	run(t, p)
	p.SetJSON([]byte(`{"a":1}`))
	if got := next(t, e); got != `{"a":1}` {
		t.Fatalf("first push %s", got)
	}
	p.Restarted()
	if got := next(t, e); got != `{"a":1}` {
		t.Fatalf("after a restart, pushed %s, want the current configuration again", got)
	}
	e.mu.Lock()
	e.fail = 3
	e.mu.Unlock()
	p.SetJSON([]byte(`{"a":2}`))
	p.SetJSON([]byte(`{"a":3}`))
	for got := next(t, e); got != `{"a":3}`; got = next(t, e) {
		if got != `{"a":2}` {
			t.Fatalf("pushed %s", got)
		}
	}
	p.SetJSON([]byte(`{"a":3}`)) // unchanged: nothing to push
	p.Restarted()                // a marker that something follows
	if got := next(t, e); got != `{"a":3}` {
		t.Fatalf("pushed %s after a restart", got)
	}
	e.mu.Lock()
	n := len(e.bodies)
	e.mu.Unlock()
	if n > 5 {
		t.Errorf("%d pushes accepted, want at most 5 (an unchanged configuration is not pushed)", n)
	}
}

// TestPushWrongCredential: a refused credential is retried and logged as a
// warning naming the status, never the password.
func TestPushWrongCredential(t *testing.T) {
	ln := listen(t)
	e := &endpoint{accepted: make(chan string, 8)}
	serve(t, ln, e)
	var logs testlog.Buffer
	p := newPusher(t, ln.Addr().String(), &logs)
	p.Password = "not-" + testPassword
	run(t, p)
	p.SetJSON([]byte(`{}`))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "401 Unauthorized") {
		if time.Now().After(deadline) {
			t.Fatalf("no 401 logged:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if strings.Contains(logs.String(), testPassword) {
		t.Errorf("the log holds the password:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a refused credential is not a warning:\n%s", logs.String())
	}
}

// TestPushStartingTraefikQuiet: 404s from a Traefik whose REST router is
// not applied yet are retried at debug level, not warned about.
func TestPushStartingTraefikQuiet(t *testing.T) {
	ln := listen(t)
	e := &endpoint{missing: 3, accepted: make(chan string, 8)}
	serve(t, ln, e)
	var logs testlog.Buffer
	p := newPusher(t, ln.Addr().String(), &logs)
	run(t, p)
	p.SetJSON([]byte(`{}`))
	next(t, e)
	if n := strings.Count(logs.String(), "404 Not Found"); n != 3 {
		t.Errorf("%d 404s logged, want 3:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a starting Traefik's 404 is warned about:\n%s", logs.String())
	}
}
