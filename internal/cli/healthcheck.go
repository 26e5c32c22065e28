package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/config"
)

func newHealthcheckCmd(e env) *cobra.Command {
	var (
		timeout time.Duration
		target  string
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when Traefik's /ping answers 200 on the admin port, else 1 with the reason",
		Long: `healthcheck asks Traefik's /ping on the admin entry point, for Docker's
HEALTHCHECK and Rancher's health check (no curl needed in the image). It reads
the same environment as run to find the port. With --url it asks that URL
instead: the health check of the image's other role (metadata-server) and
of the examples' whoami backends, which inherit the image's HEALTHCHECK.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, err := readConfig(e.lookup)
				if err != nil {
					return exitWith(1, fmt.Errorf("unhealthy: the environment is invalid: %w", err))
				}
				target = pingURL(cfg)
			} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return exitWith(ExitUsage, fmt.Errorf("--url %q is not an http(s) URL", target))
			}
			if err := ping(cmd.Context(), target, timeout); err != nil {
				return exitWith(1, fmt.Errorf("unhealthy: %w", err))
			}
			fmt.Fprintln(e.stdout, "healthy")
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	cmd.Flags().StringVar(&target, "url", "", "ask this http(s) URL for a 200 instead of Traefik's /ping (e.g. http://127.0.0.1:8090/latest/version for metadata-server)")
	return cmd
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
