package app

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/filewatch"
	"rancher-traefik/internal/publish"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/reaper"
	"rancher-traefik/internal/supervisor"
)

// Run prepares the configuration, then starts Traefik and supervises it
// until it stops or a stop signal arrives. Traefik's own non-zero exit code
// is returned as a ChildExit.
func (a *App) Run(ctx context.Context) error {
	// A write of ours to a closed stdout or stderr (`… | tee log`, then
	// Ctrl-C) must fail, not kill us: the Go runtime ends a program that
	// writes to a broken pipe on fd 1 or 2 by SIGPIPE unless it is ignored
	// or notified (os/signal, "SIGPIPE") — and dying here would leave
	// Traefik behind, holding its ports. Ignored, the write returns EPIPE.
	// Traefik keeps the runtime's default whatever it inherits.
	signal.Ignore(syscall.SIGPIPE)
	// Catch the signals first: one arriving while we prepare must not kill
	// us half-way, and is handled (forwarded or stopping) once Traefik runs.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, supervisor.Forwarded...)
	defer signal.Stop(sigs)
	return a.run(ctx, sigs)
}

// run is Run with the process's signals delivered on sigs.
func (a *App) run(ctx context.Context, sigs <-chan os.Signal) error {
	cfg, log, err := a.LoadConfig()
	a.warnUnknown(log)
	if err != nil {
		return err
	}
	log.Info("rancher-traefik starting", "version", a.Version, "pid", os.Getpid(), "home", cfg.Home)
	logSources(log, cfg)
	removeStaleTemps(cfg, log)
	p, err := a.assemble(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.supervise(ctx, sigs, cfg, log, p)
}

// parts are what a run is made of once its files are written.
type parts struct {
	started
	path   string // Traefik's binary
	reaper *reaper.Reaper
	pub    *publish.Publisher // nil without Rancher
	api    *rancher.API       // nil outside API mode
}

// assemble writes every file Traefik reads at start, finds Traefik and
// builds the reaper and the publisher.
func (a *App) assemble(ctx context.Context, cfg *config.Config, log *slog.Logger) (parts, error) {
	st, err := a.writeFiles(ctx, cfg, log)
	if err != nil {
		return parts{}, err
	}
	// Before any wait for Rancher: a missing Traefik is reported at once.
	path, err := lookTraefik(cfg.Binary)
	if err != nil {
		return parts{}, err
	}
	r, err := reaper.New(log)
	if err != nil {
		return parts{}, err
	}
	pub, api, err := newPublisher(cfg, log)
	if err != nil {
		return parts{}, err
	}
	if pub != nil && st.rest != nil {
		pusher := st.rest.pusher
		pub.Deliver = func(body []byte) error { pusher.SetJSON(body); return nil }
	}
	return parts{started: st, path: path, reaper: r, pub: pub, api: api}, nil
}

// supervise runs every goroutine of a run under one group: the reaper and
// Rancher's feeds from the start, the start gate while the first routes
// arrive, then Traefik's supervisor and the watchers, until the
// supervisor ends.
func (a *App) supervise(ctx context.Context, sigs <-chan os.Signal, cfg *config.Config, log *slog.Logger, p parts) error {
	// Every goroutine below belongs to g; bg ends when the supervisor does
	// (or on an early return), which ends them all.
	g, gctx := errgroup.WithContext(ctx)
	bg, stopBG := context.WithCancel(gctx)
	defer func() { stopBG(); _ = g.Wait() }()
	startFeeds(bg, g, cfg, log, p)
	if p.pub != nil && p.cluster != nil {
		p.pub.Resolver, p.pub.Kick = p.cluster.live.Load, p.cluster.kick
	}
	relay := make(chan os.Signal, 32)
	gate := supervisor.NewStartGate(bg, log)
	g.Go(func() error { return gate.Run(bg, sigs, relay) })
	if p.pub != nil {
		if err := p.pub.DeliverExisting(); err != nil {
			log.Warn("the routes an earlier run left cannot be pushed; Traefik gets Rancher's as soon as it answers", "err", err)
		}
		// The first routes are in place before Traefik starts.
		p.pub.First(gate.Context(), cfg.RancherWait)
	}
	if sig := gate.Open(); sig != nil {
		log.Info("stop requested before Traefik started; exiting", "signal", sig.String())
		return nil
	}
	sup := a.newSupervisor(cfg, log, p.reaper, p.path, p.cluster, p.dnsEnv, p.rest)
	logBudget(log, cfg, sup.Budget())
	startWatchers(bg, g, p)
	if p.rest != nil {
		g.Go(func() error { return p.rest.pusher.Run(bg) })
	}
	var code int
	g.Go(func() error {
		defer stopBG()
		var err error
		code, err = sup.Run(gctx, relay)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("rancher-traefik exiting", "code", code, "orphans_reaped", p.reaper.Orphans())
	if code != 0 {
		return ChildExit(code)
	}
	return nil
}

// startFeeds starts, in g, what runs from before Traefik starts: the
// reaper and, in API mode, Rancher's events and certificate store.
func startFeeds(bg context.Context, g *errgroup.Group, cfg *config.Config, log *slog.Logger, p parts) {
	// Reaping from now: as PID 1, orphans are ours during the start-up wait
	// too.
	g.Go(func() error { return p.reaper.Run(bg) })
	if p.api == nil {
		return
	}
	// From the start: events during the first wait count.
	g.Go(func() error { return p.api.Events(bg) })
	if !cfg.RancherCertificates.None() {
		// From the start too: the store's certificates are in place
		// as early as Rancher answers, before or after Traefik starts.
		sc := newStoreCerts(cfg, p.api, log)
		g.Go(func() error { return sc.Run(bg) })
	}
}

// startWatchers starts, in g, what follows changes once Traefik starts:
// the certificate files, Rancher's routes and the ACME cluster role.
func startWatchers(bg context.Context, g *errgroup.Group, p parts) {
	g.Go(func() error { return p.certs.Run(bg) })
	if p.pub != nil {
		g.Go(func() error { return p.pub.Run(bg) })
	}
	if p.cluster != nil {
		g.Go(func() error { return p.cluster.run(bg) })
		g.Go(func() error { return p.cluster.publishLoop(bg) })
		g.Go(func() error { return p.cluster.followRestarts(bg) })
		g.Go(func() error { return p.cluster.retryLoop(bg) })
	}
}

// newSupervisor is Traefik's supervisor, as the configuration says.
//
// rest, with TRAEFIK_ROUTES_DELIVERY=rest, is told of every Traefik
// started, and its port is among those a failing start is checked for.
func (a *App) newSupervisor(cfg *config.Config, log *slog.Logger, r *reaper.Reaper, path string, ac *acmeCluster, dnsEnv []string, rest *restDelivery) *supervisor.Supervisor {
	var restarts chan string
	var restarted func()
	if ac != nil {
		restarts, restarted = ac.restarts, ac.onRestarted
	}
	keepsDeathSignal(log, path)
	trampoline := "/proc/self/exe" // so that Traefik's first instants are safe from signals
	if err := unix.Access(trampoline, unix.X_OK); err != nil {
		log.Warn("cannot exec /proc/self/exe: Traefik is started directly, and signals in its first instants may kill it", "err", err)
		trampoline = ""
	}
	return supervisor.New(supervisor.Options{
		Path:         path,
		Args:         []string{"--configFile=" + cfg.StaticFile()},
		Env:          append(childEnv(a.Lookup, cfg.ChildEnv), dnsEnv...),
		Trampoline:   trampoline,
		ReadyTimeout: supervisor.DefaultReadyTimeout,
		StopDelay:    cfg.StopDelay,
		StopGrace:    cfg.RequestAcceptGrace + cfg.GraceTimeout + time.Second,
		Restart:      supervisor.Policy(cfg.Restart),
		RestartMax:   cfg.RestartMax,
		BackoffMin:   cfg.RestartBackoff,
		BackoffMax:   30 * time.Second,
		HealthyAfter: time.Minute,
		Diagnose:     func() string { return portsInUse(cfg, rest.restPort()) },
		Restarts:     restarts,
		Restarted:    restarted,
		Started:      rest.started(),
		Sockets:      socketHolder(cfg, readStatic(cfg), log),
	}, r, log)
}

// started is what writeFiles leaves for run.
type started struct {
	certs   *filewatch.Watcher
	cluster *acmeCluster  // nil outside cluster mode
	dnsEnv  []string      // the DNS-01 provider's credentials, for Traefik alone
	rest    *restDelivery // TRAEFIK_ROUTES_DELIVERY=rest; nil otherwise
}

// writeFiles checks the DNS-01 credentials, decides the cluster role (it
// decides traefik.toml) and writes every file Traefik reads at start.
func (a *App) writeFiles(ctx context.Context, cfg *config.Config, log *slog.Logger) (started, error) {
	dnsEnv, problems := dnsCredentials(cfg, a.Lookup)
	if len(problems) > 0 {
		return started{}, Kind(ErrConfig, &config.Error{Problems: problems})
	}
	// The certificate files are read: from now on a change to them counts,
	// however long Traefik's start takes.
	cw := certWatcher(cfg, log)
	cw.Prime()
	ac := newACMECluster(cfg, log, a.Version)
	if ac != nil {
		// The role decides traefik.toml: known before it is written.
		ac.first(ctx)
	}
	rest, err := restDeliveryOf(cfg, log)
	if err != nil {
		return started{}, err
	}
	served, err := a.prepare(cfg, log, ac.resolver(), rest)
	if err != nil {
		return started{}, err
	}
	if ac != nil {
		if err := ac.writeForward(); err != nil {
			return started{}, err
		}
	}
	if err := writeProbe(cfg); err != nil {
		return started{}, err
	}
	cw.Reload = a.reloadCerts(log, served)
	return started{certs: cw, cluster: ac, dnsEnv: dnsEnv, rest: rest}, nil
}
