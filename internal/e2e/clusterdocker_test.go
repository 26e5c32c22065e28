package e2e

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerCluster is the private Docker network of TestACMEClusterDocker and
// what runs on it: the metadata emulator with its API face, Pebble and its
// DNS server, and each container's name for the logs shown on failure.
type dockerCluster struct {
	t       *testing.T
	network string
	prefix  string // the network's /24, "172.30.N."
	dir     string // the test's files, mounted into the containers that read them
	emu     *emulator
	names   []string
}

// Addresses on the private network: Pebble, its DNS server, the emulator,
// the two backends and the three "hosts".
func (c *dockerCluster) pebbleIP() string   { return c.prefix + "2" }
func (c *dockerCluster) dnsIP() string      { return c.prefix + "3" }
func (c *dockerCluster) emulatorIP() string { return c.prefix + "5" }
func (c *dockerCluster) hosts() []string {
	return []string{c.prefix + "21", c.prefix + "22", c.prefix + "23"}
}

// run starts a container called name on the network at ip, and fails the
// test if it does not start. dockerNet's cleanup removes it.
func (c *dockerCluster) run(name, ip string, args ...string) string {
	c.t.Helper()
	full := c.network + "-" + name
	out, err := docker(append([]string{"run", "-d", "--name", full, "--network", c.network, "--ip", ip}, args...)...)
	if err != nil {
		c.t.Fatalf("docker run %s: %v %s", name, err, out)
	}
	c.names = append(c.names, full)
	return full
}

// containerAlive returns a check that fails the test when the container
// has exited.
func containerAlive(id string) func(testing.TB) {
	return func(t testing.TB) {
		t.Helper()
		if running, err := docker("inspect", "--format", "{{.State.Running}}", id); err != nil || running != "true" {
			logs, _ := docker("logs", id)
			t.Fatalf("%s is not running (%v %s):\n%s", id, err, running, logs)
		}
	}
}

// containerLogs is what the container has printed so far (stdout and
// stderr, as Docker keeps them).
func containerLogs(id string) string {
	out, _ := docker("logs", id)
	return out
}

// waitContainerLog waits until the container's logs, past offset, hold s.
func waitContainerLog(t *testing.T, id string, offset int, s string, limit time.Duration) {
	t.Helper()
	eventually(t, limit, id+" logs "+s, func() error {
		if out := containerLogs(id); len(out) >= offset && strings.Contains(out[offset:], s) {
			return nil
		}
		return fmt.Errorf("not logged yet")
	})
}

// startPebbleContainers runs pebble-challtestsrv and Pebble in containers
// of their own (the static binaries mounted into the FROM scratch
// development image, no healthcheck: its whoami is not running), Pebble
// validating on the hosts' ports 80 and 443 and resolving names with that
// DNS server alone, every name answering hosts[0] until the test sets them.
func (c *dockerCluster) startPebbleContainers() *pebbleCA {
	c.t.Helper()
	pebbleBin, challBin := pebbleBinaries(c.t)
	mount := func(bin, as string) []string {
		real, err := filepath.EvalSymlinks(bin)
		if err != nil {
			c.t.Fatal(err)
		}
		return []string{"--no-healthcheck", "-v", real + ":" + as + ":ro", "--entrypoint", as}
	}
	dns, dnsMgmt := c.dnsIP()+":8053", c.dnsIP()+":8055"
	id := c.run("dns", c.dnsIP(), append(mount(challBin, "/usr/local/bin/pebble-challtestsrv"),
		append([]string{testDevImage}, challtestsrvArgs(dns, dnsMgmt, c.hosts()[0])...)...)...)
	waitDNS(c.t, containerAlive(id), dns, c.hosts()[0])

	dir := filepath.Join(c.dir, "pebble")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	o := pebbleOptions{Host: c.pebbleIP(), HTTPPort: 80, TLSPort: 443, DefaultIPv4: c.hosts()[0], ValiditySeconds: 29 * 24 * 3600}
	p, cfg := pebbleFiles(c.t, dir, o, c.pebbleIP()+":14000", c.pebbleIP()+":15000")
	p.chall, p.DNS = "http://"+dnsMgmt, dns
	args := mount(pebbleBin, "/usr/local/bin/pebble")
	for _, e := range pebbleEnvironment {
		args = append(args, "-e", e)
	}
	// The files at the same path inside as outside, so the config's paths hold.
	args = append(args, "-v", dir+":"+dir+":ro", testDevImage, "-config", cfg, "-dnsserver", dns)
	id = c.run("pebble", c.pebbleIP(), args...)
	p.logs = func() string { return containerLogs(id) }
	p.waitDirectory(containerAlive(id))
	return p
}

// startEmulator runs the metadata emulator with its API face (the image's
// metadata-server) on the stack file, whose directory it reads so that it
// sees the file replaced. It answers /self by the address a request comes
// from: each host's own container.
func (c *dockerCluster) startEmulator(stack string) {
	c.t.Helper()
	dir := filepath.Join(c.dir, "stack")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	c.emu = &emulator{t: c.t, file: filepath.Join(dir, "stack.yml"), addr: c.emulatorIP() + ":8090"}
	c.emu.write(stack)
	c.run("emulator", c.emulatorIP(), "--no-healthcheck", "-v", dir+":/stack:ro", testImage,
		"metadata-server", "--answers", "/stack/stack.yml", "--listen", ":8090", "--api-keys", "AKCLUSTER:SKCLUSTERSECRET")
	eventually(c.t, 30*time.Second, "the emulator answers", func() error {
		code, _, err := get(plainClient(), "http://"+c.emu.addr+"/", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
}

// startHost runs the image as the host at ip: cluster-wide ACME with
// HTTP-01 against Pebble (its HTTPS CA mounted for Traefik's ACME client),
// the API for routes and the certificate store, the emulator's metadata.
func (c *dockerCluster) startHost(n int, ip string, p *pebbleCA) string {
	c.t.Helper()
	secrets := filepath.Join(c.dir, "secrets")
	if err := os.MkdirAll(secrets, 0o755); err != nil {
		c.t.Fatal(err)
	}
	for name, b := range map[string]string{"rancher-access": "AKCLUSTER\n", "rancher-secret": "SKCLUSTERSECRET\n"} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(b), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	args := []string{"--stop-timeout", "15", "-v", secrets + ":/run/secrets:ro", "-v", p.CAFile + ":/pebble-ca.pem:ro"}
	for _, e := range []string{
		"TRAEFIK_RANCHER_MODE=api", "TRAEFIK_RANCHER_ENDPOINT=http://" + c.emu.addr + "/v1",
		"TRAEFIK_RANCHER_ACCESSKEY=rancher-access", "TRAEFIK_RANCHER_SECRET=rancher-secret",
		"TRAEFIK_RANCHER_METADATA_URL=" + c.emu.url(), "TRAEFIK_RANCHER_CERTIFICATES=all", "TRAEFIK_RANCHER_REFRESH=2",
		"TRAEFIK_ACME_ENABLE=true", "TRAEFIK_ACME_CHALLENGE=http", "TRAEFIK_ACME_EMAIL=ops@example.com",
		"TRAEFIK_ACME_CASERVER=" + p.DirURL,
		"LEGO_CA_CERTIFICATES=/pebble-ca.pem", "TRAEFIK_CHILD_ENV=LEGO_CA_CERTIFICATES",
		"TRAEFIK_GRACE_TIMEOUT=3s", "TRAEFIK_STOP_TIMEOUT=15s",
	} {
		args = append(args, "-e", e)
	}
	return c.run(fmt.Sprintf("host%d", n+1), ip, append(args, testImage)...)
}

// containerReady waits until the host's Traefik answers /ping on the admin
// port (which answers /ping to the network without admin users).
func containerReady(t *testing.T, id, ip string) {
	t.Helper()
	eventually(t, 60*time.Second, "Traefik on "+ip+" answers its ping", func() error {
		containerAlive(id)(t)
		code, _, err := get(plainClient(), "http://"+ip+":8000/ping", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
}

// waitForwarding waits until the follower's Traefik has the router that
// passes ACME challenges on to the issuer, asking its API (which answers
// only inside the container) with the image's own healthcheck command.
func waitForwarding(t *testing.T, id string) {
	t.Helper()
	const router = "http://127.0.0.1:8000/api/http/routers/rancher-traefik-acme-challenge@file"
	eventually(t, 30*time.Second, id+" forwards ACME challenges", func() error {
		if out, err := docker("exec", id, "/usr/local/bin/rancher-traefik", "healthcheck", "--url", router); err != nil {
			return fmt.Errorf("%v %s", err, out)
		}
		return nil
	})
}

// newDockerCluster makes the private network and, on failure, shows the
// logs of every container the test ran before dockerNet's cleanup removes
// them (cleanups run last first).
func newDockerCluster(t *testing.T) *dockerCluster {
	t.Helper()
	network, prefix := dockerNet(t)
	c := &dockerCluster{t: t, network: network, prefix: prefix, dir: t.TempDir()}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range c.names {
			if c.isHost(name) {
				kept, dropped := withoutAccessLog(containerLogs(name))
				t.Logf("%s logs (all, but %d access-log and Traefik INF/DBG lines):\n%s", name, dropped, kept)
				continue
			}
			out, _ := docker("logs", "--tail", "60", name)
			t.Logf("%s logs (last 60 lines):\n%s", name, out)
		}
	})
	return c
}

// isHost reports whether the container called name plays a host.
func (c *dockerCluster) isHost(name string) bool {
	return strings.HasPrefix(name, c.network+"-host")
}

// accessLogLine is a line of Traefik's access log (common log format:
// address, ident, user, [time], "request").
var accessLogLine = regexp.MustCompile(`^\S+ \S+ \S+ \[[^\]]+\] "`)

// withoutAccessLog is a host's log with its timeline alone: every line but
// Traefik's access log and its INF and DBG lines, so that rancher-traefik's
// own (time=... level=...; the handovers, restarts and roles) and
// Traefik's warnings and errors can be read next to a failed request's
// time. dropped counts the lines left out.
func withoutAccessLog(logs string) (kept string, dropped int) {
	var b strings.Builder
	for line := range strings.Lines(logs) {
		f := strings.Fields(line)
		if accessLogLine.MatchString(line) || (len(f) > 1 && (f[1] == "INF" || f[1] == "DBG")) {
			dropped++
			continue
		}
		b.WriteString(line)
	}
	return b.String(), dropped
}

// TestACMEClusterDocker is TestACMEClusterLoopback with Docker containers
// as hosts: three containers of the image (make image-local) on a private
// network, each with its own address and so its own /self from the
// emulator (a container too, with the API face's certificate store),
// beside two whoami backends, Pebble and pebble-challtestsrv, whose DNS
// answers each name with the three hosts, a follower first. The first
// container is the issuer: Pebble takes one order per certificate though
// every validation lands on a follower, which forwards it, and the three
// serve the same certificate. The issuer stopped (docker stop), the next
// becomes issuer and renews both (Pebble's are valid 29 days, inside
// Traefik's 30-day window); both survivors serve the renewals; the
// follower that kept its role failed no HTTPS request meanwhile.
func TestACMEClusterDocker(t *testing.T) {
	pebbleBinaries(t)
	if out, err := docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no Docker daemon answers, so cluster-wide ACME is not tested with containers as hosts (TestACMEClusterLoopback tests it on loopback addresses): %v %s", err, out)
	}
	requireImage(t)
	c := newDockerCluster(t)
	hosts := c.hosts()
	legacy, modern := c.prefix+"11", c.prefix+"12"
	for name, ip := range map[string]string{"legacy": legacy, "modern": modern} {
		c.run(name, ip, "--health-interval", "1s", testDevImage, "whoami", "--listen", ":80", "--name", name)
	}
	c.startEmulator(globalStack(hosts, legacy+":80", modern+":80"))
	p := c.startPebbleContainers()
	names := []string{"legacy.example.com", "modern.example.com"}
	p.setA(names[0], hosts[1], hosts[0], hosts[2])
	p.setA(names[1], hosts[2], hosts[0], hosts[1])

	// The followers first, the issuer once both forward challenges: the
	// issuer orders as soon as its Traefik starts, and a validation that
	// lands on a follower not yet forwarding fails that order, which
	// Traefik does not retry until its configuration changes (the first
	// run of this test, starting them together, saw it; README "Several
	// hosts").
	ids := make([]string, len(hosts))
	for n := len(hosts) - 1; n >= 0; n-- {
		ids[n] = c.startHost(n, hosts[n], p)
		containerReady(t, ids[n], hosts[n])
		if n > 0 {
			waitForwarding(t, ids[n])
		}
	}
	waitContainerLog(t, ids[0], 0, `msg="ACME role" component=acme-cluster role=issuer`, 10*time.Second)
	for _, id := range ids[1:] {
		waitContainerLog(t, id, 0, `msg="ACME role" component=acme-cluster role="follower of lb-traefik-1 (`+hosts[0]+`)"`, 10*time.Second)
	}

	first := waitSameCertificate(t, p, hosts, 443, names, nil)
	if n := p.orders(); n != 2 {
		t.Errorf("Pebble took %d orders, want 2 (one per certificate)", n)
	}
	for n, id := range ids {
		if forwarded := strings.Contains(containerLogs(id), "rancher-traefik-acme-challenge@file"); forwarded != (n > 0) {
			t.Errorf("%s forwarded a challenge to the issuer: %v, want %v (followers only)", hosts[n], forwarded, n > 0)
		}
	}

	root, _ := p.issuers()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	survivors := hosts[1:]
	l := startHTTPSLoad(survivors, 443, roots, names[0])
	mark := len(containerLogs(ids[1]))
	if out, err := docker("stop", "-t", "15", ids[0]); err != nil {
		l.end()
		t.Fatalf("docker stop %s: %v %s", ids[0], err, out)
	}
	c.emu.write(globalStack(hosts, legacy+":80", modern+":80", hosts[0]))
	waitContainerLog(t, ids[1], mark, `msg="ACME role changed" component=acme-cluster from="follower of lb-traefik-1 (`+hosts[0]+`)" to=issuer`, 30*time.Second)
	renewed := waitSameCertificate(t, p, survivors, 443, names, first)
	containerReady(t, ids[1], hosts[1])
	l.end()
	if n := p.orders(); n != 4 {
		t.Errorf("Pebble took %d orders in all, want 4 (one per certificate, then one per renewal)", n)
	}
	waitContainerLog(t, ids[2], 0, `to="follower of lb-traefik-2 (`+hosts[1]+`)"`, 10*time.Second)
	assertSurvivorFailures(t, l, survivors[1], survivors[0])
	t.Logf("certificates %v renewed as %v", first, renewed)
}

// newIssuerMayFail are the failures allowed to the instance that becomes
// issuer: none, since its Traefik's restart is a handover (README "Several
// hosts"); failureKind names the phase of a restart a failure came from.
var newIssuerMayFail = map[string]bool{}

// assertSurvivorFailures: the follower that kept its role failed no HTTPS
// request while the issuer changed, the new issuer only in the ways
// newIssuerMayFail allows, and both answered.
func assertSurvivorFailures(t *testing.T, l *httpsLoad, follower, newIssuer string) {
	t.Helper()
	for _, h := range []string{follower, newIssuer} {
		e, _ := l.lastErr.Load(h)
		t.Logf("HTTPS requests to %s during the change of issuer: %d answered, %d failed %v (last error %v; at %v)", h, l.ok[h].Load(), l.fail[h].Load(), l.kinds[h], e, l.times[h])
		if l.ok[h].Load() == 0 {
			t.Errorf("%s answered no HTTPS request while the issuer changed", h)
		}
	}
	if f := l.fail[follower].Load(); f != 0 {
		t.Errorf("the follower %s failed %d HTTPS requests while the issuer changed, want 0: %v", follower, f, l.kinds[follower])
	}
	for kind, n := range l.kinds[newIssuer] {
		if !newIssuerMayFail[kind] {
			t.Errorf("the new issuer %s failed %d HTTPS requests with %q while its Traefik was handed over", newIssuer, n, kind)
		}
	}
}
