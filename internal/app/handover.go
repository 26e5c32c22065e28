package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/cluster"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/handover"
	"rancher-traefik/internal/render"
)

// probeFile routes the probe entry point of a handover (see handsOver).
const probeFile = "rancher-traefik-probe.toml"

// handoverChallengeDelay is the resolver's httpChallenge.delay when Traefik
// is restarted by handovers: a Traefik that becomes issuer orders the
// renewals due as it starts (Traefik v3.6 pkg/provider/acme: Provide →
// renewCertificates), before the handover steers connections to it, and
// an HTTP-01 validation that reached the previous Traefik would fail and
// be tried again only at the next daily check. lego waits this long
// between putting the token in place and asking the CA to validate
// (challenge/http01: SetDelay), long enough for a handover's probe and
// checks (hundreds of milliseconds on 2 shared cores); an order takes that
// much longer, which nothing waits on.
const handoverChallengeDelay = 5 * time.Second

// probeRoutes is probeFile: the file provider's routers of a new
// Traefik's probe. One on the probe entry point: it answers once Traefik
// has applied the file provider's configuration — the whole dynamic
// directory, routes and certificates, in one message — and not before
// (Traefik opens its entry points, then applies the internal provider's
// part, then the file provider's). One on each other HTTP entry point,
// for the loopback and the bind address alone, above every route: it
// answers once that entry point's routers are switched (over TLS on https;
// see handover.Spec.Check).
func probeRoutes(cfg *config.Config) []byte {
	clients := "ClientIP(`127.0.0.0/8`) || ClientIP(`::1`)"
	if ip := net.ParseIP(cfg.BindAddress); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		clients += " || ClientIP(`" + ip.String() + "`)"
	}
	var b bytes.Buffer
	b.WriteString(`# Written by rancher-traefik: the supervisor's readiness probe of a new
# Traefik in a handover (README "Several hosts"). It answers only once the
# file provider's configuration is applied.

[http.routers.rancher-traefik-probe]
  entryPoints = ["` + handover.ProbeName + `"]
  rule = "Path(` + "`" + handover.ProbePath + "`" + `)"
  priority = ` + strconv.Itoa(render.MaxUserPriority) + `
  service = "ping@internal"

[http.routers.rancher-traefik-probe-entrypoints]
  entryPoints = ["http", "traefik"]
  rule = "Path(` + "`" + handover.ProbeRoute + "`" + `) && (` + clients + `)"
  priority = ` + strconv.Itoa(render.MaxUserPriority) + `
  service = "ping@internal"
`)
	if cfg.HTTPSEnabled() {
		b.WriteString(`
[http.routers.rancher-traefik-probe-https]
  entryPoints = ["https"]
  rule = "Path(` + "`" + handover.ProbeRoute + "`" + `) && (` + clients + `)"
  priority = ` + strconv.Itoa(render.MaxUserPriority) + `
  service = "ping@internal"
  [http.routers.rancher-traefik-probe-https.tls]
`)
	}
	return b.Bytes()
}

// handsOver says whether Traefik is restarted by a handover rather than a
// stop and a start: whenever a restart can be asked for, which today is
// cluster-wide ACME's change of issuer (the resolver is static
// configuration). Elsewhere Traefik opens its own sockets, as always.
//
// Why a handover (design A) rather than keeping every instance's Traefik
// with the resolver and switching routers' certResolver live (design B):
// Traefik reads acme.json only when it starts, so a new issuer's Traefik
// that did not restart would neither know nor renew the certificates the
// previous issuer obtained — the store's copies, served from files, are
// skipped as already present (getUncheckedDomains) — and renewal after a
// failover, which the cluster must guarantee, would need a restart anyway.
// A handover makes that restart, and any later change of static
// configuration, invisible to clients.
func handsOver(cfg *config.Config) bool {
	return cfg.ACMEEnable && cfg.ACMECluster != cluster.Off && cfg.RancherMode != "off"
}

// handoverSpecs are the sockets of traefik.toml's entry points, named as
// it names them: http, https (and its UDP socket for HTTP/3), the admin
// entry point traefik, and TRAEFIK_ENTRYPOINTS.
func handoverSpecs(cfg *config.Config) []handover.Spec {
	addr := func(port int) string { return net.JoinHostPort(cfg.BindAddress, strconv.Itoa(port)) }
	specs := []handover.Spec{{Name: "http", Network: "tcp", Address: addr(cfg.HTTPPort), Check: handover.CheckHTTP}}
	if cfg.HTTPSEnabled() {
		specs = append(specs, handover.Spec{Name: "https", Network: "tcp", Address: addr(cfg.HTTPSPort), Check: handover.CheckTLS})
		if cfg.HTTP3 {
			specs = append(specs, handover.Spec{Name: "https", Network: "udp", Address: addr(cfg.HTTPSPort)})
		}
	}
	specs = append(specs, handover.Spec{Name: "traefik", Network: "tcp", Address: addr(cfg.AdminPort), Check: handover.CheckHTTP})
	for _, ep := range cfg.EntryPoints {
		specs = append(specs, handover.Spec{Name: ep.Name, Network: ep.Proto, Address: addr(ep.Port)})
	}
	return specs
}

// socketHolder returns the holder of the entry points' sockets when
// Traefik is restarted by handovers and static (traefik.toml as written)
// declares every entry point they name and the probe's — a template
// override that renames or drops one would leave Traefik opening its own
// beside ours. Otherwise nil, saying why when it matters.
func socketHolder(cfg *config.Config, static []byte, log *slog.Logger) *handover.Holder {
	if !handsOver(cfg) {
		return nil
	}
	h := handover.New(handoverSpecs(cfg))
	for _, name := range h.Names() {
		// Bare, or quoted as the extra entry points are.
		if !bytes.Contains(static, []byte("[entryPoints."+name+"]")) && !bytes.Contains(static, []byte(`[entryPoints."`+name+`"]`)) {
			log.Warn("traefik.toml does not declare the entry point "+name+" (a TRAEFIK_TEMPLATE_DIR override?): Traefik opens its own sockets, and a change of ACME issuer restarts it with a gap", "file", cfg.StaticFile())
			return nil
		}
	}
	return h
}

// writeProbe writes probeFile when Traefik is restarted by handovers, and
// removes one left over otherwise.
func writeProbe(cfg *config.Config) error {
	path := filepath.Join(cfg.DynamicDir(), probeFile)
	if !handsOver(cfg) {
		return removeIfExists(path)
	}
	if _, err := atomicfile.WriteStaged(path, cfg.StagingDir(), probeRoutes(cfg), 0o644); err != nil {
		return Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	return nil
}

// readStatic reads traefik.toml as written.
func readStatic(cfg *config.Config) []byte {
	b, _ := os.ReadFile(cfg.StaticFile())
	return b
}
