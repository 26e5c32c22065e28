package cli

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"rancher-traefik/internal/app"
)

func newWhoamiCmd(a *app.App) *cobra.Command {
	var listen, name string
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Serve a tiny HTTP backend that answers with its name (for the demo and the compose example)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				name, _ = os.Hostname()
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return ran(app.Kind(app.ErrConfig, fmt.Errorf("--listen: %w", err)))
			}
			srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "I am %s\nHost: %s\nPath: %s\nX-Forwarded-For: %s\n", name, r.Host, r.URL.Path, r.Header.Get("X-Forwarded-For"))
			})}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			fmt.Fprintf(a.Stderr, "whoami %s listening on %s\n", name, l.Addr())
			if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
				return ran(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", ":80", "address to listen on")
	cmd.Flags().StringVar(&name, "name", "", "name to answer with (default: the hostname)")
	return exitCodes(cmd, app.ExitOK, app.ExitFailure, app.ExitUsage, app.ExitConfig)
}
