package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/filewatch"
	"rancher-traefik/internal/reaper"
	"rancher-traefik/internal/render"
	"rancher-traefik/internal/secrets"
	"rancher-traefik/internal/supervisor"
)

func newRunCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Prepare the configuration, then run and supervise Traefik (the default)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runRun(cmd.Context(), e) },
	}
}

// childBaseEnv are the only variables of ours Traefik inherits, besides
// TRAEFIK_CHILD_ENV.
var childBaseEnv = []string{"PATH", "HOME", "TZ"}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// childEnv builds Traefik's environment: none of our TRAEFIK_*/CATTLE_*
// variables (Traefik would parse TRAEFIK_* as configuration) and no secret.
func childEnv(lookup func(string) (string, bool), extra []string) []string {
	var out []string
	for _, n := range append(append([]string{}, childBaseEnv...), extra...) {
		if v, ok := lookup(n); ok {
			out = append(out, n+"="+v)
		} else if n == "PATH" {
			out = append(out, "PATH="+defaultPath)
		}
	}
	return out
}

// lookTraefik finds TRAEFIK_BINARY.
func lookTraefik(bin string) (string, error) {
	p, err := exec.LookPath(bin)
	if err == nil {
		return p, nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("TRAEFIK_BINARY: %w: %q (set TRAEFIK_BINARY to its path, or put it on PATH)", supervisor.ErrNotFound, bin)
	}
	return "", fmt.Errorf("TRAEFIK_BINARY: %w: %w", supervisor.ErrNotStartable, err)
}

func runRun(ctx context.Context, e env) error {
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

	cfg, log, err := loadConfig(e)
	warnUnknown(log, e)
	if err != nil {
		return fail(err)
	}
	log.Info("rancher-traefik starting", "version", version, "pid", os.Getpid(), "home", cfg.Home)
	logSources(log, cfg)
	removeStaleTemps(cfg, log)
	// The certificate files are read: from now on a change to them counts,
	// however long Traefik's start takes.
	cw := certWatcher(cfg, log)
	cw.Prime()
	served, err := prepare(cfg, log)
	if err != nil {
		return fail(err)
	}
	cw.Reload = reloadCerts(e, log, served)
	// Before any wait for Rancher: a missing Traefik is reported at once.
	path, err := lookTraefik(cfg.Binary)
	if err != nil {
		return fail(err)
	}
	r, err := reaper.New(log)
	if err != nil {
		return fail(err)
	}
	pub, api, err := newPublisher(cfg, log)
	if err != nil {
		return fail(err)
	}
	// Every goroutine below belongs to g; bg ends when the supervisor does
	// (or on an early return), which ends them all.
	g, gctx := errgroup.WithContext(ctx)
	bg, stopBG := context.WithCancel(gctx)
	defer func() { stopBG(); _ = g.Wait() }()
	// Reaping from now: as PID 1, orphans are ours during the start-up wait
	// too.
	g.Go(func() error { return r.Run(bg) })
	if api != nil {
		// From the start: events during the first wait count.
		g.Go(func() error { return api.Events(bg) })
	}
	// Signals pass through relay to the supervisor. Until Traefik starts, a
	// stop signal also ends the start-up at once (waiting up to
	// TRAEFIK_RANCHER_WAIT for Rancher, then starting Traefik only to stop
	// it, would outlast the orchestrator's stop timeout), and the others are
	// dropped.
	relay := make(chan os.Signal, 32)
	startCtx, cancelStart := context.WithCancel(bg)
	defer cancelStart()
	var starting atomic.Bool
	var stoppedEarly atomic.Value // os.Signal
	starting.Store(true)
	g.Go(func() error {
		for {
			select {
			case <-bg.Done():
				return nil
			case sig := <-sigs:
				if starting.Load() {
					if !supervisor.IsStop(sig) {
						// Nothing to pass it to yet, and nothing to do for it:
						// Traefik reads every file when it starts (a HUP's
						// reload), and opens its logs then (a USR1's).
						log.Info("signal before Traefik started; ignored", "signal", sig.String())
						continue
					}
					stoppedEarly.Store(sig)
					cancelStart()
				}
				select {
				case relay <- sig:
				case <-bg.Done():
					return nil
				}
			}
		}
	})
	if pub != nil {
		// The first routes are in place before Traefik starts.
		pub.First(startCtx, cfg.RancherWait)
	}
	starting.Store(false)
	if sig, ok := stoppedEarly.Load().(os.Signal); ok {
		log.Info("stop requested before Traefik started; exiting", "signal", sig.String())
		return nil
	}
	sup := newSupervisor(e, cfg, log, r, path)
	logBudget(log, cfg, sup.Budget())

	g.Go(func() error { return cw.Run(bg) })
	if pub != nil {
		g.Go(func() error { return pub.Run(bg) })
	}
	var code int
	g.Go(func() error {
		defer stopBG()
		var err error
		code, err = sup.Run(gctx, relay)
		return err
	})
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	log.Info("rancher-traefik exiting", "code", code, "orphans_reaped", r.Orphans())
	if code != 0 {
		return exitWith(code, nil)
	}
	return nil
}

// keepsDeathSignal warns when the kernel will clear Traefik's parent-death
// signal at its exec: it does so for a set-user-ID or set-group-ID binary,
// or one with file capabilities (prctl(2), PR_SET_PDEATHSIG).
func keepsDeathSignal(log *slog.Logger, path string) {
	why := ""
	if fi, err := os.Stat(path); err == nil && fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
		why = "it is set-user-ID or set-group-ID"
	} else if _, err := unix.Getxattr(path, "security.capability", nil); err == nil {
		why = "it has file capabilities (setcap)"
	}
	if why != "" {
		log.Warn("TRAEFIK_BINARY: "+why+", so the kernel clears its parent-death signal: if rancher-traefik is killed (kill -9), Traefik may outlive it", "path", path)
	}
}

// newSupervisor is Traefik's supervisor, as the configuration says.
func newSupervisor(e env, cfg *config.Config, log *slog.Logger, r *reaper.Reaper, path string) *supervisor.Supervisor {
	keepsDeathSignal(log, path)
	trampoline := "/proc/self/exe" // so that Traefik's first instants are safe from signals
	if err := unix.Access(trampoline, unix.X_OK); err != nil {
		log.Warn("cannot exec /proc/self/exe: Traefik is started directly, and signals in its first instants may kill it", "err", err)
		trampoline = ""
	}
	return supervisor.New(supervisor.Options{
		Path:         path,
		Args:         []string{"--configFile=" + cfg.StaticFile()},
		Env:          childEnv(e.lookup, cfg.ChildEnv),
		Trampoline:   trampoline,
		ReadyTimeout: supervisor.DefaultReadyTimeout,
		StopDelay:    cfg.StopDelay,
		StopGrace:    cfg.RequestAcceptGrace + cfg.GraceTimeout + time.Second,
		Restart:      supervisor.Policy(cfg.Restart),
		RestartMax:   cfg.RestartMax,
		BackoffMin:   cfg.RestartBackoff,
		BackoffMax:   30 * time.Second,
		HealthyAfter: time.Minute,
		Diagnose:     func() string { return portsInUse(cfg) },
	}, r, log)
}

// certWatcher watches the files behind TRAEFIK_SSL_CERT and
// TRAEFIK_SSL_PRIVATE_KEY, and the extra NAME.crt/NAME.key pairs in
// $TRAEFIK_HOME/certs. Its Reload is set by reloadCerts once prepare has
// said what is served.
func certWatcher(cfg *config.Config, log *slog.Logger) *filewatch.Watcher {
	var files []string
	for _, v := range []string{"TRAEFIK_SSL_CERT", "TRAEFIK_SSL_PRIVATE_KEY"} {
		if src := cfg.Sources[v]; src.Kind == secrets.SourceFile || src.Kind == secrets.SourceAlias {
			files = append(files, src.Path)
		}
	}
	return &filewatch.Watcher{
		Files: files,
		// The main pair is written there by the reload itself.
		Globs:  []string{filepath.Join(cfg.CertsDir(), "*.crt"), filepath.Join(cfg.CertsDir(), "*.key")},
		Ignore: []string{certs.MainCert, certs.MainKey},
		Log:    log,
	}
}

// reloadCerts re-reads every pair. When all are valid, the main pair is
// written and tls.toml rewritten, so Traefik serves the new certificates
// without a restart; when any is invalid, nothing is written and the
// certificates served (from served on) stay as they were.
func reloadCerts(e env, log *slog.Logger, served servedCerts) func() error {
	return func() error {
		ncfg, err := readConfig(e.lookup)
		if err != nil {
			return err
		}
		pair, extras, problems := loadTLS(ncfg)
		if len(problems) > 0 {
			return &config.Error{Problems: problems}
		}
		changed, err := writeTLS(ncfg, render.Renderer{Dir: ncfg.TemplateDir}, pair, extras)
		if err != nil {
			return err
		}
		if !changed {
			return nil
		}
		now := servedOf(pair, extras)
		if now.extras != served.extras {
			var names []string
			for _, x := range extras {
				names = append(names, filepath.Base(x.CertFile))
				logExpiry(log, x.CertFile, x.Pair, time.Now())
			}
			log.Info("extra certificates reloaded", "pairs", len(extras), "files", strings.Join(names, ","))
		}
		if pair != nil && now.main != served.main {
			log.Info("certificate rotated", "names", strings.Join(pair.Names(), ","), "sha256", now.main, "not_after", pair.Leaf().NotAfter.UTC().Format(time.RFC3339))
			logExpiry(log, "TRAEFIK_SSL_CERT", pair, time.Now())
		}
		served = now
		return nil
	}
}

// servedCerts identifies the certificates served: the main leaf's
// fingerprint, and each extra pair's file and fingerprint.
type servedCerts struct{ main, extras string }

func servedOf(pair *certs.Pair, extras []certs.Extra) servedCerts {
	var s servedCerts
	if pair != nil {
		s.main = certs.Fingerprint(pair.Leaf())
	}
	var b strings.Builder
	for _, x := range extras {
		b.WriteString(x.CertFile + "=" + certs.Fingerprint(x.Pair.Leaf()) + " ")
	}
	s.extras = b.String()
	return s
}

// portsInUse names the entry point ports another process holds: the most
// common reason Traefik keeps exiting at start.
func portsInUse(cfg *config.Config) string {
	ports := []struct {
		name string
		port int
	}{{"TRAEFIK_HTTP_PORT", cfg.HTTPPort}, {"TRAEFIK_ADMIN_PORT", cfg.AdminPort}}
	if cfg.HTTPSEnabled() {
		ports = append(ports, struct {
			name string
			port int
		}{"TRAEFIK_HTTPS_PORT", cfg.HTTPSPort})
	}
	var taken []string
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddress, strconv.Itoa(p.port)))
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				taken = append(taken, fmt.Sprintf("port %d (%s) is already in use", p.port, p.name))
			}
			continue
		}
		l.Close()
	}
	return strings.Join(taken, "; ")
}

// logSources says where each secret came from (never what it is).
func logSources(log *slog.Logger, cfg *config.Config) {
	for _, v := range config.Vars {
		if src, ok := cfg.Sources[v.Name]; ok {
			log.Info("secret resolved", "variable", v.Name, "from", src.String())
		}
	}
}

// logBudget states how long a stop can take and warns when the orchestrator
// allows less.
func logBudget(log *slog.Logger, cfg *config.Config, budget time.Duration) {
	parts := []string{}
	if cfg.StopDelay > 0 {
		parts = append(parts, "TRAEFIK_STOP_DELAY="+cfg.StopDelay.String())
	}
	if cfg.RequestAcceptGrace > 0 {
		parts = append(parts, "TRAEFIK_REQUEST_ACCEPT_GRACE="+cfg.RequestAcceptGrace.String())
	}
	parts = append(parts, "TRAEFIK_GRACE_TIMEOUT="+cfg.GraceTimeout.String(), "margin 2s")
	log.Info("stop budget", "total", budget.String(), "made_of", strings.Join(parts, " + "), "stop_timeout", cfg.StopTimeout.String())
	if budget > cfg.StopTimeout {
		log.Warn(fmt.Sprintf("the stop budget (%s) exceeds TRAEFIK_STOP_TIMEOUT (%s): the orchestrator may kill Traefik before in-flight requests finish. Raise the stop timeout (docker stop -t, compose stop_grace_period, Rancher's stop timeout) and TRAEFIK_STOP_TIMEOUT to match, or lower TRAEFIK_GRACE_TIMEOUT", budget, cfg.StopTimeout))
	}
}
