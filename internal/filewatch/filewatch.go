// Package filewatch notices when files change — rewritten, replaced by
// rename, or swapped through a symlink as secret mounts are — and calls a
// reload: the TLS secrets behind a running Traefik, the emulator's answers.
package filewatch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Watcher watches Files and the files matching Globs (through their
// directories, with inotify) and polls them every Poll as a fallback. When
// their content, or which files match, changes it calls Reload.
type Watcher struct {
	Files []string
	// Globs are filepath.Glob patterns (a directory of certificate pairs,
	// say); files added, replaced or removed count as changes. Base names
	// in Ignore are left out (files the reload itself writes there).
	Globs  []string
	Ignore []string
	Reload func() error
	// Poll is how often the files are compared when no event arrives; 0
	// means 10 s with inotify and 2 s without.
	Poll time.Duration
	// Settle is how long events must stop before the files are read: a
	// writer replacing a certificate and its key makes several.
	Settle time.Duration
	Log    *slog.Logger
	// Rejected is logged once when Reload fails; the default speaks of
	// certificates.
	Rejected string

	baseline *string // set by Prime

	noInotify  bool   // tests: exercise the polling path alone
	ready      func() // tests: called once the watch is set up and the files read
	readerDone func() // tests: called as the inotify reader ends
}

// Prime reads the files now as the state Run compares against, so a change
// between Prime and the start of Run (Traefik starting, Rancher's first
// answer awaited) is still seen: call it right after reading the files
// that are served.
func (w *Watcher) Prime() {
	d := w.digest()
	w.baseline = &d
}

// Run watches until ctx ends. Reload errors are logged, never fatal: the
// last good certificate stays served.
func (w *Watcher) Run(ctx context.Context) error {
	log := w.Log.With("component", "filewatch")
	settle := w.Settle
	if settle <= 0 {
		settle = 200 * time.Millisecond
	}
	events := make(chan struct{}, 1)
	inotifyOK := true
	if w.noInotify {
		inotifyOK = false
	} else if stop, err := w.inotify(events); err != nil {
		inotifyOK = false
		log.Warn("inotify unavailable; polling the files instead", "err", err)
	} else {
		defer stop() // the reader ends before Run returns
	}
	poll := w.Poll
	if poll <= 0 {
		poll = 10 * time.Second
		if !inotifyOK {
			poll = 2 * time.Second
		}
	}
	// Primed: compare at once with what was read then (no event told of a
	// change made before the watch began).
	var last string
	checkNow := w.baseline != nil
	if checkNow {
		last = *w.baseline
	} else {
		last = w.digest()
	}
	if w.ready != nil {
		w.ready()
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	var settleC <-chan time.Time
	for {
		if !checkNow {
			select {
			case <-ctx.Done():
				return nil
			case <-events:
				settleC = time.After(settle)
				continue
			case <-settleC:
				settleC = nil
			case <-ticker.C:
			}
		}
		checkNow = false
		d := w.digest()
		if d == last {
			continue
		}
		log.Info("files changed; reloading", "files", w.Files, "globs", w.Globs)
		if err := w.Reload(); err != nil {
			// Remember the bad content so it is reported once, not every poll.
			log.Error(w.rejected(), "err", err)
		}
		last = d
	}
}

func (w *Watcher) rejected() string {
	if w.Rejected != "" {
		return w.Rejected
	}
	return "new certificate rejected; still serving the previous one"
}

// digest hashes the files' current content (following symlinks), and the
// names and content of the files the globs match.
func (w *Watcher) digest() string {
	h := sha256.New()
	for _, f := range w.Files {
		hashFile(h, f)
	}
	for _, g := range w.Globs {
		matches, _ := filepath.Glob(g) // the only error is a bad pattern
		for _, f := range matches {
			if slices.Contains(w.Ignore, filepath.Base(f)) {
				continue
			}
			fmt.Fprintf(h, "%s\n", f)
			hashFile(h, f)
		}
		h.Write([]byte{1})
	}
	return string(h.Sum(nil))
}

func hashFile(h io.Writer, f string) {
	fh, err := os.Open(f)
	if err != nil {
		fmt.Fprintf(h, "missing %s\n", f)
		return
	}
	_, _ = io.Copy(h, io.LimitReader(fh, 1<<20))
	fh.Close()
	_, _ = h.Write([]byte{0})
}

// inotify watches the files' directories and sends on events whenever
// anything in them changes. stop closes the watch and returns once its
// reader has ended.
func (w *Watcher) inotify(events chan<- struct{}) (stop func(), err error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	var dirs []string
	for _, f := range w.Files {
		dirs = append(dirs, filepath.Dir(f))
		// A symlinked file (a Kubernetes- or Rancher-style mount) changes
		// where its target lives.
		if t, err := filepath.EvalSymlinks(f); err == nil {
			dirs = append(dirs, filepath.Dir(t))
		}
	}
	for _, g := range w.Globs {
		dirs = append(dirs, filepath.Dir(g))
	}
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CLOSE_WRITE | unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_MODIFY
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, mask); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("watching %s: %w", d, err)
		}
	}
	// Non-blocking, so the runtime's poller waits for it and Close wakes a
	// pending Read.
	f := os.NewFile(uintptr(fd), "inotify")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if w.readerDone != nil {
			defer w.readerDone()
		}
		buf := make([]byte, 64*1024)
		for {
			if _, err := f.Read(buf); err != nil {
				if !errors.Is(err, os.ErrClosed) {
					w.Log.Warn("reading inotify events failed; polling only", "component", "filewatch", "err", err)
				}
				return
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()
	return func() {
		_ = f.Close()
		<-done
	}, nil
}
