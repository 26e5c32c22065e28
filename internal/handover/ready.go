package handover

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ProbePath is what Ready asks the probe entry point for.
const ProbePath = "/ping"

// readyPoll is how often Ready asks: Traefik applies its first
// configuration tens to hundreds of milliseconds after it starts.
const readyPoll = 10 * time.Millisecond

// Ready waits until g's Traefik answers ProbePath on its probe entry point
// with 200, or ctx ends. The router that answers is the file provider's
// (a file of the dynamic directory routes the probe entry point to
// ping@internal): it exists once the file provider's configuration — the
// whole directory, routes and certificates, one message — is applied.
// Before then the entry point answers 404 (no router), and before Traefik
// starts its entry points the connection waits in the backlog. Then each
// entry point with a Check is asked, through g's own socket (checkAll).
func (g *Generation) Ready(ctx context.Context) error {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	url := "http://" + g.probeA + ProbePath
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g.h.checkAll(ctx, g)
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the new Traefik has not applied its configuration (probe %s: %s): %w", url, last, ctx.Err())
		case <-t.C:
		}
	}
}
