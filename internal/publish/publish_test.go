package publish

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/testlog"
)

func stack(n int) string {
	var b strings.Builder
	b.WriteString("stacks:\n  - name: s\n    services:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: svc%d\n        labels: {traefik.enable: \"true\", traefik.port: \"80\"}\n        containers:\n          - ip: 10.0.0.%d\n", i, i+1)
	}
	return b.String()
}

func setup(t *testing.T, guard float64, hold time.Duration) (*metadataserver.Server, *Publisher, *testlog.Buffer) {
	t.Helper()
	a, err := metadataserver.Parse([]byte(stack(4)))
	if err != nil {
		t.Fatal(err)
	}
	srv := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	logs := &testlog.Buffer{}
	p := &Publisher{
		Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com"},
		Path: filepath.Join(t.TempDir(), "rancher.toml"), Refresh: 5, Debounce: 10 * time.Millisecond, Guard: guard, GuardHold: hold,
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	}
	return srv, p, logs
}

func routersIn(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "[http.routers.")
}

func run(t *testing.T, p *Publisher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: never", what)
}

func TestFollowsChangesAndGuardsMassRemoval(t *testing.T) {
	const hold = 300 * time.Millisecond
	srv, p, logs := setup(t, 0.5, hold)
	p.First(context.Background(), 5*time.Second)
	if n := routersIn(t, p.Path); n != 4 {
		t.Fatalf("first publish: %d routers, want 4", n)
	}
	run(t, p)
	set := func(n int) {
		a, err := metadataserver.Parse([]byte(stack(n)))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set(a)
	}
	set(6)
	wait(t, "6 routers", func() bool { return routersIn(t, p.Path) == 6 })
	// The change is logged just after the file is renamed into place, so
	// the line may trail the file by a moment.
	wait(t, "change logged by name", func() bool {
		return strings.Contains(logs.String(), `msg="routes changed"`) && strings.Contains(logs.String(), "added=2 removed=0 changed=0 added_names=http/svc4-s,http/svc5-s")
	})
	// Removing 5 of 6 at once is held for the hold, then applied.
	start := time.Now()
	set(1)
	wait(t, "guard engaged", func() bool {
		return strings.Contains(logs.String(), "an answer removes TRAEFIK_RANCHER_GUARD of the routes or more")
	})
	if n := routersIn(t, p.Path); n != 6 {
		t.Errorf("the answer removing most routes was applied at once: %d routers", n)
	}
	wait(t, "removal applied", func() bool { return routersIn(t, p.Path) == 1 })
	if took := time.Since(start); took < hold {
		t.Errorf("the removal was applied after %v, before the end of the %v hold", took, hold)
	}
	wait(t, "application logged", func() bool {
		return strings.Contains(logs.String(), "the removal still stands at the end of the hold: applying it")
	})
}

// TestBadAnswersKeepLastGood: errors, truncated bodies and timeouts leave
// the file as it was.
func TestBadAnswersKeepLastGood(t *testing.T) {
	_, p, _ := setup(t, 0.5, time.Minute)
	p.First(context.Background(), 5*time.Second)
	before, _ := os.ReadFile(p.Path)
	for name, h := range map[string]http.HandlerFunc{
		"500":       func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
		"truncated": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"9","services":[{"name":"a"`) },
		"no version": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"services":[]}`)
		},
		"slow": func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) },
	} {
		ts := httptest.NewServer(h)
		p.Source = &rancher.Client{Base: ts.URL, Timeout: 500 * time.Millisecond}
		if err := p.refresh(context.Background()); err == nil {
			t.Errorf("%s: no error", name)
		}
		ts.Close()
		after, _ := os.ReadFile(p.Path)
		if string(after) != string(before) {
			t.Errorf("%s: the routes file changed", name)
		}
	}
}

func TestFirstWithoutRancher(t *testing.T) {
	_, p, logs := setup(t, 0.5, time.Minute)
	p.Source = &rancher.Client{Base: "http://127.0.0.1:1/2016-07-29", Timeout: 200 * time.Millisecond}
	start := time.Now()
	p.First(context.Background(), 500*time.Millisecond)
	if time.Since(start) > 5*time.Second {
		t.Error("First did not give up")
	}
	if _, err := os.Stat(p.Path); err == nil {
		t.Error("a routes file was written without an answer")
	}
	if !strings.Contains(logs.String(), "starting Traefik without fresh Rancher routes") {
		t.Error("not logged")
	}
}

// TestOneFailureIsNotAnOutage: one failed answer is retried quietly (a blip,
// or the metadata service stopping beside us); two in a row are reported
// once, and the recovery too. The routes follow either way.
func TestOneFailureIsNotAnOutage(t *testing.T) {
	for _, tc := range []struct {
		failures int
		warned   bool
	}{{1, false}, {2, true}, {3, true}} {
		t.Run(fmt.Sprintf("%d failures", tc.failures), func(t *testing.T) {
			a, err := metadataserver.Parse([]byte(stack(2)))
			if err != nil {
				t.Fatal(err)
			}
			srv := metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
			var failNext atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Snapshots fail while failNext counts down; the version
				// long-poll keeps answering.
				if !strings.HasSuffix(r.URL.Path, "/version") && failNext.Add(-1) >= 0 {
					http.Error(w, "restarting", http.StatusServiceUnavailable)
					return
				}
				srv.ServeHTTP(w, r)
			}))
			t.Cleanup(ts.Close)
			logs := &testlog.Buffer{}
			p := &Publisher{
				Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com"},
				Path: filepath.Join(t.TempDir(), "rancher.toml"), Refresh: 5, Debounce: 10 * time.Millisecond, Guard: 0.5,
				Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			p.First(context.Background(), 5*time.Second)
			run(t, p)
			failNext.Store(int32(tc.failures))
			b, _ := metadataserver.Parse([]byte(stack(3)))
			srv.Set(b)
			wait(t, "3 routers", func() bool { return routersIn(t, p.Path) == 3 })
			wait(t, "the change logged", func() bool { return strings.Contains(logs.String(), "added_names=http/svc2-s") })
			out := logs.String()
			if n := strings.Count(out, "level=WARN"); (n == 1) != tc.warned || n > 1 {
				t.Errorf("%d warnings, want %v:\n%s", n, tc.warned, out)
			}
			if tc.warned != strings.Contains(out, `msg="Rancher answers again"`) {
				t.Errorf("recovery logged %v, want %v:\n%s", !tc.warned, tc.warned, out)
			}
			if n := strings.Count(out, "Rancher did not answer; retrying"); n != 1 {
				t.Errorf("the first failure logged %d times at debug level, want 1:\n%s", n, out)
			}
		})
	}
}

// TestReleaseAfterLargePublish: a large publish's memory is returned a
// quiet second later; a publish that begins meanwhile takes the release
// over; a small one, after the first, schedules none.
func TestReleaseAfterLargePublish(t *testing.T) {
	// The first publish's memory, start-up's with it, is returned whatever
	// its size; after it, only a large publish's.
	for _, tt := range []struct {
		services int
		want     [2]bool // by publish
	}{{4, [2]bool{true, false}}, {1000, [2]bool{true, true}}} {
		a, err := metadataserver.Parse([]byte(stack(tt.services)))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil))))
		p := &Publisher{
			Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com"},
			Path: filepath.Join(t.TempDir(), "rancher.toml"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		for i := range 2 {
			before := p.release
			if err := p.refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := p.release != nil; got != tt.want[i] {
				t.Errorf("%d services, publish %d: release scheduled %v, want %v", tt.services, i, got, tt.want[i])
			}
			if before != nil && before.Stop() {
				t.Errorf("%d services: the release before publish %d is still pending", tt.services, i)
			}
		}
		p.cancelRelease()
		if p.release != nil {
			t.Error("cancelRelease left a release")
		}
		ts.Close()
	}
}

// settleCounter counts the debounce's short long-polls (maxWait 1).
type settleCounter struct {
	Source
	settles atomic.Int64
}

func (s *settleCounter) WaitVersion(ctx context.Context, old string, maxWait int) (string, error) {
	if maxWait == 1 {
		s.settles.Add(1)
	}
	return s.Source.WaitVersion(ctx, old, maxWait)
}

// TestDebounceLeadingEdge: a change a debounce period or more after the
// last refresh is published without waiting for a quiet period; one that
// follows a refresh closely waits for it. The publisher's clock decides
// which, so neither depends on how fast this machine is.
func TestDebounceLeadingEdge(t *testing.T) {
	for _, tt := range []struct {
		name        string
		step        time.Duration // the clock's advance per reading
		large       bool          // the last publish had more than leadingEdgeRouters routers
		wantSettles bool
	}{
		{"isolated", time.Hour, false, false},
		{"close", 0, false, true},
		{"isolated in a large environment", time.Hour, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, p, _ := setup(t, 0, 0)
			counter := &settleCounter{Source: p.Source}
			p.Source = counter
			var mu sync.Mutex
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			p.now = func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				now = now.Add(tt.step)
				return now
			}
			p.First(context.Background(), 5*time.Second)
			if tt.large {
				for n := range leadingEdgeRouters + 1 {
					p.lastIndex.routers[fmt.Sprint("r", n)] = 0
				}
			}
			run(t, p)
			a, err := metadataserver.Parse([]byte(stack(3)))
			if err != nil {
				t.Fatal(err)
			}
			srv.Set(a)
			wait(t, "the change published", func() bool { return routersIn(t, p.Path) == 3 })
			if got := counter.settles.Load() > 0; got != tt.wantSettles {
				t.Errorf("debounced: %v, want %v", got, tt.wantSettles)
			}
		})
	}
}
