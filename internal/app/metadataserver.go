package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"rancher-traefik/internal/filewatch"
	"rancher-traefik/internal/metadataserver"
)

// MetadataServer is what ServeMetadata serves.
type MetadataServer struct {
	Answers string // answers or stack file
	Listen  string // address to serve on
	XFF     bool   // take the client address from X-Forwarded-For
	APIKeys string // ACCESS:SECRET: also serve the Rancher server API
}

// ServeMetadata emulates rancher-metadata from an answers file until ctx
// ends or SIGTERM/SIGINT. It reloads the file when it changes or on SIGHUP.
func (a *App) ServeMetadata(ctx context.Context, o MetadataServer) error {
	log := NewLogger(a.Stderr, "INFO", "text")
	ans, err := metadataserver.Load(o.Answers)
	if err != nil {
		return Kind(ErrConfig, fmt.Errorf("--answers: %w", err))
	}
	srv := metadataserver.New(ans, log)
	srv.XFF = o.XFF
	if o.APIKeys != "" {
		access, secret, ok := strings.Cut(o.APIKeys, ":")
		if !ok || access == "" || secret == "" {
			return Kind(ErrUsage, fmt.Errorf("--api-keys: want ACCESS:SECRET"))
		}
		srv.API = &metadataserver.APIKeys{Access: access, Secret: secret}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	reload := func() error {
		ans, err := metadataserver.Load(o.Answers)
		if err != nil {
			return err
		}
		srv.Set(ans)
		return nil
	}
	// Primed now: an edit made while the server starts counts.
	w := &filewatch.Watcher{Files: []string{o.Answers}, Reload: reload, Log: log, Settle: 50 * time.Millisecond, Poll: 2 * time.Second,
		Rejected: "the new answers file is invalid; still serving the previous one"}
	w.Prime()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.ListenAndServe(gctx, o.Listen) })
	g.Go(func() error { return w.Run(gctx) })
	g.Go(func() error {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-hup:
				if err := reload(); err != nil {
					log.Error("reload on SIGHUP failed; still serving the previous answers", "err", err)
				}
			}
		}
	})
	return g.Wait()
}
