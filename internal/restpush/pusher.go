// Package restpush delivers the routes to Traefik's REST provider
// (TRAEFIK_ROUTES_DELIVERY=rest): it keeps the configuration that should
// be live, pushes it whenever it changes and whenever a Traefik starts,
// and retries until Traefik has accepted it. Traefik keeps what it last
// accepted: a push that fails leaves the last good configuration live.
package restpush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"time"

	"rancher-traefik/internal/backoff"
)

// Path is where Traefik's REST provider takes a configuration (v3.6
// pkg/provider/rest: PUT /api/providers/{provider}, provider "rest").
const Path = "/api/providers/rest"

// Pusher pushes the routes to one REST endpoint.
type Pusher struct {
	// URL is the REST provider's endpoint, http://127.0.0.1:port/api/providers/rest.
	URL string
	// User and Password are the per-run credential of the REST entry
	// point's basic auth. Never logged.
	User, Password string
	Log            *slog.Logger
	// Client, if set, makes the requests (tests); the default has a timeout.
	Client *http.Client
	// MinRetry and MaxRetry bound the wait between tries (0: 10 ms, 1 s):
	// short at first, as a started Traefik opens its entry points within a
	// few hundred milliseconds.
	MinRetry, MaxRetry time.Duration

	mu       sync.Mutex
	body     []byte // the configuration to be live, JSON; nil: none yet
	want     uint64 // bumped by Set and Restarted
	accepted uint64 // want as of the last accepted push
	wake     chan struct{}
	once     sync.Once
	// pushed, if set, is told each accepted push's want (tests).
	pushed func(uint64)
}

// Set makes cfg, a routes tree, the configuration to be live: with its
// references to the file provider's objects qualified (qualifier; cfg is
// not changed), it is encoded as JSON (AppendRoutes: the bytes
// json.Marshal gives) and pushed by Run.
func (p *Pusher) Set(cfg map[string]any) error {
	if cfg == nil {
		cfg = map[string]any{}
	}
	b, err := AppendRoutes(make([]byte, 0, p.sizeHint()), cfg)
	if err != nil {
		return fmt.Errorf("encoding the routes as JSON: %w", err)
	}
	p.SetJSON(b)
	return nil
}

// sizeHint is the last configuration's size with room to grow: a change
// rarely adds more, and the body is then written without growing.
func (p *Pusher) sizeHint() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.body) + len(p.body)/16 + 512
}

// SetJSON makes b the configuration to be live, unless it is what is.
func (p *Pusher) SetJSON(b []byte) {
	p.mu.Lock()
	if bytes.Equal(b, p.body) {
		p.mu.Unlock()
		return
	}
	p.body = b
	p.want++
	p.mu.Unlock()
	p.signal()
}

// Restarted says a Traefik has started: it has no pushed configuration,
// and gets the current one as soon as its REST endpoint answers. It does
// not block.
func (p *Pusher) Restarted() {
	p.mu.Lock()
	p.want++
	p.mu.Unlock()
	p.signal()
}

func (p *Pusher) signal() {
	select {
	case p.wakeCh() <- struct{}{}:
	default:
	}
}

func (p *Pusher) wakeCh() chan struct{} {
	p.once.Do(func() { p.wake = make(chan struct{}, 1) })
	return p.wake
}

// Run pushes until ctx ends.
func (p *Pusher) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.wakeCh():
		}
		p.pushUntilAccepted(ctx)
	}
}

// pending is the configuration to push and its want, or false when
// Traefik has accepted the latest (or there is none yet).
func (p *Pusher) pending() ([]byte, uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.body == nil || p.accepted == p.want {
		return nil, 0, false
	}
	return p.body, p.want, true
}

func (p *Pusher) accept(want uint64) {
	p.mu.Lock()
	if want > p.accepted {
		p.accepted = want
	}
	p.mu.Unlock()
	if p.pushed != nil {
		p.pushed(want)
	}
}

// pushUntilAccepted pushes the pending configuration until Traefik
// accepts it, trying again after a backoff, or at once when there is a
// newer one.
func (p *Pusher) pushUntilAccepted(ctx context.Context) {
	retry := backoff.Backoff{Min: or(p.MinRetry, 10*time.Millisecond), Max: or(p.MaxRetry, time.Second)}
	failures := 0
	var firstFailure time.Time
	warned := false
	for ctx.Err() == nil {
		body, want, ok := p.pending()
		if !ok {
			return
		}
		start := time.Now()
		err := p.put(ctx, body)
		if err == nil {
			p.accept(want)
			p.logAccepted(failures, len(body), time.Since(start))
			failures, warned = 0, false
			retry.Reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if failures == 0 {
			firstFailure = time.Now()
		}
		failures++
		p.logFailure(failures, time.Since(firstFailure), err, &warned)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryDelay(&retry, err)):
		case <-p.wakeCh():
		}
	}
}

// startingRetry caps the wait while Traefik is starting: a loopback
// request costs nothing, and every moment waited past the one its REST
// router is applied is a moment a restarted Traefik serves no Rancher
// routes.
const startingRetry = 50 * time.Millisecond

// retryDelay is the backoff's next delay, at most startingRetry while
// Traefik is starting.
func retryDelay(b *backoff.Backoff, err error) time.Duration {
	d := b.Next()
	if starting(err) {
		d = min(d, startingRetry)
	}
	return d
}

func (p *Pusher) logAccepted(failures, size int, took time.Duration) {
	args := []any{"component", "restpush", "bytes", size, "took", took.Round(time.Millisecond).String()}
	if failures > 0 {
		p.Log.Info("Traefik accepted the routes", append(args, "after_failures", failures)...)
		return
	}
	p.Log.Debug("Traefik accepted the routes", args...)
}

// logFailure logs the nth failed push in a row, failing for that long:
// a Traefik that is starting refuses the connection for a while, then
// answers 404 until its file provider has routed the REST entry point,
// which is expected and logged at debug level for up to startingQuiet;
// anything else, and a start that lasts longer, is a warning, the first
// time and then every 30 tries.
func (p *Pusher) logFailure(n int, failing time.Duration, err error, warned *bool) {
	args := []any{"component", "restpush", "try", n, "err", err}
	switch {
	case starting(err) && failing < startingQuiet:
		p.Log.Debug("Traefik's REST provider is not answering yet; retrying", args...)
	case !*warned || n%30 == 0:
		*warned = true
		p.Log.Warn("pushing the routes to Traefik's REST provider failed; the last configuration it accepted stays live, retrying", args...)
	default:
		p.Log.Debug("pushing the routes failed again", args...)
	}
}

// startingQuiet is how long a starting Traefik's refusals are expected
// (its start, under load, with a large configuration to apply).
const startingQuiet = 10 * time.Second

// put sends body and reads Traefik's answer: 200 is accepted; anything
// else is an error that names the status, never the credential or the
// body (label values).
func (p *Pusher) put(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("REST provider request: %w", err)
	}
	req.SetBasicAuth(p.User, p.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client().Do(req)
	if err != nil {
		return err // *url.Error: the URL and the cause, no credential
	}
	defer resp.Body.Close()
	// Traefik answers with the configuration it decoded: drained, not kept.
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &StatusError{URL: p.URL, Status: resp.Status, Code: resp.StatusCode}
	}
	return nil
}

// StatusError is Traefik's answer to a push other than 200.
type StatusError struct {
	URL, Status string
	Code        int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("PUT %s: %s (Traefik's log says why)", e.URL, e.Status)
}

// starting reports whether err is what a Traefik that is starting gives:
// a refused connection, or 404 (its entry points are open, the file
// provider's router of the REST entry point is not applied yet).
func starting(err error) bool {
	var se *StatusError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &se) && se.Code == http.StatusNotFound
}

func (p *Pusher) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return defaultClient
}

// defaultClient's timeout covers a 10,000-service configuration (a few
// MB each way) on a busy machine.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
