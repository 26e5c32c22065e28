// Package supervisor runs Traefik as a child and keeps it running: signals
// forwarded for the child's whole life, a graceful stop within a budget, and
// restarts with jittered backoff until a crash loop gives up.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rancher-traefik/internal/reaper"
)

// Policy says when a child that ended by itself is started again.
type Policy string

// Restart policies.
const (
	RestartOnFailure Policy = "on-failure"
	RestartAlways    Policy = "always"
	RestartNever     Policy = "never"
)

// Errors the caller maps to exit codes.
var (
	ErrNotFound     = errors.New("traefik executable not found")
	ErrNotStartable = errors.New("traefik could not be started")
	ErrCrashLoop    = errors.New("traefik keeps failing")
)

// Forwarded are the signals passed on to the child every time they arrive.
// SIGCHLD and the runtime's SIGURG never are.
var Forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH}

// Options describe the child and how to keep it.
type Options struct {
	Path string   // executable, already looked up
	Args []string // arguments after the program name
	Env  []string // the child's whole environment

	// StopDelay is waited after SIGTERM/SIGINT before the child is told.
	StopDelay time.Duration
	// StopGrace is how long the child may take after SIGTERM before SIGKILL.
	StopGrace time.Duration

	Restart      Policy
	RestartMax   int           // restarts allowed inside the backoff window
	BackoffMin   time.Duration // first delay; doubles
	BackoffMax   time.Duration
	HealthyAfter time.Duration // a run this long resets the backoff

	// Diagnose, if set, looks for a likely cause when the child keeps
	// failing (e.g. a port taken by another process); "" when it finds none.
	Diagnose func() string
}

// Supervisor runs one child at a time.
type Supervisor struct {
	opts   Options
	reaper *reaper.Reaper
	log    *slog.Logger
	// OnStart, if set, is called with each child's pid (for tests and metrics).
	OnStart func(pid int)
}

// New returns a Supervisor whose children are reaped by r.
func New(opts Options, r *reaper.Reaper, log *slog.Logger) *Supervisor {
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = time.Second
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(30*time.Second, opts.BackoffMin)
	}
	if opts.HealthyAfter <= 0 {
		opts.HealthyAfter = time.Minute
	}
	if opts.Restart == "" {
		opts.Restart = RestartOnFailure
	}
	return &Supervisor{opts: opts, reaper: r, log: log.With("component", "supervisor")}
}

// Budget is the longest a stop can take: the stop delay, the child's grace,
// and the time to kill and reap it.
func (s *Supervisor) Budget() time.Duration { return s.opts.StopDelay + s.opts.StopGrace + killMargin }

// killMargin is the time allowed for SIGKILL and the reap after the grace.
const killMargin = time.Second

// Run starts the child and supervises it until it ends for good: stopped by
// SIGTERM/SIGINT (from sigs) or ctx, ended under the restart policy, or in a
// crash loop. It returns the exit code the container should end with; err
// is non-nil only for our own failures (ErrNotFound, ErrNotStartable,
// ErrCrashLoop), in which case the code is the child's last.
func (s *Supervisor) Run(ctx context.Context, sigs <-chan os.Signal) (int, error) {
	restarts := 0
	backoff := s.opts.BackoffMin
	for first := true; ; first = false {
		started := time.Now()
		st, stopped, err := s.runOnce(ctx, sigs)
		if err != nil {
			if first {
				return 0, err
			}
			s.log.Error("restarting traefik failed", "err", err)
			st = reaper.Status{WaitStatus: unix.WaitStatus(127 << 8)}
		}
		code := st.ExitCode()
		if stopped {
			return code, nil
		}
		if s.opts.Restart == RestartNever || (s.opts.Restart == RestartOnFailure && code == 0) {
			s.log.Info("traefik ended; not restarting", "status", st.String(), "restart", string(s.opts.Restart))
			return code, nil
		}
		if time.Since(started) >= s.opts.HealthyAfter {
			restarts, backoff = 0, s.opts.BackoffMin
		}
		if restarts >= s.opts.RestartMax {
			cause := "see Traefik's last lines above"
			if s.opts.Diagnose != nil {
				if c := s.opts.Diagnose(); c != "" {
					cause = c
				}
			}
			s.log.Error("traefik keeps failing: giving up so the orchestrator can reschedule", "restarts", restarts, "window", s.opts.HealthyAfter.String(), "last_status", st.String(), "cause", cause)
			return code, fmt.Errorf("%w: %d restarts, last %s; cause: %s", ErrCrashLoop, restarts, st, cause)
		}
		restarts++
		delay := jitter(backoff)
		s.log.Warn("traefik ended; restarting", "status", st.String(), "ran_for", time.Since(started).Round(time.Millisecond).String(), "restart", restarts, "of", s.opts.RestartMax, "in", delay.Round(time.Millisecond).String())
		backoff = min(backoff*2, s.opts.BackoffMax)
		if s.sleep(ctx, sigs, delay) {
			s.log.Info("stop requested while waiting to restart traefik")
			return code, nil
		}
	}
}

// sleep waits d, or until a stop is requested (reported as true).
func (s *Supervisor) sleep(ctx context.Context, sigs <-chan os.Signal, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return false
		case <-ctx.Done():
			return true
		case sig := <-sigs:
			if IsStop(sig) {
				return true
			}
		}
	}
}

// IsStop reports whether sig asks to stop (SIGTERM, SIGINT).
func IsStop(sig os.Signal) bool { return sig == unix.SIGTERM || sig == unix.SIGINT }

// runOnce starts one child and waits for it, forwarding signals. stopped
// reports that a stop was requested (the child ended after it).
func (s *Supervisor) runOnce(ctx context.Context, sigs <-chan os.Signal) (st reaper.Status, stopped bool, err error) {
	cmd := exec.Command(s.opts.Path, s.opts.Args...)
	cmd.Env = s.opts.Env
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	done, err := s.reaper.Start(cmd)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
			return st, false, fmt.Errorf("%w: %s: %w", ErrNotFound, s.opts.Path, err)
		}
		return st, false, fmt.Errorf("%w: %s: %w", ErrNotStartable, s.opts.Path, err)
	}
	proc := cmd.Process
	defer proc.Release()
	pid := proc.Pid
	s.log.Info("traefik started", "pid", pid)
	if s.OnStart != nil {
		s.OnStart(pid)
	}

	var (
		delayC  <-chan time.Time // the stop delay running
		killC   <-chan time.Time // the grace running
		killed  bool
		stopSig os.Signal = unix.SIGTERM
	)
	stop := func(sig os.Signal, why string) {
		stopped, stopSig = true, sig
		s.log.Info("stopping traefik", "reason", why, "delay", s.opts.StopDelay.String(), "grace", s.opts.StopGrace.String())
		if s.opts.StopDelay > 0 {
			delayC = time.After(s.opts.StopDelay)
			return
		}
		s.forward(proc, sig)
		killC = time.After(s.opts.StopGrace)
	}
	ctxDone := ctx.Done()
	for {
		select {
		case st = <-done:
			if killed {
				s.log.Error("traefik did not stop within its grace and was killed", "grace", s.opts.StopGrace.String(), "status", st.String())
			} else {
				s.log.Info("traefik ended", "status", st.String())
			}
			return st, stopped, nil
		case <-ctxDone:
			ctxDone = nil
			if !stopped {
				stop(unix.SIGTERM, "shutdown")
			}
		case sig := <-sigs:
			if IsStop(sig) && !stopped {
				stop(sig, sig.String())
				continue
			}
			s.forward(proc, sig)
		case <-delayC:
			delayC = nil
			s.forward(proc, stopSig)
			killC = time.After(s.opts.StopGrace)
		case <-killC:
			killC = nil
			killed = true
			// The whole process group: anything Traefik started goes too.
			if err := unix.Kill(-pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				s.log.Warn("killing traefik's process group failed", "err", err)
			}
		}
	}
}

// forward sends sig to the child, if it is still there.
func (s *Supervisor) forward(proc *os.Process, sig os.Signal) {
	if err := proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("forwarding signal failed", "signal", sig.String(), "err", err)
		return
	}
	s.log.Debug("forwarded signal", "signal", sig.String(), "pid", proc.Pid)
}

// jitter spreads d by ±20% so restarts of many containers do not align.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
