package rancher

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/secrets"
	"rancher-traefik/internal/testlog"
)

// flakyStream serves the emulator's API, refusing the event stream while
// down, and can cut the streams it let through.
type flakyStream struct {
	next  http.Handler
	down  atomic.Bool
	mu    sync.Mutex
	conns []net.Conn
}

func (f *flakyStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/subscribe") {
		if f.down.Load() {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		w = &hijackRecorder{ResponseWriter: w, f: f}
	}
	f.next.ServeHTTP(w, r)
}

// cut closes every stream let through so far.
func (f *flakyStream) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

type hijackRecorder struct {
	http.ResponseWriter
	f *flakyStream
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := h.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		h.f.mu.Lock()
		h.f.conns = append(h.f.conns, c)
		h.f.mu.Unlock()
	}
	return c, rw, err
}

// TestEventStreamOutagesLoggedOnce: while the stream cannot be had, the
// first failure is a warning and the retries are not; once it ran again, a
// new loss is warned about again and retried from the shortest delay.
func TestEventStreamOutagesLoggedOnce(t *testing.T) {
	a, err := metadataserver.Load("../metadataserver/testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK"}
	f := &flakyStream{next: s}
	f.down.Store(true)
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	logs := &testlog.Buffer{}
	api := &API{Endpoint: ts.URL + "/v1", AccessKey: secrets.New("AK"), Secret: secrets.New("SK"),
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = api.Events(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: never\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	count := func(s string) int { return strings.Count(logs.String(), s) }
	// Three failures (1 s, then 2 s apart): one warning.
	waitFor("three failed subscriptions", func() bool { return count("Rancher event stream still unavailable") == 2 })
	if n := count("level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, logs.String())
	}
	subscribed := func(n int) func() bool {
		return func() bool { return count("subscribed to Rancher events") == n }
	}
	f.down.Store(false)
	waitFor("subscribed", subscribed(1))
	// The stream is lost again: a new warning, and a retry after about the
	// first delay, not the grown one.
	f.cut()
	waitFor("the loss noticed", func() bool { return count("level=WARN") == 2 })
	var warns []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 2 || !strings.Contains(warns[1], `msg="Rancher event stream unavailable; polling instead"`) || !strings.Contains(warns[1], "retry_in=1s") {
		t.Errorf("the loss after a run was not warned about with the first delay (retry_in=1s):\n%s", logs.String())
	}
	waitFor("subscribed again", subscribed(2))
}

// TestEventStreamReconnectsLeaveNoGoroutine: against a server that drops
// every stream right after the handshake, the reconnects do not pile up
// goroutines (one a reconnect leaked before: a closer waiting on the
// process-lifetime context), and Events leaves none behind when its
// context ends.
func TestEventStreamReconnectsLeaveNoGoroutine(t *testing.T) {
	var subscribed atomic.Int64
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/subscribe") {
			http.NotFound(w, r)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		subscribed.Add(1)
		c.Close()
	}))
	t.Cleanup(ts.Close)
	before := runtime.NumGoroutine()
	api := &API{Endpoint: ts.URL + "/v1", AccessKey: secrets.New("AK"), Secret: secrets.New("SK"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), minBackoff: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = api.Events(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	const reconnects = 100
	settle(t, fmt.Sprintf("%d subscriptions", reconnects), func() (bool, string) {
		n := subscribed.Load()
		return n >= reconnects, fmt.Sprintf("%d so far", n)
	})
	// Events itself, and what one connection in flight holds on both ends,
	// at most; a leak grows with every reconnect.
	const inFlight = 6
	settle(t, "goroutines back to the baseline while reconnecting", func() (bool, string) {
		n := runtime.NumGoroutine()
		return n <= before+inFlight, fmt.Sprintf("%d goroutines, %d before Events, after %d reconnects", n, before, subscribed.Load())
	})
	cancel()
	<-done
	settle(t, "goroutines back to the baseline after Events", func() (bool, string) {
		n := runtime.NumGoroutine()
		return n <= before, fmt.Sprintf("%d goroutines, %d before Events", n, before)
	})
}

// settle polls cond until it holds, for at most 10 seconds.
func settle(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never (%s)", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
