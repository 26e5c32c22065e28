package supervisor

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"rancher-traefik/internal/handover"
	"rancher-traefik/internal/reaper"
)

// handover replaces the running child (l.c) by a new one without a
// connection refused, reset, or taken by a Traefik not yet configured (see
// package handover): the new child starts beside it on sockets of its own
// that take nothing yet; once it answers its probe (its configuration
// applied) every new connection goes to it; the old one is retired in the
// background (retire) once its queues are empty.
//
// done is true when the new child took over: o.next is it. Otherwise the
// running child stays (the new one failed, or a stop came first, and is
// under way in l) and l's loop goes on.
func (l *childLoop) handover(ctx context.Context, sigs <-chan os.Signal, why string) (o outcome, done bool) {
	s := l.s
	gen, err := s.opts.Sockets.Open()
	if err != nil {
		s.log.Warn("cannot open the next Traefik's sockets: restarting it with a gap instead", "reason", why, "err", err)
		l.restart = true
		l.stop(unix.SIGTERM, why)
		return outcome{}, false
	}
	s.log.Info("starting the next traefik beside the running one", "reason", why, "running", l.c.pid)
	next, err := s.start(gen)
	if err != nil {
		_ = gen.Close()
		s.log.Error("the next traefik could not be started; the running one stays", "reason", why, "err", err)
		return outcome{}, false
	}
	started := time.Now()
	rctx, cancel := context.WithTimeout(ctx, s.opts.HandoverTimeout)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- gen.Ready(rctx) }()
	for {
		select {
		case err := <-ready:
			if err == nil {
				err = s.opts.Sockets.Steer(gen)
			}
			if err != nil {
				s.log.Error("the next traefik did not take over; the running one stays", "reason", why, "err", err)
				s.retireAsync(next, 0, nil)
				return outcome{}, false
			}
			s.log.Info("traefik handed over: new connections go to the next one, the previous one stops once its queue is empty", "pid", next.pid, "previous", l.c.pid, "after", time.Since(started).Round(time.Millisecond).String())
			// Restarted once the previous one is gone: a change it
			// triggers (routes asking for a resolver the previous one
			// lacks) is applied by the next one alone.
			s.retireAsync(l.c, next.pid, s.opts.Restarted)
			return outcome{next: next}, true
		case st := <-next.done:
			s.log.Error("the next traefik ended before it applied its configuration; the running one stays", "reason", why, "status", st.String())
			s.release(next)
			return outcome{}, false
		case st := <-l.c.done:
			// The running one ended by itself meanwhile: the next one,
			// configured or not, is all there is.
			s.log.Warn("traefik ended during a handover; the next one takes over at once", "status", st.String(), "pid", next.pid)
			if err := s.opts.Sockets.Steer(gen); err != nil {
				s.log.Error("steering the entry points to the next traefik failed", "err", err)
			}
			s.release(l.c)
			if s.opts.Restarted != nil {
				s.opts.Restarted()
			}
			return outcome{st: st, next: next}, true
		case r := <-l.ready:
			l.ready = nil
			l.opened(r)
		case <-ctx.Done():
			s.retireAsync(next, 0, nil)
			return outcome{}, false // l's loop sees ctx and stops the running one
		case sig := <-sigs:
			if IsStop(sig) {
				s.retireAsync(next, 0, nil)
				l.stop(sig, sig.String())
				return outcome{}, false
			}
			l.send(sig) // the running one serves: its log, its reload
		}
	}
}

// retireDrainLimit bounds the wait for a retired Traefik's queues and
// connections: a handshake takes a round trip, and the Traefik accepts at
// once; a request is answered in a moment, but a client may keep its
// connection alive longer.
const retireDrainLimit = 10 * time.Second

// retireAsync stops c in the background, gracefully (SIGTERM, then SIGKILL
// after the grace), then releases it and calls then (if set). With a next
// child (its pid; 0: none) that took over, only once c's sockets' queues
// are empty and every connection c accepted is closed (c no longer takes
// new connections; handover.Pending says why), or the limit has passed.
// Supervision does not end before it has.
func (s *Supervisor) retireAsync(c *child, next int, then func()) {
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		if next != 0 {
			s.awaitRetired(c, next)
		}
		st := s.stopChild(c)
		s.release(c)
		s.log.Info("the previous traefik stopped", "pid", c.pid, "status", st.String())
		if then != nil {
			then()
		}
	}()
}

// awaitRetired waits until c, retired for next, has nothing queued and
// every connection it accepted is closed, or retireDrainLimit has passed.
func (s *Supervisor) awaitRetired(c *child, next int) {
	ctx, cancel := context.WithTimeout(s.retireCtx, retireDrainLimit)
	defer cancel()
	err := s.opts.Sockets.Drain(ctx, c.gen)
	if err == nil {
		err = s.opts.Sockets.AwaitClosed(ctx, next)
	}
	var pe *handover.PendingError
	switch {
	case err == nil:
	case s.retireCtx.Err() != nil:
		s.log.Info("stopping for good: the previous traefik stops too", "pid", c.pid)
	case errors.As(err, &pe) && pe.Unserved == 0:
		// Answered, kept alive or long: its shutdown closes the idle
		// ones (a client retries on a new connection, to the next
		// Traefik) and lets the requests under way finish.
		s.log.Info("the previous traefik still has connections open; stopping it", "pid", c.pid, "open", pe.Open, "after", retireDrainLimit.String())
	default:
		s.log.Warn("the previous traefik still had connections waiting; stopping it anyway", "pid", c.pid, "err", err)
	}
}

// stopChild sends c SIGTERM and waits for its end, killing its process
// group after the grace.
func (s *Supervisor) stopChild(c *child) reaper.Status {
	s.forward(c.proc, unix.SIGTERM)
	t := time.NewTimer(s.opts.StopGrace)
	defer t.Stop()
	select {
	case st := <-c.done:
		return st
	case <-t.C:
		s.log.Error("the previous traefik did not stop within its grace and is killed", "pid", c.pid, "grace", s.opts.StopGrace.String())
		s.killGroup(c.pid)
		return <-c.done
	}
}
