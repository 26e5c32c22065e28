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

	"rancher-traefik/internal/testcert"
)

// Scenarios about routes and requests: Rancher changing, failing or lying
// under load. Each waits for what it changed to be live in Traefik (its
// API, polled with a bound), never for a guessed time.

// Scale 1→5→1 under load. A container scaled away is drained once Traefik
// no longer routes to it (as Rancher stops it: SIGTERM, then its grace).
func chaosScale(t *testing.T, row *chaosRow) {
	ips := chaosIPs(1, 5)
	r := newRig(t, rigOptions{services: map[string][]chaosCtr{"web": running(ips[0])}})
	l := r.load(true, 8, pick(300, 600), "web")
	row.watch(t, l)
	cycles := pick(1, 5)
	steps := 0
	for range cycles {
		for n := 2; n <= 5; n++ {
			r.backend(ips[n-1])
			r.set("web", running(ips[:n]...))
			r.waitLive("web")
			under(t, l, 50)
			steps++
		}
		for n := 4; n >= 1; n-- {
			r.set("web", running(ips[:n]...))
			r.waitLive("web")
			r.backends[ips[n]].drain()
			under(t, l, 50)
			steps++
		}
	}
	s := l.stop()
	noFailures(t, "scale", s)
	for _, ip := range ips {
		if s.Backends[ip] == 0 {
			t.Errorf("container %s never answered", ip)
		}
	}
	row.check("%d cycles, %d steps, each live in Traefik's API before the next; all 5 containers answered", cycles, steps)
}

// under waits until n more requests went through: each step is taken
// under real traffic.
func under(t *testing.T, l *chaosLoad, n int64) {
	t.Helper()
	if err := l.waitRequests(l.snapshot().Requests, n, 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

// Start-first upgrade: the new containers start and join, then the old
// ones are marked stopped and killed (kill -9) at that same instant. The
// requests Traefik sends them until it sees the change find a closed port
// and must be retried on another server (§5). What a retry cannot save,
// and must not repeat, is a request Traefik had already written to a
// container when it was killed: the container may have received it (a
// POST would run twice). Those are allowed, as 502s, only around a kill —
// ended after it, started before its removal was live — and at most one
// per load connection per kill (README, Retries); any other failure fails.
func chaosUpgrade(t *testing.T, row *chaosRow) {
	ips := chaosIPs(2, 4)
	gens := [2][]string{ips[:2], ips[2:]}
	r := newRig(t, rigOptions{services: map[string][]chaosCtr{"app": running(gens[0]...)}})
	const workers = 8
	l := r.load(true, workers, pick(400, 800), "app")
	counted := false
	t.Cleanup(func() { // a scenario that stopped early still counts its requests
		if !counted {
			row.count(l.stop())
		}
	})
	rounds := pick(4, 20)
	var kills []window
	for round := range rounds {
		old, next := gens[round%2], gens[(round+1)%2]
		for _, ip := range next {
			r.backend(ip)
		}
		r.set("app", running(append(append([]string{}, old...), next...)...))
		r.waitLive("app")
		under(t, l, 50)
		stopped := running(next...)
		for _, ip := range old {
			stopped = append(stopped, chaosCtr{ip: ip, state: "stopped"})
		}
		r.set("app", stopped)
		w := window{from: time.Now()}
		for _, ip := range old {
			r.backends[ip].kill()
		}
		r.waitLive("app")
		w.to = time.Now()
		kills = append(kills, w)
		r.set("app", running(next...)) // Rancher removes them later
	}
	s := l.stop()
	counted = true
	inFlight, other := splitInFlight(s, kills, workers)
	row.Requests += s.Requests
	if inFlight > 0 {
		row.count(loadStats{Causes: map[string]int64{"502 in flight at a kill": inFlight}})
	}
	row.count(loadStats{Causes: other})
	if len(other) > 0 || s.Truncated {
		t.Errorf("start-first upgrade: %d of %d requests failed other than in flight at a kill (%s); first: %s",
			(loadStats{Causes: other}).Failed(), s.Requests, (loadStats{Causes: other}).CausesString(), s.FirstErr)
	}
	if s.Requests == 0 {
		t.Error("no request was sent")
	}
	row.check("%d rounds of 2 containers: new ones live in Traefik, old ones marked stopped and killed at once; requests sent to a killed container retried on another; allowed: 502s of requests already written to it (at most %d a kill)", rounds, workers)
}

// window is a span of time: a kill until its removal was live.
type window struct{ from, to time.Time }

// splitInFlight counts the failures a kill explains — 502s that ended after
// a kill and started before its removal was live, at most perKill for each
// — and returns every other failure by cause.
func splitInFlight(s loadStats, kills []window, perKill int) (int64, map[string]int64) {
	other := map[string]int64{}
	used := make([]int, len(kills))
	var inFlight int64
next:
	for _, f := range s.Failures {
		if f.Cause == "502" {
			for k, w := range kills {
				if !f.End.Before(w.from) && !f.Start.After(w.to) && used[k] < perKill {
					used[k]++
					inFlight++
					continue next
				}
			}
		}
		other[f.Cause]++
	}
	return inFlight, other
}

// Certificate rotation three ways under load, a TLS handshake per request:
// a Kubernetes-style symlink swap, a rename over the files, a copy in place
// (truncate and write, each file seen half-written and the pair mismatched
// in between). The long form goes round five times.
func chaosCertRotation(t *testing.T, row *chaosRow) {
	ips := chaosIPs(3, 2)
	r := newRig(t, rigOptions{noStart: true, services: map[string][]chaosCtr{"tls": running(ips...)}})
	rot := &certRotator{t: t, dir: r.i.secrets, roots: r.roots}
	for _, name := range []string{"traefik-cert", "traefik-key"} {
		must(t, os.Remove(filepath.Join(rot.dir, name))) // withCert's plain files
	}
	first := rot.next()
	rot.symlinkSwap(first)
	r.i.start("run")
	r.i.waitReady()
	r.waitLive("tls")
	served := func(want *testcert.Chain) func() error {
		return func() error {
			conn, err := tlsDial(r.roots, r.i.httpsPort, "tls.chaos.test")
			if err != nil {
				return err
			}
			defer conn.Close()
			if got := testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw); got != want.Fingerprint() {
				return fmt.Errorf("serving %s", got[:12])
			}
			return nil
		}
	}
	eventually(t, 20*time.Second, "first pair served", served(first))
	l := r.load(false, 4, pick(150, 300), "tls")
	row.watch(t, l)
	ways := []struct {
		name   string
		rotate func(*testcert.Chain)
	}{{"symlink swap", rot.symlinkSwap}, {"rename", rot.rename}, {"copy in place", rot.copyInPlace}}
	cycles := pick(1, 5)
	for range cycles {
		for _, w := range ways {
			under(t, l, pick(int64(30), 150))
			pair := rot.next()
			w.rotate(pair)
			eventually(t, 30*time.Second, w.name+": new pair served", served(pair))
		}
	}
	under(t, l, 30)
	s := l.stop()
	noFailures(t, "certificate rotation", s)
	if strings.Contains(r.i.stderr.String(), "restarting") {
		t.Error("Traefik was restarted by a rotation")
	}
	row.check("%d rotations (symlink swap, rename, copy in place, in turn), each new leaf served to a fresh handshake; no restart", 3*cycles)
}

// certRotator replaces the secrets traefik-cert and traefik-key the ways
// operators and orchestrators do.
type certRotator struct {
	t     *testing.T
	dir   string
	roots *x509.CertPool
	n     int
}

// next is a new pair from a new CA, trusted by the load's client.
func (c *certRotator) next() *testcert.Chain {
	p := chaosCert(c.t)
	c.roots.AddCert(p.CA)
	return p
}

// symlinkSwap writes the pair into ..vN and swaps ..data to it with one
// rename; NAME → ..data/NAME links replace plain files (also by rename).
func (c *certRotator) symlinkSwap(p *testcert.Chain) {
	c.n++
	v := fmt.Sprintf("..v%d", c.n)
	must(c.t, os.MkdirAll(filepath.Join(c.dir, v), 0o700))
	must(c.t, os.WriteFile(filepath.Join(c.dir, v, "traefik-key"), p.KeyPEM, 0o600))
	must(c.t, os.WriteFile(filepath.Join(c.dir, v, "traefik-cert"), p.Bundle(), 0o600))
	c.link(v, "..data")
	for _, name := range []string{"traefik-key", "traefik-cert"} {
		if fi, err := os.Lstat(filepath.Join(c.dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			c.link(filepath.Join("..data", name), name)
		}
	}
}

// link makes name a symlink to target atomically (a new link renamed over).
func (c *certRotator) link(target, name string) {
	tmp := filepath.Join(c.dir, "."+name+".link")
	_ = os.Remove(tmp)
	must(c.t, os.Symlink(target, tmp))
	must(c.t, os.Rename(tmp, filepath.Join(c.dir, name)))
}

// rename writes each file beside and renames it over (key first).
func (c *certRotator) rename(p *testcert.Chain) {
	for _, f := range []struct {
		name string
		data []byte
	}{{"traefik-key", p.KeyPEM}, {"traefik-cert", p.Bundle()}} {
		tmp := filepath.Join(c.dir, "."+f.name+".new")
		must(c.t, os.WriteFile(tmp, f.data, 0o600))
		must(c.t, os.Rename(tmp, filepath.Join(c.dir, f.name)))
	}
}

// copyInPlace truncates and writes the files where they are (through a
// symlink, its target), as cp does.
func (c *certRotator) copyInPlace(p *testcert.Chain) {
	must(c.t, os.WriteFile(filepath.Join(c.dir, "traefik-key"), p.KeyPEM, 0o600))
	must(c.t, os.WriteFile(filepath.Join(c.dir, "traefik-cert"), p.Bundle(), 0o600))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The metadata service stopped (connection refused) for a while: the last
// routes keep serving, and changes made meanwhile follow once it is back.
func chaosMetadataStopped(t *testing.T, row *chaosRow) {
	ips := chaosIPs(4, 3)
	r := newRig(t, rigOptions{services: map[string][]chaosCtr{"a": running(ips[0]), "b": running(ips[1])}})
	l := r.load(true, 8, pick(300, 600), "a", "b")
	row.watch(t, l)
	under(t, l, 50)
	outage := pick(5*time.Second, 30*time.Second)
	before := r.routesFile()
	r.m.stop()
	time.Sleep(outage) // the outage itself: its length is the scenario
	if after := r.routesFile(); after != before {
		t.Errorf("rancher.toml changed during the outage")
	}
	r.backend(ips[2])
	r.mu.Lock()
	r.services["b"] = running(ips[1], ips[2])
	r.mu.Unlock()
	r.writeAll()
	r.m.start()
	r.waitLive("b")
	s := l.stop()
	noFailures(t, "metadata stopped", s)
	if !strings.Contains(r.i.stderr.String(), "Rancher is not answering; keeping the last good routes") {
		t.Error("the outage was not logged")
	}
	row.check("metadata down %v (connection refused): routes unchanged, outage logged once, a scale-up made meanwhile live after", outage)
}

// guardServices is four services: a mass removal removes four routers.
func guardServices(net int) map[string][]chaosCtr {
	ips := chaosIPs(net, 4)
	return map[string][]chaosCtr{"g1": running(ips[0]), "g2": running(ips[1]), "g3": running(ips[2]), "g4": running(ips[3])}
}

// An empty tree (stacks: []) for half the guard hold — a metadata service
// restarting or resyncing — then the real answer again: nothing is removed
// (§1: held for TRAEFIK_RANCHER_GUARD_HOLD, cancelled by the recovery).
func chaosGuardShort(t *testing.T, row *chaosRow) {
	hold := pick(6*time.Second, 30*time.Second)
	r := newRig(t, rigOptions{proxy: true, services: guardServices(5), env: map[string]string{"TRAEFIK_RANCHER_GUARD_HOLD": hold.String()}})
	l := r.load(true, 8, pick(300, 600), "g1", "g2", "g3", "g4")
	row.watch(t, l)
	before := r.routesFile()
	mark := time.Now()
	r.m.write("stacks: []\n")
	empty := r.proxy.waitTree(mark, "the empty answer served", func(n int) bool { return n == 0 })
	time.Sleep(time.Until(empty.At.Add(hold / 2))) // the glitch itself: half the hold
	mark = time.Now()
	r.writeAll()
	r.proxy.waitTree(mark, "the full answer served again", func(n int) bool { return n == 4 })
	for _, s := range []string{"g1", "g2", "g3", "g4"} {
		r.waitLive(s)
	}
	under(t, l, 100)
	s := l.stop()
	noFailures(t, "empty answer shorter than the hold", s)
	if after := r.routesFile(); after != before {
		t.Errorf("rancher.toml changed across a glitch shorter than the hold")
	}
	row.check("stacks: [] for %v (hold %v): no router removed, rancher.toml unchanged", hold/2, hold)
}

var routesChanged = regexp.MustCompile(`msg="routes changed"[^\n]*routers=0\b`)

// An empty tree that stays longer than the hold is a real mass deletion:
// applied once, not before the hold has passed, and no request fails
// before it is.
func chaosGuardLong(t *testing.T, row *chaosRow) {
	hold := pick(4*time.Second, 20*time.Second)
	r := newRig(t, rigOptions{proxy: true, services: guardServices(6), env: map[string]string{"TRAEFIK_RANCHER_GUARD_HOLD": hold.String()}})
	l := r.load(true, 8, pick(300, 600), "g1", "g2", "g3", "g4")
	counted := false
	t.Cleanup(func() { // a scenario that stopped early still counts its requests
		if !counted {
			row.count(l.stop())
		}
	})
	routesPath := filepath.Join(r.i.home, "etc", "dynamic", "rancher.toml")
	logMark := len(r.i.stderr.String())
	mark := time.Now()
	r.m.write("stacks: []\n")
	empty := r.proxy.waitTree(mark, "the empty answer served", func(n int) bool { return n == 0 })
	var applied time.Time
	eventually(t, 3*hold+30*time.Second, "the removal applied", func() error {
		b, err := os.ReadFile(routesPath)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "[http.routers.") {
			return fmt.Errorf("routers still published")
		}
		fi, err := os.Stat(routesPath)
		if err != nil {
			return err
		}
		applied = fi.ModTime()
		return nil
	})
	// Traefik drops the routes: requests from now on get 404.
	eventually(t, 30*time.Second, "404 once applied", func() error {
		code, _, err := get(chaosClient(r.roots, r.i.httpsPort, 1, false), r.url("g1"), nil)
		if err != nil || code != 404 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	s := l.stop()
	counted = true
	// 404s after the removal are what a real deletion means; before it, none.
	before := s.FailedBefore(applied)
	row.Requests += s.Requests
	if before > 0 {
		row.count(loadStats{Causes: map[string]int64{"before the removal": before}})
	}
	if before != 0 {
		t.Errorf("%d requests failed before the removal was applied (%s); first: %s", before, s.CausesString(), s.FirstErr)
	}
	// 50 ms of slack: file times come from the kernel's coarse clock (a
	// tick behind), and the product may start its hold when it asked, a
	// moment before the proxy saw the answer. The bug was a second.
	took := applied.Sub(empty.At)
	if took < hold-50*time.Millisecond {
		t.Errorf("the removal was applied %v after the empty answer, before the hold (%v) passed", took.Round(time.Millisecond), hold)
	}
	row.check("removal applied %v after the first empty answer (hold %v, must not be sooner)", took.Round(100*time.Millisecond), hold)
	if n := len(routesChanged.FindAllString(r.i.stderr.String()[logMark:], -1)); n != 1 {
		t.Errorf("the removal was logged %d times as applied, want once", n)
	}
	// The services come back: routes follow.
	r.writeAll()
	for _, s := range []string{"g1", "g2", "g3", "g4"} {
		r.waitLive(s)
	}
	row.check("applied once; no failure before it (after it, %d × 404, not counted: the services are gone); routes back when they return", s.Failed())
}

// logInterval is the time between the first log lines holding from and to
// (their time= fields).
func logInterval(log, from, to string) (time.Duration, error) {
	at := func(s string) (time.Time, error) {
		for _, line := range strings.Split(log, "\n") {
			if !strings.Contains(line, s) {
				continue
			}
			f, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			return time.Parse(time.RFC3339Nano, f)
		}
		return time.Time{}, fmt.Errorf("no log line with %s", s)
	}
	a, err := at(from)
	if err != nil {
		return 0, err
	}
	b, err := at(to)
	if err != nil {
		return 0, err
	}
	return b.Sub(a), nil
}

// Garbage from the metadata service — a truncated tree, an HTML page, an
// empty body, a 500 — while a scale-up happens behind it: the last good
// routes stay, and the scale-up is live once the answers are good again.
func chaosGarbage(t *testing.T, row *chaosRow) {
	ips := chaosIPs(7, 6)
	r := newRig(t, rigOptions{proxy: true, services: map[string][]chaosCtr{"web": running(ips[0]), "api": running(ips[5])}})
	l := r.load(true, 8, pick(300, 600), "web", "api")
	row.watch(t, l)
	faults := pick(3, 6)
	for n, mode := range []string{"truncated", "html", "empty", "500"} {
		before := r.routesFile()
		mark := r.proxy.faultCount()
		r.proxy.setMode(mode)
		r.backend(ips[n+1])
		r.set("web", running(ips[:n+2]...)) // a change Rancher makes meanwhile
		r.proxy.waitFaults(mark, faults)
		if after := r.routesFile(); after != before {
			t.Errorf("%s: rancher.toml changed while the answers were bad", mode)
		}
		r.proxy.setMode("")
		r.waitLive("web")
	}
	s := l.stop()
	noFailures(t, "garbage answers", s)
	row.check("each kind answered ≥%d times: rancher.toml unchanged meanwhile, the scale-up made behind it live after", faults)
}

// A metadata service that accepts connections and never answers, with a
// small TRAEFIK_RANCHER_WAIT: Traefik starts within the wait (§2: a cap,
// not a per-request timeout), serving the routes an earlier run left.
func chaosNeverAnswers(t *testing.T, row *chaosRow) {
	wait := 3 * time.Second // the long form waits longer under load, not here
	ips := chaosIPs(8, 2)
	r := newRig(t, rigOptions{proxy: true, noStart: true, services: map[string][]chaosCtr{"web": running(ips[0])},
		env: map[string]string{"TRAEFIK_RANCHER_WAIT": wait.String()}})
	// rancher.toml as an earlier run left it.
	code, toml, stderr := r.i.run("routes", "--answers", r.m.file)
	if code != 0 {
		t.Fatalf("routes: %s", stderr)
	}
	r.i.writeDynamic("rancher.toml", toml)
	r.proxy.setMode("hang")
	r.i.start("run")
	r.i.waitLog(0, "traefik started", 60*time.Second)
	// From our first log line to Traefik's start, by our own clock (the
	// lines' times): the bug this guards against waited a whole request
	// timeout (10 s); a cap ends within the wait, plus scheduling.
	took, err := logInterval(r.i.stderr.String(), `msg="rancher-traefik starting"`, `msg="traefik started"`)
	if err != nil {
		t.Fatal(err)
	}
	if took > wait+2*time.Second {
		t.Errorf("Traefik started %v after rancher-traefik, TRAEFIK_RANCHER_WAIT=%v", took, wait)
	}
	row.check("TRAEFIK_RANCHER_WAIT=%v: Traefik started %v after rancher-traefik", wait, took.Round(100*time.Millisecond))
	r.i.waitReady()
	r.waitLive("web")
	l := r.load(true, 8, pick(300, 600), "web")
	row.watch(t, l)
	if err := l.waitRequests(0, pick(int64(300), 3000), 60*time.Second); err != nil {
		t.Error(err)
	}
	if r.proxy.faultCount() == 0 {
		t.Error("no request hung at the metadata service")
	}
	r.backend(ips[1])
	r.proxy.setMode("")
	r.set("web", running(ips...))
	r.waitLive("web")
	s := l.stop()
	noFailures(t, "never answers", s)
	row.check("the earlier run's routes served meanwhile; routes follow once it answers")
}
