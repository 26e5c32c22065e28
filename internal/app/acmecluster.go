package app

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"rancher-traefik/internal/cluster"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/render"
)

// forwardFile is the dynamic file that passes ACME challenges to the issuer.
const forwardFile = "acme-forward.toml"

// acmeCluster keeps this instance's part in cluster-wide ACME
// (TRAEFIK_ACME_CLUSTER): it reads our own service from the metadata on
// every change, and when the issuer changes it rewrites the challenge
// forwarding (dynamic: Traefik applies it live) and, when this instance
// gains or loses the resolver, traefik.toml, then asks the supervisor for a
// restart — certificatesResolvers is static configuration, which Traefik
// reads only at start. Only the instance whose part changed restarts; the
// others follow the new issuer without one.
type acmeCluster struct {
	cfg      *config.Config
	log      *slog.Logger
	meta     *rancher.Client
	version  string // ours, stamped into traefik.toml
	role     cluster.Role
	restarts chan string
	// api publishes to and reads Rancher's certificate store; nil without
	// API credentials, which leaves the single-host behaviour.
	api *rancher.API

	mu     sync.Mutex // role, for the publisher's reads
	issuer atomic.Bool
	// static: traefik.toml as last written has the resolver; live: the
	// running Traefik's has (static, once a restart has put it in place).
	// The routers ask for the resolver only while live (publish.Resolver).
	static, live atomic.Bool
	kick         chan chan struct{} // to the publisher (publish.Kick)
	restarted    chan struct{}      // from the supervisor (Restarted)
	issuerNow    chan struct{}      // this instance became the issuer
	published    map[string]string  // store name → leaf fingerprint (publisher only, and seed before it runs again)
	retry        *lookAgain         // makes the issuer's Traefik look again for names (acmeretry.go)
}

// newACMECluster returns nil when cluster-wide ACME cannot apply: ACME off,
// TRAEFIK_ACME_CLUSTER=off, or Rancher discovery off.
func newACMECluster(cfg *config.Config, log *slog.Logger, version string) *acmeCluster {
	if !cfg.ACMEEnable || cfg.ACMECluster == cluster.Off || cfg.RancherMode == "off" {
		return nil
	}
	c := &acmeCluster{
		cfg: cfg, log: log.With("component", "acme-cluster"), version: version,
		meta:     &rancher.Client{Base: cfg.RancherMetadataURL},
		restarts: make(chan string, 1), issuerNow: make(chan struct{}, 1), published: map[string]string{},
		kick: make(chan chan struct{}), restarted: make(chan struct{}, 1),
	}
	c.retry = newLookAgain(cfg.DynamicDir(), cfg.StagingDir(), c.log)
	if cfg.RancherEndpoint != "" && cfg.RancherAccessKey.IsSet() {
		c.api = &rancher.API{Endpoint: cfg.RancherEndpoint, AccessKey: cfg.RancherAccessKey, Secret: cfg.RancherSecret, Log: log}
	}
	return c
}

func (c *acmeCluster) selfName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.role.Self.Name
}

// setRole records r.
func (c *acmeCluster) setRole(r cluster.Role) {
	c.mu.Lock()
	c.role = r
	c.mu.Unlock()
	c.issuer.Store(r.Cluster && r.IsIssuer())
}

// decide is Decide with the challenge's limit: TLS-ALPN-01 cannot be
// forwarded, so with auto and tls every instance keeps its own resolver
// (what it did before cluster mode), and says so. (on with tls is refused
// by the configuration's check.)
func (c *acmeCluster) decide(self *rancher.Self) cluster.Role {
	r := cluster.Decide(c.cfg.ACMECluster, self)
	if r.Cluster && c.cfg.ACMEChallenge == "tls" {
		c.log.Warn("TRAEFIK_ACME_CHALLENGE=tls cannot be forwarded between instances: each instance asks for its own certificates; set TRAEFIK_ACME_CHALLENGE=http for one issuer for the whole service", "why", r.Why)
		return cluster.Role{Self: r.Self, Why: r.Why + ", but TRAEFIK_ACME_CHALLENGE=tls"}
	}
	if r.Cluster && c.api == nil {
		c.log.Error("cluster-wide ACME publishes certificates to Rancher's certificate store through the API, but TRAEFIK_RANCHER_ENDPOINT and TRAEFIK_RANCHER_ACCESSKEY/SECRET (or CATTLE_URL and its keys) are not set: each instance asks for its own certificates", "why", r.Why)
		return cluster.Role{Self: r.Self, Why: r.Why + ", but no Rancher API"}
	}
	return r
}

// first decides the role before Traefik starts, waiting for the metadata
// at most TRAEFIK_RANCHER_WAIT. Unreadable metadata leaves the single-host
// behaviour with auto, and no resolver with on; the watch decides again
// once it answers.
func (c *acmeCluster) first(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RancherWait)
	defer cancel()
	self, err := c.meta.ReadSelf(ctx)
	switch {
	case errors.Is(err, rancher.ErrNoSelf):
		c.setRole(c.decide(nil))
	case err != nil:
		c.log.Warn("cannot read our own service from the metadata; deciding again when it answers", "err", err)
		c.setRole(cluster.Role{Cluster: c.cfg.ACMECluster == cluster.On, Why: "metadata unreadable"})
	default:
		c.setRole(c.decide(self))
	}
	if c.role.Cluster && c.role.IsIssuer() {
		c.seed(ctx)
	}
	c.static.Store(c.resolver())
	c.live.Store(c.resolver())
	c.log.Info("ACME role", "role", c.role.String(), "why", c.role.Why)
}

// resolver reports whether this instance's traefik.toml has the resolver.
func (c *acmeCluster) resolver() bool { return c == nil || c.role.IsIssuer() }

// writeForward writes or removes the challenge forwarding for the role.
func (c *acmeCluster) writeForward() error {
	r := c.role
	want := r.Cluster && !r.IsIssuer() && r.HasIssuer() && c.cfg.ACMEChallenge == "http"
	var data render.ForwardData
	if want {
		data = render.NewForwardData(r.Issuer.PrimaryIP, c.cfg.HTTPPort)
	}
	_, err := writeOrRemove(render.Renderer{Dir: c.cfg.TemplateDir}, c.cfg.StagingDir(), filepath.Join(c.cfg.DynamicDir(), forwardFile), render.ForwardTemplate, data, want)
	return err
}

// run watches the metadata until ctx ends, applying every change of role.
func (c *acmeCluster) run(ctx context.Context) error {
	version := ""
	for {
		v, err := c.meta.WaitVersion(ctx, version, c.cfg.RancherRefresh)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.log.Debug("metadata watch failed; retrying", "err", err)
			if !sleepCtx(ctx, 2*time.Second) {
				return nil
			}
			continue
		}
		if v == version {
			continue
		}
		self, err := c.meta.ReadSelf(ctx)
		if err != nil && !errors.Is(err, rancher.ErrNoSelf) {
			c.log.Warn("cannot read our own service from the metadata; the ACME role stays", "role", c.role.String(), "err", err)
			continue // the version stays: read again on the next answer
		}
		version = v
		c.apply(ctx, c.decide(self))
		c.noteRetry(self)
	}
}

// apply moves to role r: the forwarding follows at once; a change of
// resolver re-renders traefik.toml and restarts Traefik.
func (c *acmeCluster) apply(ctx context.Context, r cluster.Role) {
	old := c.role
	if r.Cluster == old.Cluster && r.IsIssuer() == old.IsIssuer() && r.Issuer.UUID == old.Issuer.UUID && r.Issuer.PrimaryIP == old.Issuer.PrimaryIP {
		return
	}
	c.setRole(r)
	c.log.Info("ACME role changed", "from", old.String(), "to", r.String(), "why", r.Why)
	if err := c.writeForward(); err != nil {
		c.log.Error("cannot write the ACME challenge forwarding", "err", err)
	}
	if r.IsIssuer() == old.IsIssuer() {
		return
	}
	if !r.IsIssuer() {
		// The routers stop asking for the resolver before the Traefik
		// without it starts, and while the one with it still runs: neither
		// logs a nonexistent resolver.
		c.live.Store(false)
		c.republish(ctx)
	}
	if r.IsIssuer() && r.Cluster {
		c.seed(ctx)
		select {
		case c.issuerNow <- struct{}{}:
		default:
		}
	}
	static, err := renderStatic(c.cfg, c.version, r.IsIssuer(), nil)
	if err == nil {
		_, err = atomicWriteStatic(c.cfg, static)
	}
	if err != nil {
		c.log.Error("cannot write traefik.toml for the new ACME role; Traefik keeps its configuration", "err", err)
		return
	}
	c.static.Store(r.IsIssuer())
	why := "this instance is now the ACME issuer"
	if !r.IsIssuer() {
		why = "this instance is no longer the ACME issuer"
	}
	select {
	case c.restarts <- why:
	default: // one pending is enough: the restart reads the file as it is then
	}
}

// onRestarted is the supervisor's Restarted: it must not block.
func (c *acmeCluster) onRestarted() {
	select {
	case c.restarted <- struct{}{}:
	default:
	}
}

// followRestarts makes the routers ask for the resolver once a Traefik
// that has it serves (a new issuer's, after its restart), until ctx ends.
func (c *acmeCluster) followRestarts(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.restarted:
			if c.live.Swap(c.static.Load()) != c.static.Load() {
				c.republish(ctx)
			}
		}
	}
}

// republishLimit bounds the wait for the publisher to rewrite the routes.
const republishLimit = 15 * time.Second

// republish has the publisher write the routes again (the resolver's
// presence changed) and waits until it has, at most republishLimit.
func (c *acmeCluster) republish(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, republishLimit)
	defer cancel()
	ack := make(chan struct{})
	select {
	case c.kick <- ack:
	case <-ctx.Done():
		c.log.Warn("the routes were not rewritten for the ACME resolver's presence in time", "live", c.live.Load())
		return
	}
	select {
	case <-ack:
	case <-ctx.Done():
		c.log.Warn("the routes were not rewritten for the ACME resolver's presence in time", "live", c.live.Load())
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
