package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/config"
)

func newHealthcheckCmd(e env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when Traefik's /ping answers 200 on the admin port, else 1 with the reason",
		Long: `healthcheck asks Traefik's /ping on the admin entry point, for Docker's
HEALTHCHECK and Rancher's health check (no curl needed in the image). It reads
the same environment as run to find the port.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.FromEnv(e.lookup)
			if err != nil {
				return exitWith(1, fmt.Errorf("unhealthy: the environment is invalid: %w", err))
			}
			if err := ping(cmd.Context(), cfg, timeout); err != nil {
				return exitWith(1, fmt.Errorf("unhealthy: %w", err))
			}
			fmt.Fprintln(e.stdout, "healthy")
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
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

func ping(ctx context.Context, cfg *config.Config, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := pingURL(cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}).Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not answer within %s", url, timeout)
		}
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
