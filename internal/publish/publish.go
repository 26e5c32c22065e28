// Package publish keeps Traefik's Rancher routes current: it watches the
// metadata version (long-poll), rebuilds the routes after a short quiet
// period, and writes them atomically — keeping the last good file through
// errors, timeouts, empty or truncated answers and sudden mass removals.
package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
)

// Source is where snapshots come from (the metadata service).
type Source interface {
	Snapshot(ctx context.Context) (*rancher.Snapshot, error)
	WaitVersion(ctx context.Context, old string, maxWait int) (string, error)
}

// Publisher writes the routes of the current snapshot to Path.
type Publisher struct {
	Source   Source
	Options  routes.Options
	Path     string
	Refresh  int           // long-poll maxWait, seconds
	Debounce time.Duration // quiet period after a change
	Guard    float64       // fraction of routers a single answer may remove
	Log      *slog.Logger

	version  string
	last     map[string]any // the configuration published last
	pending  []byte         // a mass removal awaiting a second answer
	warnings map[string]bool
}

// First publishes the first snapshot, trying until wait has passed. Without
// an answer it returns nil anyway: Traefik starts with the routes it has
// (a rancher.toml left by an earlier run stays), and Run keeps trying.
func (p *Publisher) First(ctx context.Context, wait time.Duration) {
	log := p.log()
	start := time.Now()
	deadline := start.Add(wait)
	delay := 200 * time.Millisecond
	for {
		err := p.refresh(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return // stopping: Traefik will not start
		}
		if time.Now().Add(delay).After(deadline) {
			log.Warn("no answer from Rancher yet: starting Traefik without fresh Rancher routes; they follow as soon as Rancher answers", "waited", time.Since(start).Round(time.Millisecond).String(), "limit", wait.String(), "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

func (p *Publisher) log() *slog.Logger { return p.Log.With("component", "publish") }

// Run watches for changes until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	log := p.log()
	// The metadata service runs on every host: retry it often, so routes
	// follow within seconds once it is back.
	const minBackoff, maxBackoff = 500 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	failures := 0 // in a row
	for ctx.Err() == nil {
		maxWait := p.Refresh
		if p.pending != nil {
			maxWait = 1 // confirm a mass removal soon
		}
		old := p.version
		if old == "" {
			old = "init"
		}
		v, err := p.Source.WaitVersion(ctx, old, maxWait)
		if err == nil && (v != p.version || p.pending != nil) {
			if v != p.version {
				p.settle(ctx, v)
			}
			err = p.refresh(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// One failure is retried quietly: a blip (or Rancher's metadata
			// stopping beside us) is not an outage; the second is reported.
			failures++
			switch failures {
			case 1:
				log.Debug("Rancher did not answer; retrying", "err", err)
			case 2:
				log.Warn("Rancher is not answering; keeping the last good routes", "err", err)
			default:
				log.Debug("Rancher still not answering", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(jitter(backoff)):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		if failures >= 2 {
			log.Info("Rancher answers again")
		}
		failures, backoff = 0, minBackoff
	}
	return nil
}

// settle waits for a quiet period after a change: a burst of version bumps
// (a service scaled by several containers) is published once. It waits at
// most ten quiet periods.
func (p *Publisher) settle(ctx context.Context, v string) {
	if p.Debounce <= 0 {
		return
	}
	deadline := time.Now().Add(10 * p.Debounce)
	for time.Now().Before(deadline) {
		wctx, cancel := context.WithTimeout(ctx, p.Debounce)
		nv, err := p.Source.WaitVersion(wctx, v, 1)
		cancel()
		if err != nil || nv == v {
			return // quiet (the short wait timed out) or unreachable
		}
		v = nv
	}
}

// refresh fetches a snapshot and publishes it.
func (p *Publisher) refresh(ctx context.Context) error {
	snap, err := p.Source.Snapshot(ctx)
	if err != nil {
		return err
	}
	return p.publish(snap)
}

func (p *Publisher) publish(snap *rancher.Snapshot) error {
	log := p.log()
	res := routes.Build(snap, p.Options)
	p.logWarnings(res.Warnings)
	b, err := routes.Encode(res.Config)
	if err != nil {
		return err
	}
	if p.last == nil {
		p.last = p.loadExisting()
	}
	oldRouters := routes.Routers(p.last)
	newRouters := routes.Routers(res.Config)
	removed := diff(oldRouters, newRouters)
	if p.Guard > 0 && len(oldRouters) > 0 && float64(len(removed)) > p.Guard*float64(len(oldRouters)) {
		if p.pending == nil || string(p.pending) != string(b) {
			p.pending = b
			log.Warn("an answer removes most routes; keeping them until a second answer agrees", "removes", len(removed), "of", len(oldRouters), "services", len(snap.Services))
			p.version = snap.Version
			return nil
		}
		log.Info("a second answer agrees: applying the removal", "removes", len(removed))
	}
	p.pending = nil
	// Credential files first (the new configuration names them), stale ones
	// once it is in place.
	if _, err := writeCredentials(p.Options.CredentialDir, res.Credentials); err != nil {
		return err
	}
	changed, err := atomicfile.Write(p.Path, b, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p.Path, err)
	}
	p.removeStaleCredentials(res.Credentials)
	if changed {
		added := diff(newRouters, oldRouters)
		var modified []string
		for _, r := range newRouters {
			if contains(oldRouters, r) && fingerprint(p.last, r) != fingerprint(res.Config, r) {
				modified = append(modified, r)
			}
		}
		servers := 0
		for _, n := range res.Servers {
			servers += n
		}
		// Names and counts only: label values (basic-auth hashes) stay out.
		log.Info("routes changed", "version", snap.Version, "routers", len(newRouters), "servers", servers,
			"added", strings.Join(added, ","), "removed", strings.Join(removed, ","), "changed", strings.Join(modified, ","))
	}
	p.last = res.Config
	p.version = snap.Version
	return nil
}

// loadExisting reads the routers of a file left by an earlier run (for the
// guard's first comparison).
func (p *Publisher) loadExisting() map[string]any {
	b, err := os.ReadFile(p.Path)
	if err != nil {
		return map[string]any{}
	}
	var m map[string]any
	if err := decodeTOML(b, &m); err != nil {
		return map[string]any{}
	}
	return m
}

// logWarnings logs each warning once, until it goes away.
func (p *Publisher) logWarnings(ws []routes.Warning) {
	now := map[string]bool{}
	for _, w := range ws {
		s := w.String()
		now[s] = true
		if !p.warnings[s] {
			p.log().Warn("service left out", "stack", w.Stack, "service", w.Service, "label", w.Label, "problem", w.Msg)
		}
	}
	p.warnings = now
}

// fingerprint is a router's configuration and its service's.
func fingerprint(cfg map[string]any, router string) string {
	proto, name, _ := strings.Cut(router, "/")
	p, _ := cfg[proto].(map[string]any)
	rs, _ := p["routers"].(map[string]any)
	r, _ := rs[name].(map[string]any)
	ss, _ := p["services"].(map[string]any)
	svcName, _ := r["service"].(string)
	b, _ := json.Marshal([]any{r, ss[svcName]})
	return string(b)
}

func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
