// Package publish keeps Traefik's Rancher routes current: it watches the
// metadata version (long-poll), rebuilds the routes after a short quiet
// period, and writes them atomically — keeping the last good file through
// errors, timeouts, empty or truncated answers, and holding back sudden
// mass removals (guard.go).
package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"rancher-traefik/internal/backoff"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/restpush"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/tomlenc"
)

// Source is where snapshots come from (the metadata service). A snapshot
// it returns is the publisher's: its build lets go of each service's
// labels and containers once translated (routes.EncodeOptions.Release),
// so a source must not hand out the same services twice.
type Source interface {
	Snapshot(ctx context.Context) (*rancher.Snapshot, error)
	WaitVersion(ctx context.Context, old string, maxWait int) (string, error)
}

// Publisher writes the routes of the current snapshot to Path.
type Publisher struct {
	Source  Source
	Options routes.Options
	Path    string
	// Stage is where the routes file's temporary file is made: outside the
	// directory Traefik watches, on its file system (see write.go).
	Stage    string
	Refresh  int           // long-poll maxWait, seconds
	Debounce time.Duration // quiet period after a change
	// Guard is the fraction of the routers whose removal by one answer is
	// a mass removal (that fraction or more); 0 turns the guard off.
	Guard float64
	// GuardHold is how long a mass removal is held (see guard.go); 0
	// applies it at once.
	GuardHold time.Duration
	Log       *slog.Logger
	// Resolver, if set, says whether the running Traefik has the acme
	// certificate resolver. When it says no (a follower of cluster-wide
	// ACME), routers lose tls.certResolver=acme and keep their TLS: served
	// from the certificates the issuer publishes, without Traefik's
	// "nonexistent certificate resolver" error for each at every apply.
	Resolver func() bool
	// Kick asks for a publish now, Resolver's answer having changed; the
	// channel sent is closed once it is done (written or failed).
	Kick chan chan struct{}
	// Deliver, if set, is handed each configuration written to Path
	// (TRAEFIK_ROUTES_DELIVERY=rest: it is pushed to Traefik's REST
	// provider, Path being the durable copy), as the JSON the REST
	// provider takes (restpush.AppendRoutes's): after the credential
	// files and before Path is written (a held removal's union, which
	// exists only as TOML, after); when the write then fails, it is handed
	// Path's configuration again (undeliver). It may keep body.
	Deliver func(body []byte) error

	version   string
	loaded    bool         // the file left by an earlier run was read
	goodIndex routerIndex  // the last answer applied in full: the guard's baseline
	lastIndex routerIndex  // the configuration in the file
	heldFile  []byte       // while a removal is held: the file it began on
	held      *heldRemoval // a mass removal being held
	warnings  map[string]bool
	now       func() time.Time // tests: the guard's clock
	stages    stages           // how long the last publish took, by stage
	release   *time.Timer      // the memory of the last large publish, to return (releaseMemory)
	refreshed time.Time        // when the last refresh ended (clock): a change after a quiet spell is not debounced
}

// stages times one publish: the benchmark and the debug log report them.
type stages struct {
	fetch   time.Duration // request and decode of the metadata tree
	build   time.Duration // routes.BuildEncoded: each service translated, its items encoded
	diff    time.Duration // the guard's judgement and the change log's
	encode  time.Duration // the routes file assembled from the items (TOML)
	write   time.Duration // the routes file (and a held union's hand-over)
	deliver time.Duration // credential files, and Deliver's hand-over (REST delivery's JSON)
}

// First publishes the first snapshot, trying until wait has passed: every
// request is cut at that deadline, so a Rancher that accepts connections
// and never answers delays Traefik's start by wait, not by a request's own
// timeout. Without an answer it returns anyway: Traefik starts with the
// routes it has (a rancher.toml left by an earlier run stays), and Run
// keeps trying.
func (p *Publisher) First(ctx context.Context, wait time.Duration) {
	log := p.log()
	start := time.Now()
	deadline := start.Add(wait)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// Without jitter, as always: these retries end at the deadline anyway.
	retry := backoff.Backoff{Min: 200 * time.Millisecond, Max: 2 * time.Second}
	for {
		err := p.refresh(wctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return // stopping: Traefik will not start
		}
		if wctx.Err() != nil || time.Now().Add(retry.Delay()).After(deadline) {
			msg := "no answer from Rancher yet: starting Traefik without fresh Rancher routes; they follow as soon as Rancher answers"
			if errors.As(err, new(publishError)) {
				msg = "Rancher answered but the routes could not be published: starting Traefik without fresh Rancher routes; they follow once they can be"
			}
			log.Warn(msg, "waited", time.Since(start).Round(time.Millisecond).String(), "limit", wait.String(), "err", err)
			return
		}
		if !retry.Wait(ctx) {
			return
		}
	}
}

func (p *Publisher) log() *slog.Logger { return p.Log.With("component", "publish") }

// Run watches for changes until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	defer p.cancelRelease()
	log := p.log()
	// The metadata service runs on every host: retry it often, so routes
	// follow within seconds once it is back.
	retry := backoff.New(500*time.Millisecond, 5*time.Second)
	failures := 0 // in a row
	var last error
	for ctx.Err() == nil {
		v, due, ack, err := p.waitKick(ctx)
		if err == nil && (v != p.version || due) {
			if v != p.version && !p.isolated() {
				p.settle(ctx, v)
			}
			err = p.refresh(ctx)
		}
		if ack != nil {
			close(ack)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// One failure is retried quietly: a blip (or Rancher's metadata
			// stopping beside us) is not an outage; the second is reported.
			failures, last = failures+1, err
			logFailure(log, failures, err)
			if !retry.Wait(ctx) {
				return nil
			}
			continue
		}
		if failures >= 2 && errors.As(last, new(publishError)) {
			log.Info("the routes are published again")
		} else if failures >= 2 {
			log.Info("Rancher answers again")
		}
		failures = 0
		retry.Reset()
	}
	return nil
}

// logFailure logs a failed refresh, the failures'th in a row: one is
// retried quietly (a blip, or Rancher's metadata stopping beside us, is
// not an outage), the second is reported. A failure after Rancher answered
// (the routes not written or not delivered) says so, not that Rancher is
// down.
func logFailure(log *slog.Logger, failures int, err error) {
	msgs := [3]string{"Rancher did not answer; retrying", "Rancher is not answering; keeping the last good routes", "Rancher still not answering"}
	if errors.As(err, new(publishError)) {
		msgs = [3]string{"the routes could not be published; retrying", "the routes could not be published; keeping the last good routes", "the routes still could not be published"}
	}
	switch failures {
	case 1:
		log.Debug(msgs[0], "err", err)
	case 2:
		log.Warn(msgs[1], "err", err)
	default:
		log.Debug(msgs[2], "err", err)
	}
}

// publishError is a refresh's failure after Rancher answered: building,
// writing or delivering the routes.
type publishError struct{ err error }

func (e publishError) Error() string { return e.err.Error() }
func (e publishError) Unwrap() error { return e.err }

// wait long-polls for a version other than the one published. While a
// removal is held it returns at the end of the hold too (due), so the
// source is asked whether the removal still stands.
func (p *Publisher) wait(ctx context.Context) (v string, due bool, err error) {
	old := p.version
	if old == "" {
		old = "init"
	}
	if p.held == nil {
		v, err = p.Source.WaitVersion(ctx, old, p.Refresh)
		return v, false, err
	}
	hctx, cancel := context.WithDeadline(ctx, p.held.until)
	defer cancel()
	v, err = p.Source.WaitVersion(hctx, old, p.Refresh)
	if err != nil && hctx.Err() != nil && ctx.Err() == nil {
		return p.version, true, nil
	}
	return v, false, err
}

// waitKick is wait, cut short by a Kick: then it returns the kick's ack
// channel and due.
func (p *Publisher) waitKick(ctx context.Context) (v string, due bool, ack chan struct{}, err error) {
	if p.Kick == nil {
		v, due, err = p.wait(ctx)
		return v, due, nil, err
	}
	select {
	case ack := <-p.Kick:
		return p.version, true, ack, nil
	default:
	}
	wctx, cancel := context.WithCancel(ctx)
	kicked := make(chan chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case ack := <-p.Kick:
			kicked <- ack
			cancel()
		case <-wctx.Done():
		}
	}()
	v, due, err = p.wait(wctx)
	cancel()
	wg.Wait()
	select {
	case ack := <-kicked:
		return p.version, true, ack, nil
	default:
		return v, due, nil, err
	}
}

// isolated reports whether a change comes a debounce period or more after
// the last refresh ended, in an environment of at most leadingEdgeRouters
// routers: it is published at once, and only changes that follow a
// publish closely (a burst's rest, seen as soon as the first is published)
// wait for a quiet period — a burst is written at most twice. Larger
// environments keep the debounce on every change: there a burst's second
// write is a second full apply by Traefik (seconds at 10,000 services),
// which the debounce's 25 ms saved on a single change cannot repay.
func (p *Publisher) isolated() bool {
	return len(p.lastIndex.routers) <= leadingEdgeRouters &&
		!p.refreshed.IsZero() && p.clock().Sub(p.refreshed) >= p.Debounce
}

// leadingEdgeRouters bounds isolated: up to 1,000 services (about one
// router each) BenchmarkChangeToLiveSettings measured single changes 25 to
// 35 ms faster and bursts 10 to 40 ms slower with the leading edge (README
// "Measured"); above, a burst's second apply costs more than a single
// change gains.
const leadingEdgeRouters = 2000

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
	defer func() { p.refreshed = p.clock() }()
	p.cancelRelease()
	t0 := time.Now()
	allocated := heapAllocs()
	first := p.version == "" // nothing published yet: start-up
	snap, err := p.Source.Snapshot(ctx)
	if err != nil {
		return err
	}
	fetch := time.Since(t0)
	if err = p.publish(snap); err != nil {
		err = publishError{err}
	}
	p.stages.fetch = fetch
	if (first && err == nil) || heapAllocs()-allocated >= releaseAfter {
		p.release = time.AfterFunc(releaseDelay, releaseMemory)
	}
	return err
}

// releaseAfter is the allocation of one publish above which its memory is
// returned to the system (a few hundred services; ten allocate about
// 0.2 MB, a thousand about 11 MB). The first publish's is returned
// whatever its size: with what start-up allocated before it (the
// configuration rendered, the certificates read), a few MB the process
// would otherwise keep while it idles.
const releaseAfter = 8 << 20

// releaseDelay is how long the memory of a large publish waits to be
// returned: a publish that begins meanwhile cancels it (and schedules its
// own), so a burst of changes pays for one collection, after it, rather
// than one each (about 30 ms at 10,000 services), and the next long-poll
// is not delayed by it.
const releaseDelay = time.Second

// releaseMemory returns the heap to the system. A large environment's
// publish allocates many times what it keeps (the tree as it arrives, the
// snapshot, the configuration tree, its encoding), and the process then
// idles until the next change: with no allocation there is no collection
// to lower the heap's goal, and the runtime keeps the heap for minutes.
// The collection is of what is kept (router indexes), after the file is
// written; the encoder's buffers, kept for the next change, go first.
func releaseMemory() {
	tomlenc.Release()
	debug.FreeOSMemory()
}

// cancelRelease cancels a pending releaseMemory.
func (p *Publisher) cancelRelease() {
	if p.release != nil {
		p.release.Stop()
		p.release = nil
	}
}

// heapAllocs is the bytes allocated on the heap since the process began.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func (p *Publisher) publish(snap *rancher.Snapshot) error {
	var st stages
	l := lapper{time.Now()}
	version := snap.Version // the snapshot is not kept past the build
	enc := p.build(snap)
	p.logWarnings(enc.Warnings)
	l.lap(&st.build)
	if !p.loaded {
		p.goodIndex, p.loaded = p.loadExisting(), true
		p.lastIndex = p.goodIndex
	}
	v := p.judge(enc)
	l.lap(&st.diff)
	// Credential files first (the new configuration names them).
	creds := enc.Credentials
	if _, err := writeCredentials(p.Options.CredentialDir, creds); err != nil {
		return err
	}
	delivered, err := p.deliverFirst(enc, v)
	if err != nil {
		return err
	}
	l.lap(&st.deliver)
	b, idx, changed, err := p.durable(enc, v, &st, &l)
	if err != nil {
		return p.undeliver(delivered, err)
	}
	if !delivered {
		if err := p.deliver(b); err != nil {
			return err
		}
	}
	// Stale credential files go once the configuration without them is in
	// place — not while a removal is held: the held routers still name the
	// files of the configuration before.
	if v.held == nil {
		p.removeStaleCredentials(creds)
	}
	l.lap(&st.write)
	if v.note != nil {
		v.note(p.log())
	}
	if changed {
		p.logChange(version, p.lastIndex, idx)
	}
	p.lastIndex = idx
	p.held = v.held
	if v.applied { // the answer is what was written: idx is its index
		p.goodIndex, p.heldFile = idx, nil
	}
	p.version = version
	l.lap(&st.diff)
	p.stages = st
	return nil
}

// lapper times a publish's stages: lap adds the time since the last lap
// to d.
type lapper struct{ t time.Time }

func (l *lapper) lap(d *time.Duration) {
	now := time.Now()
	*d += now.Sub(l.t)
	l.t = now
}

// build translates snap into its configuration's encodings: the routes
// file's, and the REST provider's when there is a Deliver. Without the
// acme resolver in the running Traefik (Resolver), routers lose
// tls.certResolver=acme.
func (p *Publisher) build(snap *rancher.Snapshot) *routes.Encoded {
	o := p.Options
	if p.Resolver != nil && !p.Resolver() {
		o.DropResolver = "acme"
	}
	e := routes.EncodeOptions{Release: true} // snap is the publisher's (Source), and not used after
	if p.Deliver != nil {
		e.JSON = restpush.AppendItem
	}
	return routes.BuildEncoded(snap, o, e)
}

// deliverFirst hands the configuration to Deliver before the durable copy
// is assembled and written, and reports whether it did: the push is what
// Traefik waits for, the file only what a restart reads (at 10,000
// services its encoding, index and write are about 0.1 s of a
// change→live of ~1.5 s). A held removal's union exists only as TOML: it
// is delivered once written (deliver).
func (p *Publisher) deliverFirst(enc *routes.Encoded, v verdict) (bool, error) {
	if p.Deliver == nil || v.union {
		return false, nil
	}
	body, err := restpush.AppendEncoded(make([]byte, 0, restpush.EncodedSize(enc)), enc)
	if err != nil {
		return false, fmt.Errorf("encoding the routes as JSON: %w", err)
	}
	enc.ReleaseJSON() // the body is the JSON from here
	return true, p.Deliver(body)
}

// durable assembles the routes file (with a held removal's routers when
// v says so), indexes it and writes it to Path. Only the file and its
// index live on.
func (p *Publisher) durable(enc *routes.Encoded, v verdict, st *stages, l *lapper) (b []byte, idx routerIndex, changed bool, err error) {
	if b, err = enc.TOML(); err != nil {
		return nil, routerIndex{}, false, err
	}
	if v.union {
		if b, err = p.unionHeld(b); err != nil {
			return nil, routerIndex{}, false, err
		}
	}
	l.lap(&st.encode)
	if idx, err = indexFor(enc, b, v.union); err != nil {
		return nil, routerIndex{}, false, fmt.Errorf("indexing the routes: %w", err)
	}
	l.lap(&st.diff)
	changed, err = p.writeRoutes(b)
	return b, idx, changed, err
}

// indexFor is the routers' index of the file b: from enc's items, unless
// b is a held removal's union, which only exists as TOML.
func indexFor(enc *routes.Encoded, b []byte, union bool) (routerIndex, error) {
	if union {
		return indexRouters(b)
	}
	return indexEncoded(enc), nil
}

// undeliver follows a publish that was delivered but could not be
// written (err): Deliver is handed the durable copy again — the last
// configuration written, or none when there is no file — so that what
// Traefik serves is what a restart would serve, and the next answer is
// compared with what is live. It returns err, joined with its own failure.
func (p *Publisher) undeliver(delivered bool, err error) error {
	if !delivered {
		return err
	}
	derr := p.DeliverExisting()
	if _, serr := os.Stat(p.Path); errors.Is(serr, fs.ErrNotExist) {
		derr = p.deliverTree(map[string]any{}) // none written yet: a restart would serve none
	}
	if derr != nil {
		return errors.Join(err, fmt.Errorf("handing back the last routes written: %w", derr))
	}
	return err
}

// loadExisting indexes the routers of a file left by an earlier run (for
// the guard's first comparison), as this version encodes them.
func (p *Publisher) loadExisting() routerIndex {
	b, err := os.ReadFile(p.Path)
	if err != nil {
		return routerIndex{}
	}
	if ours, _ := routes.Encode(nil); !bytes.HasPrefix(b, ours) {
		// Another writer's TOML: read it, and encode it as ours.
		var m map[string]any
		if err := decodeTOML(b, &m); err != nil {
			return routerIndex{}
		}
		if b, err = routes.Encode(m); err != nil {
			return routerIndex{}
		}
	}
	idx, err := indexRouters(b)
	if err != nil {
		return routerIndex{}
	}
	return idx
}

// logWarnings logs each warning once, until it goes away.
func (p *Publisher) logWarnings(ws []routes.Warning) {
	now := map[string]bool{}
	for _, w := range ws {
		s := w.String()
		now[s] = true
		if !p.warnings[s] {
			args := []any{"stack", w.Stack, "service", w.Service, "label", w.Label, "problem", w.Msg}
			switch w.Severity {
			case routes.Dropped:
				p.log().Warn("label setting dropped", args...)
			case routes.Note:
				p.log().Info("service note", args...)
			default:
				p.log().Warn("service left out", args...)
			}
		}
	}
	p.warnings = now
}
