package filewatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: never happened", what)
}

func write(t *testing.T, path, s string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// start runs w until the test ends, and returns once it watches.
func start(t *testing.T, w *Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	w.ready = func() { close(ready) }
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended before watching: %v", err)
	}
}

func TestReloadsOnChange(t *testing.T) {
	tests := []struct {
		name   string
		poll   time.Duration
		change func(t *testing.T, dir string)
	}{
		{"rename over the file", time.Hour, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "cert"), "B") }},
		{"rewrite in place", time.Hour, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "cert"), []byte("B"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink swap of a data directory", time.Hour, func(t *testing.T, dir string) {
			nd := filepath.Join(dir, "..v2")
			if err := os.Mkdir(nd, 0o700); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(nd, "cert"), "B")
			write(t, filepath.Join(nd, "key"), "KB")
			if err := os.Symlink("..v2", filepath.Join(dir, "..data.tmp")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "..data.tmp"), filepath.Join(dir, "..data")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Files reached through ..data, as Kubernetes-style mounts are.
			if err := os.Mkdir(filepath.Join(dir, "..v1"), 0o700); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "..v1", "cert"), "A")
			write(t, filepath.Join(dir, "..v1", "key"), "KA")
			if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
				t.Fatal(err)
			}
			cert, key := filepath.Join(dir, "cert"), filepath.Join(dir, "key")
			if tt.name != "symlink swap of a data directory" {
				write(t, cert, "A")
				write(t, key, "KA")
			} else {
				for _, n := range []string{"cert", "key"} {
					if err := os.Symlink(filepath.Join("..data", n), filepath.Join(dir, n)); err != nil {
						t.Fatal(err)
					}
				}
			}
			var reloads atomic.Int32
			start(t, &Watcher{Files: []string{cert, key}, Poll: tt.poll, Settle: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Reload: func() error { reloads.Add(1); return nil }})
			tt.change(t, dir)
			eventually(t, "reload", func() bool { return reloads.Load() == 1 })
			// Touching without a content change does not reload.
			now := time.Now()
			_ = os.Chtimes(cert, now, now)
			time.Sleep(200 * time.Millisecond)
			if n := reloads.Load(); n != 1 {
				t.Errorf("%d reloads, want 1", n)
			}
		})
	}
}

func TestPollFallbackAndErrorsReportedOnce(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert")
	write(t, cert, "A")
	var reloads atomic.Int32
	w := &Watcher{Files: []string{cert}, Poll: 30 * time.Millisecond, noInotify: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Reload: func() error { reloads.Add(1); return errors.New("invalid") }}
	start(t, w)
	if err := os.WriteFile(cert, []byte("B"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reload", func() bool { return reloads.Load() == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := reloads.Load(); n != 1 {
		t.Errorf("a rejected change was retried %d times, want once", n)
	}
}

// TestGlobs: a file that starts or stops matching, or whose content changes,
// reloads; an ignored name and an unmatched file do not.
func TestGlobs(t *testing.T) {
	for _, inotify := range []bool{true, false} {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "a.crt"), "A")
		write(t, filepath.Join(dir, "main.crt"), "M")
		var reloads atomic.Int32
		w := &Watcher{Globs: []string{filepath.Join(dir, "*.crt")}, Ignore: []string{"main.crt"}, Settle: 20 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Reload: func() error { reloads.Add(1); return nil }, noInotify: !inotify}
		if !inotify {
			w.Poll = 30 * time.Millisecond
		}
		start(t, w)
		steps := []struct {
			name   string
			do     func()
			reload bool
		}{
			{"a file added", func() { write(t, filepath.Join(dir, "b.crt"), "B") }, true},
			{"a file replaced", func() { write(t, filepath.Join(dir, "a.crt"), "A2") }, true},
			{"the ignored file rewritten", func() { write(t, filepath.Join(dir, "main.crt"), "M2") }, false},
			{"an unmatched file added", func() { write(t, filepath.Join(dir, "b.key"), "K") }, false},
			{"a file removed", func() {
				if err := os.Remove(filepath.Join(dir, "b.crt")); err != nil {
					t.Fatal(err)
				}
			}, true},
		}
		want := int32(0)
		for _, st := range steps {
			st.do()
			if st.reload {
				want++
				eventually(t, st.name, func() bool { return reloads.Load() == want })
			} else {
				time.Sleep(200 * time.Millisecond)
				if n := reloads.Load(); n != want {
					t.Errorf("inotify %v, %s: %d reloads, want %d", inotify, st.name, n, want)
				}
			}
		}
	}
}

// TestPrimedChangeBeforeRun: a change made after Prime but before Run began
// (no event will tell of it) is reloaded at once; an unchanged file is not.
func TestPrimedChangeBeforeRun(t *testing.T) {
	for _, changed := range []bool{true, false} {
		dir := t.TempDir()
		cert := filepath.Join(dir, "cert")
		write(t, cert, "A")
		var reloads atomic.Int32
		w := &Watcher{Files: []string{cert}, Poll: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Reload: func() error { reloads.Add(1); return nil }}
		w.Prime()
		if changed {
			write(t, cert, "B")
		}
		start(t, w)
		if changed {
			eventually(t, "reload of the change made before Run", func() bool { return reloads.Load() == 1 })
		} else {
			time.Sleep(200 * time.Millisecond)
			if n := reloads.Load(); n != 0 {
				t.Errorf("%d reloads without a change", n)
			}
		}
	}
}

// TestRunEndsItsGoroutines: the inotify reader ends before Run returns (it
// ran on past it before), and many watches started and stopped leave no
// goroutine behind.
func TestRunEndsItsGoroutines(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "cert"), "A")
	before := runtime.NumGoroutine()
	for i := range 20 {
		var readerDone atomic.Bool
		w := &Watcher{Files: []string{filepath.Join(dir, "cert")}, Reload: func() error { return nil },
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: time.Hour}
		w.readerDone = func() { readerDone.Store(true) }
		ready := make(chan struct{})
		w.ready = func() { close(ready) }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		<-ready
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !readerDone.Load() {
			t.Fatalf("run %d: Run returned while its inotify reader still ran", i)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 20 watches, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
