// Package reaper is the single owner of wait4(-1) in rancher-traefik: it reaps
// every child and orphan (as PID 1 or as a child subreaper) and hands the
// exit status of the children it started to whoever started them.
package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Status is how a process ended.
type Status struct {
	Pid int
	unix.WaitStatus
}

// ExitCode is the process's exit code, or 128+signal when a signal killed it
// (the shell's convention, which Docker and Rancher report).
func (s Status) ExitCode() int {
	switch {
	case s.Exited():
		return s.ExitStatus()
	case s.Signaled():
		return 128 + int(s.Signal())
	}
	return 1
}

func (s Status) String() string {
	switch {
	case s.Exited():
		return fmt.Sprintf("exit status %d", s.ExitStatus())
	case s.Signaled():
		return fmt.Sprintf("killed by signal %d (%s)", int(s.Signal()), unix.SignalName(s.Signal()))
	}
	return fmt.Sprintf("wait status %#x", uint32(s.WaitStatus))
}

// Reaper reaps children. Start children through it, never with cmd.Wait: a
// Wait racing wait4(-1) loses the status (hashicorp/go-reap warns of this).
type Reaper struct {
	log     *slog.Logger
	mu      sync.Mutex // held while reaping and while starting a child
	waiters map[int]chan Status
	orphans atomic.Int64
	kick    chan os.Signal
}

// New returns a Reaper and makes this process a child subreaper (unless it
// is PID 1, which already is one), so orphans of its children are re-parented
// to it. Call Run before, or soon after, starting children.
func New(log *slog.Logger) (*Reaper, error) {
	if os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("becoming a child subreaper: %w", err)
		}
	}
	return &Reaper{
		log:     log.With("component", "reaper"),
		waiters: map[int]chan Status{},
		kick:    make(chan os.Signal, 1),
	}, nil
}

// Orphans is how many processes were reaped that nobody was waiting for.
func (r *Reaper) Orphans() int64 { return r.orphans.Load() }

// Run reaps on every SIGCHLD until ctx ends. It reaps once on entry, so a
// child that ended before Run started is not missed.
func (r *Reaper) Run(ctx context.Context) error {
	signal.Notify(r.kick, syscall.SIGCHLD)
	defer signal.Stop(r.kick)
	r.reap()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
			r.reap()
		}
	}
}

// Start starts cmd and returns a channel that receives its Status once. The
// lock is held across the start so the child cannot be reaped before its
// waiter exists.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan Status, 1)
	r.waiters[cmd.Process.Pid] = ch
	return ch, nil
}

// reap collects every child that has ended.
func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD: no children; 0: none ended yet
		}
		if ch, ok := r.waiters[pid]; ok {
			delete(r.waiters, pid)
			ch <- Status{Pid: pid, WaitStatus: ws}
			continue
		}
		r.orphans.Add(1)
		r.log.Debug("reaped orphan", "pid", pid, "status", Status{Pid: pid, WaitStatus: ws}.String())
	}
}
