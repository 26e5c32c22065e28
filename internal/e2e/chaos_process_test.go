package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/testlog"
)

// Scenarios about processes: kills, signals at the worst instants, a lost
// stdout, orphans. Processes this suite starts are ended by their pid.

// chaosProcStart is a process's start time (field 22 of /proc/pid/stat), to
// tell it from a later process given the same pid; "" when it is gone or a
// zombie.
func chaosProcStart(pid int) string {
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
func alive(pid int, start string) bool { return start != "" && chaosProcStart(pid) == start }

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

// expectRoute waits (bounded) until host answers through Traefik, and
// says how many requests that took.
func expectRoute(t *testing.T, i *instance, host string) int64 {
	t.Helper()
	c := chaosClient(certPool(i.chain), i.httpsPort, 1, false)
	var n int64
	eventually(t, 30*time.Second, "route "+host, func() error {
		n++
		code, _, err := get(c, "https://"+host+"/", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	return n
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
				if err := earlySignal(t, row, exe, sig, d); err != nil {
					bad = append(bad, fmt.Sprintf("%s at %v (try %d): %v", sig, d, try+1, err))
				}
			}
		}
	}
	row.check("%d starts: SIGTERM at each delay → exit 0, no restart; SIGHUP at each delay → same Traefik serves, no restart, then exit 0 on SIGTERM; %d went wrong", n, len(bad))
}

// earlySignal starts rancher-traefik, signals it delay after Traefik's
// exec and checks the outcome.
func earlySignal(t *testing.T, row *chaosRow, exe string, sig syscall.Signal, delay time.Duration) error {
	var err error
	t.Run(fmt.Sprintf("%s+%v", sig, delay), func(t *testing.T) {
		i := newInstance(t, map[string]string{"TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_RESTART_BACKOFF": "300ms"})
		i.withCert("early.chaos.test")
		staticRoute(t, i, "127.0.9.1", "early.chaos.test")
		i.start("run")
		pid := waitExec(t, i.cmd.Process.Pid, exe, 30*time.Second)
		pidStart := chaosProcStart(pid)
		t.Cleanup(func() { killIfAlive(pid, pidStart) })
		time.Sleep(delay) // the instant under test
		i.signal(sig)
		if sig == syscall.SIGHUP {
			i.waitReady()
			row.Requests += expectRoute(t, i, "early.chaos.test")
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
	pidStart := chaosProcStart(pid)
	t.Cleanup(func() { killIfAlive(pid, pidStart) })
	i.waitReady()
	row.Requests += expectRoute(t, i, "pipe.chaos.test")
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
	why := ""
	if !ws.Signaled() && ws.ExitStatus() == 128+int(syscall.SIGPIPE) {
		// Traefik shares the dead stdout: its shutdown line kills it.
		why = " (Traefik's: killed by SIGPIPE writing to the dead pipe while stopping)"
	}
	row.check("rancher-traefik ended with %s%s, Traefik %s", waitStatus(ws), why, gone)
}

// Kill -9 of rancher-traefik (not PID 1 here: nothing else ends Traefik):
// Traefik must not outlive it (§4).
func chaosSupervisorKilled(t *testing.T, row *chaosRow) {
	i := newInstance(t, map[string]string{"TRAEFIK_ACCESS_LOG": "false"})
	i.withCert("orphan.chaos.test")
	staticRoute(t, i, "127.0.9.3", "orphan.chaos.test")
	i.start("run")
	pid := waitExec(t, i.cmd.Process.Pid, traefikExe(t), 30*time.Second)
	pidStart := chaosProcStart(pid)
	t.Cleanup(func() { killIfAlive(pid, pidStart) })
	i.waitReady()
	row.Requests += expectRoute(t, i, "orphan.chaos.test")
	us, usStart := i.cmd.Process.Pid, chaosProcStart(i.cmd.Process.Pid)
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
	// Its sockets close when its last thread is gone, a moment after the
	// process shows as ended: poll (bounded) until the ports can be bound.
	deadline = time.Now().Add(10 * time.Second)
	var taken error
	for {
		taken = nil
		for _, p := range []int{i.httpPort, i.httpsPort, i.admin} {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				taken = err
				break
			}
			l.Close()
		}
		if taken == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if taken != nil {
		t.Errorf("a port of Traefik's still taken 10 s after it ended: %v", taken)
		return "gone, a port still taken"
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
