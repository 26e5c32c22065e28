package supervisor

import (
	"context"
	"log/slog"
	"os"
	"sync"
)

// StartGate holds the signals that arrive before Traefik starts. Until it
// is opened a stop signal ends the start-up at once (waiting up to
// TRAEFIK_RANCHER_WAIT for Rancher, then starting Traefik only to stop it,
// would outlast the orchestrator's stop timeout), and the others are
// dropped: Traefik reads every file when it starts (a HUP's reload) and
// opens its logs then (a USR1's). Once open, every signal is relayed to
// the supervisor.
type StartGate struct {
	// ctx is the start-up's: cancelled by a stop signal before Open.
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger

	mu      sync.Mutex
	opened  bool
	stopped os.Signal
}

// NewStartGate makes the gate of one start-up under ctx.
func NewStartGate(ctx context.Context, log *slog.Logger) *StartGate {
	g := &StartGate{log: log}
	g.ctx, g.cancel = context.WithCancel(ctx)
	return g
}

// Run passes sigs through the gate to relay until ctx ends.
func (g *StartGate) Run(ctx context.Context, sigs <-chan os.Signal, relay chan<- os.Signal) error {
	defer g.cancel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-sigs:
			if !g.admit(sig) {
				continue
			}
			select {
			case relay <- sig:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// admit says whether sig goes on to the supervisor.
func (g *StartGate) admit(sig os.Signal) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.opened:
		return true
	case IsStop(sig):
		if g.stopped == nil {
			g.stopped = sig
		}
		g.cancel()
	default:
		g.log.Info("signal before Traefik started; ignored", "signal", sig.String())
	}
	return false
}

// Open lets every later signal through. It returns the stop signal that
// arrived before, if one did: then Traefik is not to be started.
func (g *StartGate) Open() os.Signal {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.opened = true
	return g.stopped
}

// Context is the start-up's: cancelled by a stop signal before Open, so a
// wait for Rancher ends at once.
func (g *StartGate) Context() context.Context { return g.ctx }
