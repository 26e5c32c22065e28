package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/supervisor"
)

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

// portsInUse names the entry point ports another process holds: the most
// common reason Traefik keeps exiting at start. restPort, if not 0, is the
// REST entry point's (TRAEFIK_ROUTES_DELIVERY=rest), on 127.0.0.1: chosen
// free as the run started, another process may have taken it since.
func portsInUse(cfg *config.Config, restPort int) string {
	type port struct {
		name, host string
		port       int
	}
	ports := []port{{"TRAEFIK_HTTP_PORT", cfg.BindAddress, cfg.HTTPPort}, {"TRAEFIK_ADMIN_PORT", cfg.BindAddress, cfg.AdminPort}}
	if cfg.HTTPSEnabled() {
		ports = append(ports, port{"TRAEFIK_HTTPS_PORT", cfg.BindAddress, cfg.HTTPSPort})
	}
	if restPort != 0 {
		ports = append(ports, port{"the REST entry point of TRAEFIK_ROUTES_DELIVERY=rest, chosen free at start", "127.0.0.1", restPort})
	}
	var taken []string
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(p.port)))
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				taken = append(taken, fmt.Sprintf("port %d (%s) is already in use", p.port, p.name))
			}
			continue
		}
		l.Close()
	}
	for _, ep := range cfg.EntryPoints {
		addr := net.JoinHostPort(cfg.BindAddress, strconv.Itoa(ep.Port))
		var c io.Closer
		var err error
		if ep.Proto == "udp" {
			c, err = net.ListenPacket("udp", addr)
		} else {
			c, err = net.Listen("tcp", addr)
		}
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				taken = append(taken, fmt.Sprintf("%s port %d (TRAEFIK_ENTRYPOINTS %s) is already in use", ep.Proto, ep.Port, ep.Name))
			}
			continue
		}
		c.Close()
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
