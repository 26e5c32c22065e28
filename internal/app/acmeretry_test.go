package app

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/backoff"
	"rancher-traefik/internal/rancher"
)

// fakeClock is the look-again schedule's clock: the loop asks for a timer
// (asked), the test moves the time on and fires the last one armed.
type fakeClock struct {
	now   time.Time
	asked chan time.Duration
	fire  chan time.Time
}

func (f *fakeClock) after(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.fire = c // read by the test only after it receives d
	f.asked <- d
	return c
}

// retryRig runs a lookAgain on real files with a fake clock.
type retryRig struct {
	t     *testing.T
	l     *lookAgain
	clock *fakeClock
	step  chan struct{}
}

func newRetryRig(t *testing.T, issuer bool, prepare func(path string)) *retryRig {
	t.Helper()
	home := t.TempDir()
	dyn, stage := filepath.Join(home, "dynamic"), filepath.Join(home, "stage")
	for _, d := range []string{dyn, stage} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clock := &fakeClock{now: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), asked: make(chan time.Duration, 8)}
	l := newLookAgain(dyn, stage, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// No jitter: 1 - 0.2 + 0.4×0.5 = 1.
	l.backoff = &backoff.Backoff{Min: retryMin, Max: retryMax, Jitter: backoff.DefaultJitter, Rand: func() float64 { return 0.5 }}
	l.now = func() time.Time { return clock.now }
	l.after = clock.after
	step := make(chan struct{})
	l.step = step
	if prepare != nil {
		prepare(l.path)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.run(ctx, issuer) }()
	<-step
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &retryRig{t: t, l: l, clock: clock, step: step}
}

// asked is the delay of the timer the loop armed last; it fails when the
// loop armed none.
func (r *retryRig) asked() time.Duration {
	r.t.Helper()
	select {
	case d := <-r.clock.asked:
		return d
	default:
		r.t.Fatal("the loop armed no timer")
		return 0
	}
}

// noTimer fails if the loop armed a timer.
func (r *retryRig) noTimer() {
	r.t.Helper()
	select {
	case d := <-r.clock.asked:
		r.t.Fatalf("the loop armed a timer of %v", d)
	default:
	}
}

// elapse moves the clock by d, fires the timer, and waits for the loop to
// handle it; it returns the file's value then.
func (r *retryRig) elapse(d time.Duration) string {
	r.t.Helper()
	r.clock.now = r.clock.now.Add(d)
	r.clock.fire <- r.clock.now
	<-r.step
	return r.value()
}

func (r *retryRig) note(n retryNote) {
	r.l.note(n)
	<-r.step
}

// value is the header value of the file's middleware, or "" when there is
// no file.
func (r *retryRig) value() string {
	r.t.Helper()
	var doc struct {
		HTTP struct {
			Middlewares map[string]struct {
				Headers struct {
					CustomRequestHeaders map[string]string `toml:"customRequestHeaders"`
				} `toml:"headers"`
			} `toml:"middlewares"`
		} `toml:"http"`
	}
	_, err := toml.DecodeFile(r.l.path, &doc)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		r.t.Fatalf("%s: %v", r.l.path, err)
	}
	if len(doc.HTTP.Middlewares) != 1 {
		r.t.Fatalf("%s: want one middleware, got %v", r.l.path, doc.HTTP.Middlewares)
	}
	v := doc.HTTP.Middlewares["rancher-traefik-acme-retry"].Headers.CustomRequestHeaders["X-Rancher-Traefik-Acme-Retry"]
	if v == "" {
		r.t.Fatalf("%s has no look-again value", r.l.path)
	}
	return v
}

// TestLookAgainTimer: while issuer, the file is rewritten with a new value
// after 10 s, then 20 s, 40 s, 80 s; the fifth within the hour is held
// until the first leaves Let's Encrypt's hour (5 failed validations a
// hostname an hour, Traefik's own order one of them); then the doubling
// goes on up to the hour's cap.
func TestLookAgainTimer(t *testing.T) {
	r := newRetryRig(t, true, nil)
	const s = time.Second
	var got []time.Duration
	seen := map[string]bool{}
	for range 14 {
		d := r.asked()
		got = append(got, d)
		v := r.elapse(d)
		if seen[v] {
			t.Fatalf("look-again %d wrote a value it wrote before (%s): Traefik would skip the configuration", len(got), v)
		}
		seen[v] = true
	}
	// Written at 10, 30, 70, 150 s; the fifth would be at 310 s, inside
	// the hour of the first: held until 3610 s.
	want := []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 3610*s - 150*s, 320 * s, 640 * s, 1280 * s, 2560 * s, time.Hour, time.Hour, time.Hour, time.Hour, time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if r.l.count != 14 {
		t.Errorf("%d look-agains written, want 14", r.l.count)
	}
}

// TestLookAgainInstances: a change among the service's instances is
// followed by a look-again after the settle delay, and resets the backoff;
// the first note is the baseline, and one with the same instances changes
// nothing.
func TestLookAgainInstances(t *testing.T) {
	r := newRetryRig(t, true, nil)
	first := r.asked()
	if first != retryMin {
		t.Fatalf("first delay %v, want %v", first, retryMin)
	}
	r.elapse(first)
	if d := r.asked(); d != 2*retryMin {
		t.Fatalf("second delay %v, want %v", d, 2*retryMin)
	}
	r.note(retryNote{issuer: true, members: "a"}) // baseline
	r.noTimer()
	r.note(retryNote{issuer: true, members: "a"})
	r.noTimer()
	r.note(retryNote{issuer: true, members: "a\nb"})
	if d := r.asked(); d != retrySettle {
		t.Fatalf("after a change of instances the delay is %v, want %v", d, retrySettle)
	}
	before := r.value()
	if after := r.elapse(retrySettle); after == before {
		t.Errorf("the look-again after a change of instances left the value %s", after)
	}
	if d := r.asked(); d != retryMin {
		t.Errorf("after a change of instances the timer starts again at %v, want %v", d, retryMin)
	}
}

// TestLookAgainRole: a follower has no file (a stale one from an earlier
// run as issuer is removed) and no timer; becoming issuer arms the timer
// from its first delay; ceasing to be removes the file and the timer.
func TestLookAgainRole(t *testing.T) {
	r := newRetryRig(t, false, func(path string) {
		if err := os.WriteFile(path, []byte("# stale\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	r.note(retryNote{issuer: false, members: "a"})
	r.noTimer()
	if v := r.value(); v != "" {
		t.Fatalf("a follower kept the look-again file (%s)", v)
	}
	r.note(retryNote{issuer: true, members: "a"})
	d := r.asked()
	if d != retryMin {
		t.Fatalf("a new issuer's first delay is %v, want %v", d, retryMin)
	}
	if v := r.elapse(d); v == "" {
		t.Fatal("the new issuer wrote no look-again file")
	}
	r.asked()
	r.note(retryNote{issuer: false, members: "a"})
	r.noTimer()
	if v := r.value(); v != "" {
		t.Errorf("a demoted issuer kept the look-again file (%s)", v)
	}
}

// TestMemberKey: only instances that can take a validation count, in any
// order; a change of health is a change.
func TestMemberKey(t *testing.T) {
	m := func(uuid, ip, state, health string) rancher.Member {
		return rancher.Member{UUID: uuid, PrimaryIP: ip, State: state, HealthState: health}
	}
	a, b := m("a", "10.0.0.1", "running", "healthy"), m("b", "10.0.0.2", "running", "initializing")
	base := memberKey(&rancher.Self{Members: []rancher.Member{a, b}})
	tests := []struct {
		name    string
		members []rancher.Member
		same    bool
	}{
		{"same, other order", []rancher.Member{b, a}, true},
		{"an unhealthy one added", []rancher.Member{a, b, m("c", "10.0.0.3", "running", "unhealthy")}, true},
		{"a stopped one added", []rancher.Member{a, b, m("c", "10.0.0.3", "stopped", "")}, true},
		{"a running one added", []rancher.Member{a, b, m("c", "10.0.0.3", "running", "")}, false},
		{"one turned healthy", []rancher.Member{a, m("b", "10.0.0.2", "running", "healthy")}, false},
		{"one gone", []rancher.Member{a}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memberKey(&rancher.Self{Members: tt.members}) == base; got != tt.same {
				t.Errorf("same key = %v, want %v", got, tt.same)
			}
		})
	}
	if memberKey(nil) != "" {
		t.Error("no metadata gives a key")
	}
}
