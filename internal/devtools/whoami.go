package devtools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newWhoamiCmd(stderr io.Writer) *cobra.Command {
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
				return fail(fmt.Errorf("--listen: %w", err))
			}
			// In a container it is PID 1, which has no default action for
			// SIGTERM: stop on it explicitly.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			fmt.Fprintf(stderr, "whoami %s listening on %s\n", name, l.Addr())
			return fail(serveWhoami(ctx, l, name))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", ":80", "address to listen on")
	cmd.Flags().StringVar(&name, "name", "", "name to answer with (default: the hostname)")
	return cmd
}

// serveWhoami answers every request on l with name and what it saw of the
// request, until ctx ends.
func serveWhoami(ctx context.Context, l net.Listener, name string) error {
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "I am %s\nHost: %s\nPath: %s\nX-Forwarded-For: %s\n", name, r.Host, r.URL.Path, r.Header.Get("X-Forwarded-For"))
	})}
	defer context.AfterFunc(ctx, func() { _ = srv.Close() })()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
