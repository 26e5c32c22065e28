package supervisor

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// readiness says when the child could take signals.
type readiness struct {
	// observed: its handlers were seen in place. False when the wait gave up
	// (ReadyTimeout) or /proc could not be read; signals go to it anyway.
	observed bool
	// stops: its SIGINT handler, set with its SIGTERM one, was seen (when
	// observed, or when only SIGHUP's was missing: a Traefik without a file
	// provider never asks for SIGHUP).
	stops bool
	after time.Duration
	err   error // why it could not be observed, if it could not
}

// handlersMask is the SigCgt bits that say Traefik has set its handlers:
// those of the signals it starts with ignored (see ignoredAtExec).
var handlersMask = func() uint64 {
	var m uint64
	for _, s := range ignoredAtExec {
		m |= 1 << (uint(s.(unix.Signal)) - 1)
	}
	return m
}()

// stopMask is SIGINT's SigCgt bit: Traefik asks for SIGINT and SIGTERM
// together.
const stopMask = 1 << (unix.SIGINT - 1)

// readyPoll is how often /proc/<pid>/status is read while waiting; Traefik
// takes tens of milliseconds, so a few dozen reads of a small file.
const readyPoll = 2 * time.Millisecond

// watchReady reports on the returned channel once pid has caught every
// signal of handlersMask, or after timeout, or when /proc cannot say. It
// reports nothing if ctx ends first.
func watchReady(ctx context.Context, pid int, timeout time.Duration) <-chan readiness {
	out := make(chan readiness, 1)
	go func() {
		start := time.Now()
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		tick := time.NewTicker(readyPoll)
		defer tick.Stop()
		for {
			cgt, err := caughtSignals(pid)
			switch {
			case err != nil:
				out <- readiness{after: time.Since(start), err: err}
				return
			case cgt&handlersMask == handlersMask:
				out <- readiness{observed: true, stops: true, after: time.Since(start)}
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-deadline.C:
				out <- readiness{stops: cgt&stopMask != 0, after: time.Since(start)}
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// caughtSignals reads the SigCgt mask (signals with a handler) of pid.
func caughtSignals(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseSigCgt(string(b))
}

// parseSigCgt finds the SigCgt line of a /proc/<pid>/status text.
func parseSigCgt(status string) (uint64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("SigCgt %q: %w", strings.TrimSpace(v), err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no SigCgt line in /proc/<pid>/status")
}
