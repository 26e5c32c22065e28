package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clusterStackHealth is clusterStack with every container of
// rancher-traefik's service in the health state health gives its host
// (Rancher's health check: initializing until Traefik answers, then
// healthy).
func clusterStackHealth(legacy, modern string, health map[string]string) string {
	var b strings.Builder
	b.WriteString(acmeStack(legacy, modern))
	b.WriteString("  - name: lb\n    services:\n      - name: traefik\n        labels:\n          traefik.enable: \"false\"\n          io.rancher.scheduler.global: \"true\"\n        containers:\n")
	for _, h := range clusterHosts {
		b.WriteString("          - ip: " + h + "\n")
		if s := health[h]; s != "" {
			b.WriteString("            health_state: " + s + "\n")
		}
	}
	return b.String()
}

// Pebble's log lines (pebble v2.10.3 wfe/wfe.go, va/va.go).
const (
	pebbleOrderValid   = "is fully authorized. Processing finalization"
	pebbleOrderInvalid = "set INVALID by invalid authz"
	lookAgainLog       = `msg="Traefik looks again for names without a certificate"`
)

// TestACMEClusterIssuerFirst: the issuer starts alone and orders both
// certificates; every validation lands on a follower that is not up (each
// name's DNS answer gives a follower first), so both orders fail — and
// Traefik would never order again by itself (it looks for names without a
// certificate only on a new configuration). The followers start, their
// forwarding answers, Rancher's health check marks them healthy: the
// issuer sees its service's instances change and makes its Traefik look
// again (etc/dynamic/acme-retry.toml). In the end Pebble has finalized
// exactly one order per certificate, the failed ones are bounded by the
// look-agains, and the three hosts serve the same certificates. Without
// a health check (no change in Rancher's state once the followers are up),
// the issuer's timer looks again.
func TestACMEClusterIssuerFirst(t *testing.T) {
	pebbleBinaries(t)
	tests := []struct {
		name string
		// healthy: Rancher marks the followers healthy once they are up.
		healthy bool
		why     string // of the look-again that must have happened, as logged
	}{
		{"health check", true, `why="instances changed"`},
		{"timer", false, `why=timer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { issuerFirst(t, tt.healthy, tt.why) })
	}
}

func issuerFirst(t *testing.T, healthy bool, why string) {
	legacy := backend(t, "127.0.41.13", "legacy", 0)
	modern := backend(t, "127.0.41.14", "modern", 0)
	dir := t.TempDir()
	m := &emulator{t: t, file: filepath.Join(dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	followers := map[string]string{clusterHosts[0]: "healthy", clusterHosts[1]: "initializing", clusterHosts[2]: "initializing"}
	m.write(clusterStackHealth(legacy, modern, followers))
	m.startWithKeys("AKCLUSTER:SKCLUSTERSECRET")
	t.Cleanup(m.stop)
	httpPort, httpsPort := freePort(t), freePort(t)
	p := startPebble(t, pebbleOptions{Host: "127.0.0.1", HTTPPort: httpPort, TLSPort: httpsPort, DefaultIPv4: clusterHosts[0], ValiditySeconds: 29 * 24 * 3600})
	names := []string{"legacy.example.com", "modern.example.com"}
	p.setA(names[0], clusterHosts[1], clusterHosts[0], clusterHosts[2])
	p.setA(names[1], clusterHosts[2], clusterHosts[0], clusterHosts[1])

	var insts []*instance
	for _, h := range clusterHosts {
		insts = append(insts, clusterInstance(t, h, httpPort, httpsPort, m, p))
	}
	start := time.Now()
	insts[0].start("run")
	hostReady(t, insts[0], clusterHosts[0])
	insts[0].waitLog(0, `msg="ACME role" component=acme-cluster role=issuer`, 10*time.Second)
	// Both first orders fail: nothing listens on the followers' addresses.
	eventually(t, 60*time.Second, "both first orders failed at Pebble", func() error {
		if n := strings.Count(p.log(), pebbleOrderInvalid); n < 2 {
			return fmt.Errorf("%d failed orders", n)
		}
		return nil
	})
	if n := strings.Count(p.log(), pebbleOrderValid); n != 0 {
		t.Fatalf("Pebble finalized %d orders before any follower was up", n)
	}

	for n, i := range insts[1:] {
		h := clusterHosts[n+1]
		i.start("run")
		hostReady(t, i, h)
		i.waitLog(0, `msg="ACME role" component=acme-cluster role="follower of lb-traefik-1 (127.0.41.1)"`, 10*time.Second)
		// Its forwarding is live: a challenge path goes through the
		// forwarding router (its access log names it).
		eventually(t, 30*time.Second, h+" forwards challenges", func() error {
			_, _, _ = get(plainClient(), fmt.Sprintf("http://%s:%d/.well-known/acme-challenge/probe", h, httpPort), nil)
			if !strings.Contains(i.stdout.String(), "rancher-traefik-acme-challenge@file") {
				return fmt.Errorf("no forwarded request in its access log")
			}
			return nil
		})
	}
	if healthy {
		// Rancher's health check marks them healthy.
		for _, h := range clusterHosts[1:] {
			followers[h] = "healthy"
		}
		m.write(clusterStackHealth(legacy, modern, followers))
	}
	insts[0].waitLog(0, lookAgainLog+` component=acme-cluster `+why, 60*time.Second)

	waitSameCertificate(t, p, clusterHosts, httpsPort, names, nil)
	took := time.Since(start)
	log := p.log()
	valid, invalid, orders := strings.Count(log, pebbleOrderValid), strings.Count(log, pebbleOrderInvalid), p.orders()
	looks := strings.Count(insts[0].stderr.String(), lookAgainLog)
	t.Logf("certificates served by all hosts %v after the issuer's start: %d orders at Pebble, %d finalized, %d failed; %d look-agains", took.Round(time.Second), orders, valid, invalid, looks)
	if valid != len(names) {
		t.Errorf("Pebble finalized %d orders, want %d (one per certificate)", valid, len(names))
	}
	// Each order of a name fails or succeeds once: the first two, then at
	// most one a name a look-again.
	if invalid > len(names)*(1+looks) || orders != valid+invalid {
		t.Errorf("%d orders, %d failed, %d finalized, %d look-agains: want at most %d failed, and every order either", orders, invalid, valid, looks, len(names)*(1+looks))
	}
	// Only the issuer has the file, and looks again.
	if _, err := os.Stat(filepath.Join(insts[0].home, "etc", "dynamic", "acme-retry.toml")); err != nil {
		t.Errorf("the issuer's look-again file: %v", err)
	}
	for n, i := range insts[1:] {
		if _, err := os.Stat(filepath.Join(i.home, "etc", "dynamic", "acme-retry.toml")); err == nil {
			t.Errorf("follower %s has a look-again file", clusterHosts[n+1])
		}
		if strings.Contains(i.stderr.String(), lookAgainLog) {
			t.Errorf("follower %s looked again", clusterHosts[n+1])
		}
	}
}
