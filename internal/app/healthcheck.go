package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"rancher-traefik/internal/config"
)

// Healthcheck asks target for a 200 within timeout, and prints "healthy";
// with no target, Traefik's /ping on the admin port the environment names.
func (a *App) Healthcheck(ctx context.Context, target string, timeout time.Duration) error {
	if target == "" {
		cfg, err := readConfig(a.Lookup)
		if err != nil {
			return Kind(ErrUnhealthy, fmt.Errorf("unhealthy: the environment is invalid: %w", err))
		}
		target = pingURL(cfg)
	} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Kind(ErrUsage, fmt.Errorf("--url %q is not an http(s) URL", target))
	}
	if err := ping(ctx, target, timeout); err != nil {
		return Kind(ErrUnhealthy, fmt.Errorf("unhealthy: %w", err))
	}
	fmt.Fprintln(a.Stdout, "healthy")
	return nil
}

// pingURL is where Traefik answers /ping: the admin port on the bind
// address, or loopback when it listens on every address.
func pingURL(cfg *config.Config) string {
	host := cfg.BindAddress
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.AdminPort)) + "/ping"
}

func ping(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}).Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not answer within %s", target, timeout)
		}
		return fmt.Errorf("%s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", target, resp.Status)
	}
	return nil
}
