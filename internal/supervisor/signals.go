package supervisor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"rancher-traefik/internal/reaper"
)

// outcome is how one child's run ended.
type outcome struct {
	st reaper.Status
	// stopped: a stop was requested (SIGTERM/SIGINT or ctx), and the child
	// ended after it.
	stopped bool
	// clean: the child ended of the stop signal itself, sent before its
	// handlers could be seen — a Traefik not ready yet, with nothing in
	// flight. Its end is a clean stop (exit 0), not a crash.
	clean bool
	// restart: the child was stopped to be started again (Options.Restarts)
	// and no stop was asked meanwhile.
	restart bool
	// next: the child that took over in a handover (handover.go); this one
	// is being retired, or has ended already.
	next *child
}

// childLoop forwards signals to one child and runs the stop ladder until
// the child ends. Signals are held until the child can take them (its
// handlers are set), then forwarded in the order they came.
type childLoop struct {
	s     *Supervisor
	c     *child
	ready <-chan readiness

	open    bool        // the child takes signals
	blind   bool        // opened without seeing its stop handlers
	held    []os.Signal // arrived before it could take them
	stopped bool
	restart bool // the stop is a restart (Options.Restarts)
	stopSig os.Signal
	sentTo  os.Signal // the stop signal as forwarded while blind
	delayC  <-chan time.Time
	killC   <-chan time.Time
	killed  bool
}

func (l *childLoop) run(ctx context.Context, sigs <-chan os.Signal) outcome {
	ctxDone := ctx.Done()
	for {
		select {
		case st := <-l.c.done:
			return l.ended(st)
		case r := <-l.ready:
			l.ready = nil
			l.opened(r)
		case <-ctxDone:
			ctxDone = nil
			l.restart = false // whatever stop is under way is now for good
			if l.stopped && l.delayC == nil {
				l.yield()
			}
			if !l.stopped {
				l.stop(unix.SIGTERM, "shutdown")
			}
		case why := <-l.s.opts.Restarts:
			switch {
			case l.stopped:
			case l.c.gen != nil:
				if o, done := l.handover(ctx, sigs, why); done {
					return o
				}
			default:
				l.restart = true
				l.stop(unix.SIGTERM, why)
			}
		case sig := <-sigs:
			if IsStop(sig) && l.restart {
				// Already stopping: it stays stopped.
				l.restart = false
				l.yield()
				continue
			}
			if IsStop(sig) && !l.stopped {
				l.stop(sig, sig.String())
				continue
			}
			l.send(sig)
		case <-l.delayC:
			l.delayC = nil
			l.send(l.stopSig)
			l.yield()
			l.killC = time.After(l.s.opts.StopGrace)
		case <-l.killC:
			l.killC = nil
			l.killed = true
			// The whole process group: anything Traefik started goes too.
			if err := unix.Kill(-l.c.pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				l.s.log.Warn("killing traefik's process group failed", "err", err)
			}
		}
	}
}

// stop starts the ladder: the stop delay, the signal, the grace. The grace
// runs from the moment the signal is due, held or not, so the budget holds.
func (l *childLoop) stop(sig os.Signal, why string) {
	l.stopped, l.stopSig = true, sig
	l.s.log.Info("stopping traefik", "reason", why, "delay", l.s.opts.StopDelay.String(), "grace", l.s.opts.StopGrace.String())
	if l.s.opts.StopDelay > 0 && !l.restart {
		l.delayC = time.After(l.s.opts.StopDelay)
		return
	}
	l.send(sig)
	l.yield()
	l.killC = time.After(l.s.opts.StopGrace)
}

// yield lets go of the child's sockets once it is told to stop for good:
// they close when it closes its listeners, as a Traefik's own would, so
// connections coming meanwhile are refused — and go to another host —
// rather than queued for a Traefik that will not accept them. A restart's
// child keeps them (the group's order must stay known). A previous child
// still waiting for its connections to close stops now too, within the
// same grace.
func (l *childLoop) yield() {
	if l.restart {
		return
	}
	l.s.endRetire()
	if l.c.gen != nil {
		l.c.gen.Yield()
	}
}

// send forwards sig, or holds it while the child cannot take it yet.
func (l *childLoop) send(sig os.Signal) {
	if !l.open {
		l.held = append(l.held, sig)
		l.s.log.Debug("signal held until traefik has set its handlers", "signal", sig.String())
		return
	}
	if l.blind && IsStop(sig) {
		// It may still ignore SIGINT (ignoredAtExec): a stop is sent as
		// SIGTERM, which it either handles or dies of.
		sig = unix.SIGTERM
		l.sentTo = sig
	}
	l.s.forward(l.c.proc, sig)
}

// opened lets the held signals through, in order.
func (l *childLoop) opened(r readiness) {
	l.open, l.blind = true, !r.stops
	log := l.s.log
	waited := r.after.Round(time.Millisecond).String()
	switch {
	case r.observed:
		log.Debug("traefik has set its signal handlers", "after", waited, "held", len(l.held))
	case r.err != nil && errors.Is(r.err, fs.ErrNotExist):
		log.Debug("traefik ended before its signal handlers were seen")
	case r.err != nil:
		log.Warn("cannot see whether traefik has set its signal handlers; forwarding signals as they come", "err", r.err)
	case r.stops:
		log.Warn("traefik has set its stop handlers but not asked for SIGHUP (no file provider?); forwarding signals, a SIGHUP it ignores", "waited", waited, "held", len(l.held))
	default:
		log.Warn("traefik has not set its signal handlers yet; forwarding signals anyway", "waited", waited, "held", len(l.held))
	}
	held := l.held
	l.held = nil
	for _, sig := range held {
		l.send(sig)
	}
}

// ended reports the child's end.
func (l *childLoop) ended(st reaper.Status) outcome {
	o := outcome{st: st, stopped: l.stopped, restart: l.restart}
	switch {
	case l.killed:
		l.s.log.Error("traefik did not stop within its grace and was killed", "grace", l.s.opts.StopGrace.String(), "status", st.String())
	case l.sentTo != nil && st.Signaled() && st.Signal() == l.sentTo.(unix.Signal):
		o.clean = true
		l.s.log.Info("traefik ended by the stop signal before it could handle it (it was not serving yet): a clean stop", "status", st.String())
	case st.Signaled() && st.Signal() == unix.SIGPIPE:
		// The Go runtime ends a program whose write to a broken pipe on fd
		// 1 or 2 fails; Traefik's are ours.
		l.s.log.Warn("traefik was killed by SIGPIPE: the reader of its stdout or stderr (ours too) is gone", "status", st.String())
	default:
		if len(l.held) > 0 {
			l.s.log.Info("traefik ended before it could take the signals held for it", "held", len(l.held))
		}
		l.s.log.Info("traefik ended", "status", st.String())
	}
	return o
}
