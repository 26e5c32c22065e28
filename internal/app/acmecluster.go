package app

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
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
	// promoted runs when this instance becomes the issuer while running,
	// before Traefik restarts (the certificates it is to renew are put in
	// Traefik's storage).
	promoted func(ctx context.Context)
}

// newACMECluster returns nil when cluster-wide ACME cannot apply: ACME off,
// TRAEFIK_ACME_CLUSTER=off, or Rancher discovery off.
func newACMECluster(cfg *config.Config, log *slog.Logger, version string) *acmeCluster {
	if !cfg.ACMEEnable || cfg.ACMECluster == cluster.Off || cfg.RancherMode == "off" {
		return nil
	}
	return &acmeCluster{
		cfg: cfg, log: log.With("component", "acme-cluster"), version: version,
		meta:     &rancher.Client{Base: cfg.RancherMetadataURL},
		restarts: make(chan string, 1),
	}
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
		c.role = c.decide(nil)
	case err != nil:
		c.log.Warn("cannot read our own service from the metadata; deciding again when it answers", "err", err)
		c.role = cluster.Role{Cluster: c.cfg.ACMECluster == cluster.On, Why: "metadata unreadable"}
	default:
		c.role = c.decide(self)
	}
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
	_, err := writeOrRemove(render.Renderer{Dir: c.cfg.TemplateDir}, filepath.Join(c.cfg.DynamicDir(), forwardFile), render.ForwardTemplate, data, want)
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
	}
}

// apply moves to role r: the forwarding follows at once; a change of
// resolver re-renders traefik.toml and restarts Traefik.
func (c *acmeCluster) apply(ctx context.Context, r cluster.Role) {
	old := c.role
	if r.Cluster == old.Cluster && r.IsIssuer() == old.IsIssuer() && r.Issuer.UUID == old.Issuer.UUID && r.Issuer.PrimaryIP == old.Issuer.PrimaryIP {
		return
	}
	c.role = r
	c.log.Info("ACME role changed", "from", old.String(), "to", r.String(), "why", r.Why)
	if err := c.writeForward(); err != nil {
		c.log.Error("cannot write the ACME challenge forwarding", "err", err)
	}
	if r.IsIssuer() == old.IsIssuer() {
		return
	}
	if r.IsIssuer() && c.promoted != nil {
		c.promoted(ctx)
	}
	static, err := renderStatic(c.cfg, c.version, r.IsIssuer())
	if err == nil {
		_, err = atomicWriteStatic(c.cfg, static)
	}
	if err != nil {
		c.log.Error("cannot write traefik.toml for the new ACME role; Traefik keeps its configuration", "err", err)
		return
	}
	why := "this instance is now the ACME issuer"
	if !r.IsIssuer() {
		why = "this instance is no longer the ACME issuer"
	}
	select {
	case c.restarts <- why:
	default: // one pending is enough: the restart reads the file as it is then
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
