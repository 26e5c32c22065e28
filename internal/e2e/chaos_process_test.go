package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"rancher-traefik/internal/testlog"
)

// Scenarios about processes: kills, signals at the worst instants, a lost
// stdout, orphans. Processes this suite starts are ended by their pid.

// procStart is a process's start time (field 22 of /proc/pid/stat), to
// tell it from a later process given the same pid; "" when it is gone or a
// zombie.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19]
}

// alive reports whether the process pid started at start still runs.
func alive(pid int, start string) bool { return start != "" && procStart(pid) == start }

// killIfAlive ends a process of ours the product failed to end (so a
// failing scenario leaves nothing behind).
func killIfAlive(pid int, start string) {
	if alive(pid, start) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// traefikExe is the real path of the Traefik binary under test.
func traefikExe(t testing.TB) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(traefikBin)
	if err != nil {
		t.Fatal(err)
	}
	p, err = filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitExec returns the pid of parent's child once it has exec'd exe,
// polling /proc every 100 µs (bounded): the instant of Traefik's exec.
func waitExec(t testing.TB, parent int, exe string, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, c := range children(parent) {
			if p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); err == nil && p == exe {
				return c
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("no child of %d exec'd %s within %v", parent, exe, limit)
	return 0
}

// staticRoute starts a backend and routes host to it with a file of our own.
func staticRoute(t *testing.T, i *instance, ip, host string) {
	t.Helper()
	addr := backend(t, ip, ip, 0)
	i.writeDynamic("chaos.toml", route("chaos", host, "https", addr))
}

// expectRoute waits (bounded) until host answers through Traefik.
func expectRoute(t *testing.T, i *instance, host string) {
	t.Helper()
	c := chaosClient(certPool(i.chain), i.httpsPort, 1, false)
	eventually(t, 30*time.Second, "route "+host, func() error {
		code, _, err := get(c, "https://"+host+"/", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
}

// Kill -9 of rancher-traefik (PID 1 of its namespace: everything in it
// dies) at random instants while Rancher changes fast and every change is
// written: every rancher.toml ever seen parses, and no temp file a kill
// left survives the next start (§6).
func chaosKillLoop(t *testing.T, row *chaosRow) {
	services := pick(200, 400)
	r := newRig(t, rigOptions{noStart: true, services: map[string][]chaosCtr{}})
	dyn := filepath.Join(r.i.home, "etc", "dynamic")
	must(t, os.MkdirAll(dyn, 0o755))
	path := filepath.Join(dyn, "rancher.toml")
	// What a kill during a write leaves (kills below may leave more): the
	// next start must remove it.
	planted := filepath.Join(dyn, ".rancher.toml.2718281828.tmp")
	must(t, os.WriteFile(planted, []byte("[http.routers.half"), 0o644))
	stack := func(gen int) string { // services × 2 containers, moving each generation
		all := map[string][]chaosCtr{}
		for s := range services {
			all[fmt.Sprintf("s%03d", s)] = running(fmt.Sprintf("127.%d.%d.1", 100+gen%100, s%250), fmt.Sprintf("127.%d.%d.2", 100+gen%100, s%250))
		}
		return chaosStack(r.port, all)
	}
	r.m.write(stack(0))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopAll()
	// Fast changes: a new generation every 30 ms (bounded by the scenario).
	wg.Add(1)
	go func() {
		defer wg.Done()
		for gen := 1; gen < 100000; gen++ {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
			}
			r.m.write(stack(gen))
		}
	}()
	// Traefik's view: read and parse the file every 2 ms.
	var parses, parseErrs atomic.Int64
	var firstParseErr atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; n < 10_000_000; n++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			var v map[string]any
			if _, err := toml.Decode(string(b), &v); err != nil {
				parseErrs.Add(1)
				firstParseErr.CompareAndSwap(nil, err.Error())
			}
			parses.Add(1)
		}
	}()
	r.i.env["TRAEFIK_BINARY"] = fakeBin // the writes are under test, not Traefik
	r.i.env["TRAEFIK_RANCHER_DEBOUNCE"] = "1ms"
	r.i.asPID1()
	kills := pick(25, 340)
	// left: temp files a kill left (and the planted one), not yet checked
	// against a later start; stale: those still there after one.
	left := map[string]bool{planted: true}
	stale := map[string]bool{}
	leftByKills := 0
	checkStale := func() {
		for f := range left {
			if _, err := os.Stat(f); err == nil {
				stale[f] = true
			}
		}
		left = map[string]bool{}
	}
	for k := range kills {
		// Temp files an earlier kill left are gone once it has published.
		killPID1During(t, r.i, checkStale)
		tmps, _ := filepath.Glob(filepath.Join(dyn, ".rancher.toml.*.tmp"))
		for _, f := range tmps {
			if !stale[f] {
				left[f] = true
				leftByKills++
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		var v map[string]any
		if _, err := toml.Decode(string(b), &v); err != nil {
			t.Fatalf("kill %d: rancher.toml does not parse: %v", k, err)
		}
	}
	stopAll()
	// A last clean run with the real Traefik: stale temp files are removed
	// at start, and Traefik loads every router of the file.
	r.i.wrap = nil
	r.i.env["TRAEFIK_BINARY"] = traefikBin
	r.i.start("run")
	r.i.waitReady()
	checkStale()
	b, err := os.ReadFile(path)
	must(t, err)
	var file struct {
		HTTP struct {
			Routers map[string]any `toml:"routers"`
		} `toml:"http"`
	}
	if _, err := toml.Decode(string(b), &file); err != nil {
		t.Fatalf("rancher.toml: %v", err)
	}
	eventually(t, 30*time.Second, "every router loaded by Traefik", func() error {
		n, err := traefikRouters(r.i)
		if err != nil {
			return err
		}
		if n != len(file.HTTP.Routers) {
			return fmt.Errorf("Traefik has %d enabled file routers, the file %d", n, len(file.HTTP.Routers))
		}
		return nil
	})
	if parseErrs.Load() != 0 {
		t.Errorf("%d of %d reads of rancher.toml did not parse: %v", parseErrs.Load(), parses.Load(), firstParseErr.Load())
	}
	if len(stale) != 0 {
		t.Errorf("%d temp files left by a kill (or planted) were still there after a later start published", len(stale))
	}
	row.check("%d kill -9 at random instants among writes of %d services every 30 ms: every rancher.toml (%d reads meanwhile, one after each kill) parsed; temp files left behind (1 planted half-written, %d by kills): %d still there after a later start; Traefik loaded all %d routers after",
		kills, services, parses.Load(), leftByKills, len(stale), len(file.HTTP.Routers))
}

// killPID1During starts rancher-traefik as PID 1 of a PID namespace, waits
// for its first publish, runs published, then kill -9s it at a random
// instant among the writes that follow (the namespace dies with it).
func killPID1During(t *testing.T, i *instance, published func()) {
	t.Helper()
	argv := append(append([]string{}, i.wrap...), ourBin, "run")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = i.environ()
	var out testlog.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Kill() // unshare --kill-child takes the namespace along
		<-done
		if t.Failed() {
			t.Logf("the last run's output:\n%s", out.String())
		}
	}()
	var p1 int
	eventually(t, 10*time.Second, "PID 1", func() error {
		c := children(cmd.Process.Pid)
		if len(c) != 1 {
			return fmt.Errorf("unshare has %d children", len(c))
		}
		p1 = c[0]
		return nil
	})
	eventually(t, 30*time.Second, "first publish", func() error {
		if !strings.Contains(out.String(), `msg="routes changed"`) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	published()
	time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond) // a random instant among the writes
	must(t, syscall.Kill(p1, syscall.SIGKILL))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the namespace did not end within 30 s of kill -9 of its PID 1")
	}
}

// traefikRouters counts the enabled routers Traefik has from the file
// provider (its API).
func traefikRouters(i *instance) (int, error) {
	code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/api/http/routers?per_page=10000", i.admin), nil)
	if err != nil || code != 200 {
		return 0, fmt.Errorf("API: %d %v", code, err)
	}
	var routers []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	if err := jsonUnmarshal(body, &routers); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range routers {
		if strings.HasSuffix(r.Name, "@file") && r.Status == "enabled" && r.Name != "chaos@file" {
			n++
		}
	}
	return n, nil
}

// Signals in Traefik's first instants (§3): SIGTERM at 0/10/20/50 ms after
// its exec is a clean stop (exit 0); SIGHUP then neither kills nor
// restarts it.
func chaosEarlySignals(t *testing.T, row *chaosRow) {
	exe := traefikExe(t)
	delays := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond}
	tries := pick(1, 3)
	var bad []string
	n := 0
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		for _, d := range delays {
			for try := range tries {
				n++
				if err := earlySignal(t, exe, sig, d); err != nil {
					bad = append(bad, fmt.Sprintf("%s at %v (try %d): %v", sig, d, try+1, err))
				}
			}
		}
	}
	row.Requests += int64(n * 2)
	row.check("%d starts: SIGTERM at each delay → exit 0, no restart; SIGHUP at each delay → same Traefik serves, no restart, then exit 0 on SIGTERM; %d went wrong", n, len(bad))
}

// earlySignal starts rancher-traefik, signals it delay after Traefik's
// exec and checks the outcome.
func earlySignal(t *testing.T, exe string, sig syscall.Signal, delay time.Duration) error {
	var err error
	t.Run(fmt.Sprintf("%s+%v", sig, delay), func(t *testing.T) {
		i := newInstance(t, map[string]string{"TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_RESTART_BACKOFF": "300ms"})
		i.withCert("early.chaos.test")
		staticRoute(t, i, "127.0.9.1", "early.chaos.test")
		i.start("run")
		pid := waitExec(t, i.cmd.Process.Pid, exe, 30*time.Second)
		pidStart := procStart(pid)
		t.Cleanup(func() { killIfAlive(pid, pidStart) })
		time.Sleep(delay) // the instant under test
		i.signal(sig)
		if sig == syscall.SIGHUP {
			i.waitReady()
			expectRoute(t, i, "early.chaos.test")
			if !alive(pid, pidStart) {
				t.Errorf("Traefik (pid %d) died of the HUP", pid)
			}
			i.signal(syscall.SIGTERM)
		}
		if code := i.wait(30 * time.Second); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		if strings.Contains(i.stderr.String(), "restarting") {
			t.Error("Traefik was restarted")
		}
		if alive(pid, pidStart) {
			t.Error("Traefik outlived rancher-traefik")
		}
		if t.Failed() {
			err = fmt.Errorf("failed (see above)")
		}
	})
	return err
}

// Stdout's reader gone (`… | tee log`, then Ctrl-C) and SIGINT (§4):
// rancher-traefik does not die of SIGPIPE, and Traefik does not outlive it.
func chaosClosedStdout(t *testing.T, row *chaosRow) {
	// The access log on, as in the demo; no request after the pipe closes
	// (Traefik would die of SIGPIPE at its next line, hiding the orphan).
	i := newInstance(t, nil)
	i.withCert("pipe.chaos.test")
	staticRoute(t, i, "127.0.9.2", "pipe.chaos.test")
	pr, pw, err := os.Pipe()
	must(t, err)
	cmd := exec.Command(ourBin, "run")
	cmd.Env = i.environ()
	cmd.Stdout, cmd.Stderr = pw, pw
	must(t, cmd.Start())
	pw.Close()
	var out testlog.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, pr); close(copied) }()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("output until the pipe closed:\n%s", out.String())
		}
	})
	pid := waitExec(t, cmd.Process.Pid, traefikExe(t), 30*time.Second)
	pidStart := procStart(pid)
	t.Cleanup(func() { killIfAlive(pid, pidStart) })
	i.waitReady()
	expectRoute(t, i, "pipe.chaos.test")
	pr.Close() // the reader goes away
	<-copied
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("rancher-traefik still running 30 s after SIGINT")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() && ws.Signal() == syscall.SIGPIPE {
		t.Error("rancher-traefik died of SIGPIPE")
	}
	gone := traefikGone(t, i, pid, pidStart)
	row.check("rancher-traefik ended with %s, Traefik %s", waitStatus(ws), gone)
}

// Kill -9 of rancher-traefik (not PID 1 here: nothing else ends Traefik):
// Traefik must not outlive it (§4).
func chaosSupervisorKilled(t *testing.T, row *chaosRow) {
	i := newInstance(t, map[string]string{"TRAEFIK_ACCESS_LOG": "false"})
	i.withCert("orphan.chaos.test")
	staticRoute(t, i, "127.0.9.3", "orphan.chaos.test")
	i.start("run")
	pid := waitExec(t, i.cmd.Process.Pid, traefikExe(t), 30*time.Second)
	pidStart := procStart(pid)
	t.Cleanup(func() { killIfAlive(pid, pidStart) })
	i.waitReady()
	expectRoute(t, i, "orphan.chaos.test")
	row.Requests++
	us, usStart := i.cmd.Process.Pid, procStart(i.cmd.Process.Pid)
	i.signal(syscall.SIGKILL)
	// Not i.wait: while an orphaned Traefik holds our stdout pipe, Wait
	// cannot return. The process itself is gone once reaped.
	eventually(t, 30*time.Second, "rancher-traefik killed", func() error {
		if alive(us, usStart) {
			return fmt.Errorf("still running")
		}
		return nil
	})
	row.check("Traefik %s", traefikGone(t, i, pid, pidStart))
}

// traefikGone waits (bounded) for Traefik to end and its ports to be free.
func traefikGone(t *testing.T, i *instance, pid int, start string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid, start) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid, start) {
		t.Errorf("Traefik (pid %d) outlived rancher-traefik by 10 s, holding its ports", pid)
		return "still running after 10 s (orphaned)"
	}
	for _, p := range []int{i.httpPort, i.httpsPort, i.admin} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d still taken: %v", p, err)
			continue
		}
		l.Close()
	}
	return "gone and its ports free"
}

func waitStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit " + strconv.Itoa(ws.ExitStatus())
}

// 1,000 orphans (PID 1 of a PID namespace, the real Traefik serving under
// load): every one reaped, no zombie, no failed request.
func chaosOrphans(t *testing.T, row *chaosRow) {
	n := pick(1000, 1000)
	r := newRig(t, rigOptions{noStart: true, services: map[string][]chaosCtr{"pid1": running(chaosIPs(10, 1)...)}})
	r.i.asPID1()
	r.i.start("run")
	r.i.waitReady()
	r.waitLive("pid1")
	l := r.load(true, 8, pick(300, 600), "pid1")
	row.watch(t, l)
	p1 := r.i.pid1()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p1))
	must(t, err)
	// Each subshell starts a sleep and exits at once: the sleep is an orphan,
	// re-parented to our PID 1.
	script := fmt.Sprintf("i=0; while [ $i -lt %d ]; do (sleep 1 &); i=$((i+1)); done", n)
	if out, err := exec.Command("nsenter", "--target", strconv.Itoa(p1), "--pid", "--", "sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	var procs, zombies int
	eventually(t, 120*time.Second, "orphans reaped", func() error {
		if procs, zombies = nsProcs(ns); zombies != 0 || procs != 2 {
			return fmt.Errorf("%d processes, %d zombies", procs, zombies)
		}
		return nil
	})
	if err := l.waitRequests(l.snapshot().Requests, 100, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	s := l.stop()
	noFailures(t, "orphans", s)
	r.i.kill1(syscall.SIGTERM)
	if code := r.i.wait(30 * time.Second); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	m := regexp.MustCompile(`orphans_reaped=(\d+)`).FindStringSubmatch(r.i.stderr.String())
	if m == nil || m[1] != strconv.Itoa(n) {
		t.Errorf("orphans reaped: %v, want %d", m, n)
	}
	row.check("%d orphans re-parented to PID 1 while serving: all reaped (orphans_reaped=%d), the namespace back to PID 1 + Traefik, 0 zombies", n, n)
}
