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
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rancher-traefik/internal/backoff"
	"rancher-traefik/internal/handover"
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

	// Trampoline, when set, is rancher-traefik's own executable (e.g.
	// /proc/self/exe): the child is started through it (see Trampoline), so
	// that the moment it has set its signal handlers can be seen, and
	// signals are held until then (at most ReadyTimeout). Empty: the child
	// is exec'd directly and signals are forwarded as they come.
	Trampoline   string
	ReadyTimeout time.Duration

	// StopDelay is waited after SIGTERM/SIGINT before the child is told.
	StopDelay time.Duration
	// StopGrace is how long the child may take after SIGTERM before SIGKILL.
	StopGrace time.Duration

	Restart      Policy
	RestartMax   int           // restarts allowed inside the backoff window
	BackoffMin   time.Duration // first delay; doubles
	BackoffMax   time.Duration
	HealthyAfter time.Duration // a run this long resets the backoff

	// Restarts, when set, asks for the child to be replaced: it is stopped
	// as for a shutdown (no StopDelay: nothing is deregistered) and started
	// again at once, outside the restart policy and its count — its static
	// configuration changed, which Traefik reads only at start. The value
	// is the reason, for the log.
	Restarts <-chan string

	// Sockets, when set (and with a Trampoline, which sets LISTEN_PID), are
	// the entry points' sockets, held by the supervisor: each child gets a
	// generation of its own by socket activation, and a restart asked on
	// Restarts is a handover (handover.go) — the next child starts beside
	// the running one, which keeps every new connection until the next one
	// has applied its configuration, and stops once its queues are empty.
	// Nil: Traefik opens its own, and a restart is a stop then a start.
	Sockets *handover.Holder
	// Restarted, if set, is called once a restart asked on Restarts has
	// its new child serving alone: after a handover, once the previous
	// child has stopped; otherwise after the start that follows the stop.
	// It must not block.
	Restarted func()
	// Started, if set, is called each time a child is started — the
	// first, a restart after it ended, a requested restart's — before it
	// serves (TRAEFIK_ROUTES_DELIVERY=rest: its routes are pushed as soon
	// as it answers). It must not block.
	Started func()
	// HandoverTimeout bounds the wait for the next child's configuration;
	// past it the running child stays and the next one is stopped.
	HandoverTimeout time.Duration

	// Diagnose, if set, looks for a likely cause when the child keeps
	// failing (e.g. a port taken by another process); "" when it finds none.
	Diagnose func() string
}

// Supervisor runs one child at a time, but for a handover, when the next
// one runs beside the one it replaces until that one has stopped.
type Supervisor struct {
	opts     Options
	reaper   *reaper.Reaper
	log      *slog.Logger
	retiring sync.WaitGroup // children stopping after a handover
	// retireCtx bounds the retiring children's waits for their
	// connections; endRetire ends it when the supervisor stops for good.
	retireCtx context.Context
	endRetire context.CancelFunc
	announce  bool // the next start is a requested restart's (Restarted)
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
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.HandoverTimeout <= 0 {
		opts.HandoverTimeout = DefaultHandoverTimeout
	}
	s := &Supervisor{opts: opts, reaper: r, log: log.With("component", "supervisor")}
	s.retireCtx, s.endRetire = context.WithCancel(context.Background())
	return s
}

// Budget is the longest a stop can take: the stop delay, the child's grace,
// and the time to kill and reap it.
func (s *Supervisor) Budget() time.Duration { return s.opts.StopDelay + s.opts.StopGrace + killMargin }

// DefaultReadyTimeout bounds how long signals are held for a child whose
// handlers are not seen: Traefik sets them within a tenth of a second; a
// child that never does (another program as TRAEFIK_BINARY) gets them late
// rather than never.
const DefaultReadyTimeout = 5 * time.Second

// DefaultHandoverTimeout bounds the wait for a new Traefik's configuration
// in a handover: Traefik applies its first within a second for hundreds of
// routes, several for tens of thousands (README, Measured).
const DefaultHandoverTimeout = 2 * time.Minute

// killMargin is the time allowed for SIGKILL and the reap after the grace.
const killMargin = time.Second

// Run starts the child and supervises it until it ends for good: stopped by
// SIGTERM/SIGINT (from sigs) or ctx, ended under the restart policy, or in a
// crash loop. It returns the exit code the container should end with; err
// is non-nil only for our own failures (ErrNotFound, ErrNotStartable,
// ErrCrashLoop), in which case the code is the child's last.
//
// Every child is started from one OS thread, locked to the goroutine that
// runs the supervision: a child's Pdeathsig fires when the thread that
// forked it ends, not the process, and the Go runtime ends a thread when a
// goroutine locked to it returns — with the child started from any thread
// of the pool, a library's LockOSThread elsewhere could kill Traefik. The
// thread stays locked until supervision is over, then ends with its
// goroutine, which kills any child still there.
func (s *Supervisor) Run(ctx context.Context, sigs <-chan os.Signal) (int, error) {
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		code, err := s.supervise(ctx, sigs)
		res <- result{code, err}
	}()
	r := <-res
	return r.code, r.err
}

func (s *Supervisor) supervise(ctx context.Context, sigs <-chan os.Signal) (int, error) {
	restarts := 0
	retry := backoff.New(s.opts.BackoffMin, s.opts.BackoffMax)
	// Children being retired after a handover end before supervision does:
	// they die with this thread (Pdeathsig).
	defer s.retiring.Wait()
	var next *child
	for first := true; ; first = false {
		started := time.Now()
		o, err := s.runOnce(ctx, sigs, next)
		if next = o.next; next != nil {
			continue // handed over (handover.go logs it)
		}
		st := o.st
		if err != nil {
			if first {
				return 0, err
			}
			s.log.Error("restarting traefik failed", "err", err)
			st = reaper.Status{WaitStatus: unix.WaitStatus(127 << 8)}
		}
		if o.restart {
			s.log.Info("traefik stopped to be restarted with its new configuration", "status", st.String())
			s.announce = true
			continue
		}
		if o.clean {
			return 0, nil
		}
		code := st.ExitCode()
		if o.stopped {
			return code, nil
		}
		if s.opts.Restart == RestartNever || (s.opts.Restart == RestartOnFailure && code == 0) {
			s.log.Info("traefik ended; not restarting", "status", st.String(), "restart", string(s.opts.Restart))
			return code, nil
		}
		if time.Since(started) >= s.opts.HealthyAfter {
			restarts = 0
			retry.Reset()
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
		delay := retry.Next()
		s.log.Warn("traefik ended; restarting", "status", st.String(), "ran_for", time.Since(started).Round(time.Millisecond).String(), "restart", restarts, "of", s.opts.RestartMax, "in", delay.Round(time.Millisecond).String())
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

// runOnce supervises one child, c or (nil) one it starts, and waits for it,
// forwarding signals. The outcome says whether a stop was requested (the
// child ended after it), or whether another child took over from it (next:
// then this one is being retired, see handover.go).
func (s *Supervisor) runOnce(ctx context.Context, sigs <-chan os.Signal, c *child) (outcome, error) {
	if c == nil {
		var err error
		if c, err = s.startNext(); err != nil {
			return outcome{}, err
		}
		if s.announce && s.opts.Restarted != nil {
			s.opts.Restarted()
		}
		s.announce = false
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &childLoop{s: s, c: c, stopSig: unix.SIGTERM, ready: s.watchReady(rctx, c.pid)}
	o := l.run(ctx, sigs)
	if o.next == nil {
		s.release(c)
	}
	return o, nil
}

// release lets go of an ended child: whatever else is in its process group
// goes with it, and its sockets close (connections queued on them are
// reset: nothing will accept them).
func (s *Supervisor) release(c *child) {
	c.proc.Release()
	s.killGroup(c.pid)
	if c.gen != nil {
		if err := c.gen.Close(); err != nil {
			s.log.Warn("steering the entry points after closing a Traefik's sockets failed", "err", err)
		}
	}
}

// startNext starts a child with a new generation of sockets, when the
// supervisor holds them.
func (s *Supervisor) startNext() (*child, error) {
	gen := s.openGeneration()
	c, err := s.start(gen)
	if err != nil && gen != nil {
		_ = gen.Close()
	}
	return c, err
}

// openGeneration opens the sockets of the next child; nil when the
// supervisor does not hold them (no Sockets, or no trampoline to set
// LISTEN_PID), or cannot (a port taken: Traefik then fails on it itself,
// and says so, as without).
func (s *Supervisor) openGeneration() *handover.Generation {
	if s.opts.Sockets == nil || s.opts.Trampoline == "" {
		return nil
	}
	g, err := s.opts.Sockets.Open()
	if err != nil {
		s.log.Warn("cannot open the entry points' sockets for Traefik: it opens its own, and a restart stops it before the next one listens", "err", err)
		return nil
	}
	return g
}

// child is one started Traefik.
type child struct {
	proc *os.Process
	pid  int
	done <-chan reaper.Status
	gen  *handover.Generation // its sockets; nil: it binds its own
}

// start starts the child through the reaper. The child dies with the
// thread that forks it (Pdeathsig), hence with this process whatever ends
// it, kill -9 included: Run keeps that thread for the supervisor's life.
func (s *Supervisor) start(gen *handover.Generation) (*child, error) {
	cmd, status, err := s.command(gen)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	done, err := s.reaper.Start(cmd)
	if status != nil {
		cmd.ExtraFiles[len(cmd.ExtraFiles)-1].Close() // our copy of the write end
	}
	if err != nil {
		if status != nil {
			status.Close()
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, cmd.Path, err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrNotStartable, cmd.Path, err)
	}
	c := &child{proc: cmd.Process, pid: cmd.Process.Pid, done: done, gen: gen}
	if status != nil {
		if err := awaitExec(status); err != nil {
			<-done // it exits as soon as it has reported
			c.proc.Release()
			return nil, err
		}
	}
	s.log.Info("traefik started", "pid", c.pid)
	if s.opts.Started != nil {
		s.opts.Started()
	}
	return c, nil
}

// watchReady watches for the child's signal handlers when it was started
// through the trampoline; without one nothing can be observed, and the
// child is taken as ready at once.
func (s *Supervisor) watchReady(ctx context.Context, pid int) <-chan readiness {
	if s.opts.Trampoline == "" {
		ch := make(chan readiness, 1)
		ch <- readiness{observed: true}
		return ch
	}
	return watchReady(ctx, pid, s.opts.ReadyTimeout)
}

// killGroup kills what is left of the child's process group (it has been
// reaped; anything it started may remain).
func (s *Supervisor) killGroup(pid int) {
	if err := unix.Kill(-pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		s.log.Warn("killing traefik's process group failed", "err", err)
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
