package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// asPID1 makes start run rancher-traefik as PID 1 of a new PID namespace.
// Not as root, a user namespace of its own makes that allowed (where the
// kernel lets unprivileged users make one).
func (i *instance) asPID1() {
	// --kill-child: if unshare dies, the namespace goes with it.
	i.wrap = []string{"unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}
	if os.Geteuid() != 0 {
		i.wrap = append(i.wrap[:1], append([]string{"--user", "--map-root-user"}, i.wrap[1:]...)...)
	}
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// pid1 is the host pid of our PID 1 (the child unshare forked).
func (i *instance) pid1() int {
	i.t.Helper()
	var pid int
	eventually(i.t, 10*time.Second, "PID 1 of the namespace", func() error {
		c := children(i.cmd.Process.Pid)
		if len(c) != 1 {
			return fmt.Errorf("unshare has %d children", len(c))
		}
		pid = c[0]
		return nil
	})
	return pid
}

// child is the host pid of the process our PID 1 supervises, once it is
// not old (a pid from before a restart).
func (i *instance) child(old int) int {
	i.t.Helper()
	p1 := i.pid1()
	var pid int
	eventually(i.t, 30*time.Second, "supervised child", func() error {
		for _, c := range children(p1) {
			if c != old {
				pid = c
				return nil
			}
		}
		return fmt.Errorf("no new child of %d", p1)
	})
	return pid
}

// kill1 signals our PID 1 (unshare forwards nothing).
func (i *instance) kill1(sig syscall.Signal) {
	i.t.Helper()
	if err := syscall.Kill(i.pid1(), sig); err != nil {
		i.t.Fatalf("signal %v to PID 1: %v", sig, err)
	}
}

// waitLog waits until stderr contains s (after offset bytes).
func (i *instance) waitLog(offset int, s string, limit time.Duration) {
	i.t.Helper()
	eventually(i.t, limit, "log "+strconv.Quote(s), func() error {
		if out := i.stderr.String(); len(out) >= offset && strings.Contains(out[offset:], s) {
			return nil
		}
		return fmt.Errorf("not logged yet")
	})
}

// 1. SIGTERM while a slow request is in flight: it completes, exit 0.
func TestPID1GracefulStopDuringSlowRequest(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_GRACE_TIMEOUT": "5s"})
	c := i.withCert("slow.example.com")
	inFlight := make(chan struct{}, 1)
	l, err := net.Listen("tcp", "127.0.0.5:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inFlight <- struct{}{}
			time.Sleep(2 * time.Second)
		}
		fmt.Fprint(w, "done")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	i.writeDynamic("backend.toml", route("slow", "slow.example.com", "https", l.Addr().String()))
	i.asPID1()
	i.start("run")
	i.waitReady()
	client := tlsClient(certPool(c), i.httpsPort)
	eventually(t, 15*time.Second, "route", func() error {
		code, _, err := get(client, "https://slow.example.com/fast", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		code, body, err := get(client, "https://slow.example.com/slow", nil)
		res <- result{code, body, err}
	}()
	<-inFlight
	i.kill1(syscall.SIGTERM)
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "done" {
		t.Errorf("in-flight request: %d %q %v, want 200 done", r.code, r.body, r.err)
	}
	if code := i.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if strings.Contains(i.stderr.String(), "was killed") {
		t.Error("Traefik had to be killed: the stop ran past its budget")
	}
}

// 2. kill -9 of Traefik: restarted after the backoff, serves again.
func TestPID1RestartsKilledTraefik(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_RESTART_BACKOFF": "300ms", "TRAEFIK_HTTPS_ENABLE": "false"})
	addr := backend(t, "127.0.0.6", "again", 0)
	i.writeDynamic("backend.toml", route("again", "again.example.com", "http", addr))
	i.asPID1()
	i.start("run")
	i.waitReady()
	first := i.child(0)
	mark := len(i.stderr.String())
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	i.waitLog(mark, `msg="traefik ended; restarting" component=supervisor status="killed by signal 9 (SIGKILL)"`, 10*time.Second)
	second := i.child(first)
	if second == first {
		t.Fatal("no new Traefik")
	}
	eventually(t, 20*time.Second, "route after restart", func() error {
		code, body, err := get(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/", i.httpPort), http.Header{"Host": {"again.example.com"}})
		if err != nil || code != 200 || body != "again /" {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
}

// 3. A Traefik that keeps failing (its port is taken): the crash-loop code
// after TRAEFIK_RESTART_MAX restarts, with the cause in the last line.
func TestPID1CrashLoop(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	i := newInstance(t, map[string]string{"TRAEFIK_HTTP_PORT": strconv.Itoa(port), "TRAEFIK_RESTART_MAX": "3", "TRAEFIK_RESTART_BACKOFF": "100ms"})
	i.asPID1()
	i.start("run")
	if code := i.wait(60 * time.Second); code != 75 {
		t.Errorf("exit code %d, want 75 (crash loop)", code)
	}
	lines := strings.Split(strings.TrimSpace(i.stderr.String()), "\n")
	last := lines[len(lines)-1]
	want := fmt.Sprintf("rancher-traefik: traefik keeps failing: 3 restarts, last exit status 1; cause: port %d (TRAEFIK_HTTP_PORT) is already in use", port)
	if last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	if n := strings.Count(i.stderr.String(), `msg="traefik ended; restarting"`); n != 3 {
		t.Errorf("%d restarts logged, want 3", n)
	}
}

// nsProcs counts the processes of the PID namespace ns, and its zombies.
func nsProcs(ns string) (procs, zombies int) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		dir := filepath.Dir(st)
		if l, err := os.Readlink(dir + "/ns/pid"); err != nil || l != ns {
			continue
		}
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		procs++
		// The state follows the command name in parentheses.
		if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			zombies++
		}
	}
	return procs, zombies
}

// 4. 1,000 orphans left behind: every one reaped, no zombie remains.
func TestPID1ReapsOrphans(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_BINARY": fakeBin, "TRAEFIK_CHILD_ENV": "FAKE_ORPHANS,FAKE_READY", "FAKE_ORPHANS": "1000"})
	ready := filepath.Join(i.dir, "ready")
	i.env["FAKE_READY"] = ready
	i.asPID1()
	i.start("run")
	p1 := i.pid1()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p1))
	if err != nil {
		t.Fatal(err)
	}
	// Counting before the stand-in has left its orphans would see two
	// processes at once (and stop it before it has any).
	eventually(t, 60*time.Second, "the orphans started", func() error {
		_, err := os.Stat(ready)
		return err
	})
	// The namespace settles at two processes: PID 1 and the stand-in.
	eventually(t, 60*time.Second, "orphans reaped", func() error {
		if procs, zombies := nsProcs(ns); zombies != 0 || procs != 2 {
			return fmt.Errorf("%d processes, %d zombies", procs, zombies)
		}
		return nil
	})
	i.kill1(syscall.SIGTERM)
	i.wait(20 * time.Second)
	if !strings.Contains(i.stderr.String(), "orphans_reaped=1000") {
		t.Errorf("want orphans_reaped=1000 in:\n%s", i.stderr.String())
	}
}

// 5 and 6. Every forwarded signal arrives, twice in a row; a child that
// ignores SIGTERM is killed when the budget runs out, and the code says so.
func TestPID1ForwardsSignalsThenKills(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_BINARY": fakeBin, "TRAEFIK_GRACE_TIMEOUT": "5s", // room for the last signals on a loaded machine
		"TRAEFIK_CHILD_ENV": "FAKE_SIGNALS,FAKE_ON_TERM", "FAKE_ON_TERM": "ignore"})
	got := filepath.Join(i.dir, "signals")
	i.env["FAKE_SIGNALS"] = got
	i.asPID1()
	i.start("run")
	i.child(0)
	i.waitLog(0, "traefik started", 10*time.Second)
	var want []string
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGQUIT, syscall.SIGINT, syscall.SIGTERM} {
		for range 2 {
			i.kill1(sig)
			want = append(want, sig.String())
			// Standard signals do not queue: wait for each to arrive.
			eventually(t, 5*time.Second, "signal "+sig.String()+" recorded", func() error {
				b, _ := os.ReadFile(got)
				if n := len(strings.Fields(strings.ReplaceAll(string(b), " ", "_"))); n < len(want) {
					return fmt.Errorf("%d of %d recorded", n, len(want))
				}
				return nil
			})
		}
	}
	b, _ := os.ReadFile(got)
	if strings.TrimSpace(string(b)) != strings.Join(want, "\n") {
		t.Errorf("child received:\n%s\nwant:\n%s", b, strings.Join(want, "\n"))
	}
	if code := i.wait(20 * time.Second); code != 137 {
		t.Errorf("exit code %d, want 137 (SIGKILL after the grace)", code)
	}
	if !strings.Contains(i.stderr.String(), "traefik did not stop within its grace and was killed") {
		t.Error("the kill was not logged")
	}
}

// 7. Exit codes propagate.
func TestPID1ExitCodes(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		act  func(i *instance)
		want int
	}{
		{"exit 0", map[string]string{"FAKE_EXIT": "0", "FAKE_AFTER": "100ms"}, nil, 0},
		{"exit 1, never restarted", map[string]string{"FAKE_EXIT": "1", "FAKE_AFTER": "100ms", "TRAEFIK_RESTART": "never"}, nil, 1},
		{"killed by SIGKILL", map[string]string{"TRAEFIK_RESTART": "never"}, func(i *instance) { _ = syscall.Kill(i.child(0), syscall.SIGKILL) }, 137},
		{"killed by the forwarded SIGTERM", map[string]string{"FAKE_ON_TERM": "default"}, func(i *instance) { i.child(0); i.kill1(syscall.SIGTERM) }, 143},
		{"exits 0 on SIGTERM", map[string]string{"FAKE_ON_TERM": "exit:0"}, func(i *instance) { i.child(0); i.kill1(syscall.SIGTERM) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"TRAEFIK_BINARY": fakeBin, "TRAEFIK_CHILD_ENV": "FAKE_EXIT,FAKE_AFTER,FAKE_ON_TERM"}
			for k, v := range tt.env {
				env[k] = v
			}
			i := newInstance(t, env)
			i.asPID1()
			i.start("run")
			if tt.act != nil {
				i.waitLog(0, "traefik started", 10*time.Second)
				tt.act(i)
			}
			if code := i.wait(20 * time.Second); code != tt.want {
				t.Errorf("exit code %d, want %d", code, tt.want)
			}
		})
	}
}

// 8. Traefik's environment holds no secret and none of our variables.
func TestPID1ChildEnvironment(t *testing.T) {
	i := newInstance(t, map[string]string{"TZ": "Europe/Paris", "TRAEFIK_CHILD_ENV": "GODEBUG", "GODEBUG": "madvdontneed=1",
		"TRAEFIK_RANCHER_ENDPOINT": "http://127.0.0.1:1/v1", "TRAEFIK_RANCHER_ACCESSKEY": "CANARYACCESS", "TRAEFIK_RANCHER_SECRET": "CANARYSECRET",
		"CATTLE_SECRET_KEY": "CANARYCATTLE", "UNRELATED": "x"})
	c := i.withCert("env.example.com")
	i.asPID1()
	i.start("run")
	i.waitReady()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", i.child(0)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, kv := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
		names = append(names, strings.SplitN(kv, "=", 2)[0])
	}
	if strings.Join(names, ",") != "PATH,HOME,TZ,GODEBUG" {
		t.Errorf("Traefik's environment has %v, want PATH, HOME, TZ, GODEBUG", names)
	}
	keyLine := strings.Split(string(c.KeyPEM), "\n")[1]
	for _, canary := range []string{"CANARY", keyLine, "TRAEFIK_", "CATTLE_"} {
		if strings.Contains(string(b), canary) {
			t.Errorf("Traefik's environment holds %q", canary)
		}
	}
}

// 9. Rotating the certificate under load: the new leaf is served, no request
// fails; an invalid new pair leaves the served one in place.
func TestPID1CertificateRotation(t *testing.T) {
	i := newInstance(t, nil)
	a := i.withCert("rot.example.com")
	addr := backend(t, "127.0.0.7", "rot", 0)
	i.writeDynamic("backend.toml", route("rot", "rot.example.com", "https", addr))
	i.asPID1()
	i.start("run")
	i.waitReady()
	b, err := testcert.New(testcert.Options{Hosts: []string{"rot.example.com"}, RSA: true, Encoding: testcert.PKCS1})
	if err != nil {
		t.Fatal(err)
	}
	roots := certPool(a)
	roots.AddCert(b.CA)
	client := tlsClient(roots, i.httpsPort)
	eventually(t, 15*time.Second, "route", func() error {
		code, _, err := get(client, "https://rot.example.com/", nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
	leaf := func() string { return servedFingerprint(roots, i.httpsPort, "rot.example.com") }
	if got := leaf(); got != a.Fingerprint() {
		t.Fatalf("serving %s before rotation, want A %s", got, a.Fingerprint())
	}

	load := startSequentialLoad(t, client, "https://rot.example.com/")
	replace := func(name string, data []byte) { replaceFile(t, i.secrets, name, data) }
	load.waitOK(t, 20) // some load before the change
	replace("traefik-key", b.KeyPEM)
	replace("traefik-cert", b.Bundle())
	eventually(t, 15*time.Second, "new leaf served", func() error {
		if got := leaf(); got != b.Fingerprint() {
			return fmt.Errorf("serving %s", got)
		}
		return nil
	})
	mark := len(i.stderr.String())
	other, err := testcert.New(testcert.Options{Hosts: []string{"rot.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	replace("traefik-key", other.KeyPEM) // does not match B
	i.waitLog(mark, "new certificate rejected; still serving the previous one", 15*time.Second)
	load.waitOK(t, 20) // load after the rejection too
	ok, failed := load.stop()
	if got := leaf(); got != b.Fingerprint() {
		t.Errorf("after an invalid pair, serving %s, want B %s", got, b.Fingerprint())
	}
	if ok < 10 || failed != 0 {
		t.Errorf("load: %d ok, %d failed; want some ok and none failed", ok, failed)
	}
	if strings.Count(i.stderr.String()[mark:], "new certificate rejected") != 1 {
		t.Error("the invalid pair was not reported exactly once")
	}
	if n := len(children(i.pid1())); n != 1 {
		t.Errorf("PID 1 has %d children", n)
	}
	if strings.Contains(i.stderr.String(), "restarting") {
		t.Error("Traefik was restarted by the rotation")
	}
}

// servedFingerprint is the fingerprint of the leaf port serves for name,
// or the error.
func servedFingerprint(roots *x509.CertPool, port int, name string) string {
	conn, err := tlsDial(roots, port, name)
	if err != nil {
		return "error: " + err.Error()
	}
	defer conn.Close()
	return testcert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
}

// replaceFile replaces dir/name with data: written aside, renamed over.
func replaceFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".new")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// sequentialLoad sends requests one after the other until stopped,
// bounded in count; the first failure is reported.
type sequentialLoad struct {
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	ok, failed atomic.Int64
}

func startSequentialLoad(t *testing.T, client *http.Client, url string) *sequentialLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &sequentialLoad{cancel: cancel}
	var firstErr sync.Once
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for n := 0; n < 100000 && ctx.Err() == nil; n++ {
			code, _, err := get(client, url, nil)
			if err != nil || code != 200 {
				l.failed.Add(1)
				firstErr.Do(func() { t.Errorf("request failed during rotation: %d %v", code, err) })
				continue
			}
			l.ok.Add(1)
		}
	}()
	return l
}

// waitOK waits until n more requests than now have succeeded.
func (l *sequentialLoad) waitOK(t *testing.T, n int64) {
	t.Helper()
	want := l.ok.Load() + n
	eventually(t, 15*time.Second, fmt.Sprintf("%d more requests answered", n), func() error {
		if got := l.ok.Load(); got < want {
			return fmt.Errorf("%d of %d", got, want)
		}
		return nil
	})
}

// stop ends the load and returns how many requests succeeded and failed.
func (l *sequentialLoad) stop() (ok, failed int64) {
	l.cancel()
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load()
}

// TestStopWhileWaitingForRancher: SIGTERM while start-up waits for a Rancher
// that does not answer ends the container at once with 0, without starting
// Traefik — not after TRAEFIK_RANCHER_WAIT, past Docker's stop timeout. A
// signal of another kind meanwhile is dropped.
func TestStopWhileWaitingForRancher(t *testing.T) {
	for _, pid1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("pid1=%v", pid1), func(t *testing.T) {
			i := newInstance(t, map[string]string{
				"TRAEFIK_RANCHER_MODE":         "metadata",
				"TRAEFIK_RANCHER_METADATA_URL": fmt.Sprintf("http://127.0.0.1:%d/2016-07-29", freePort(t)), // nothing listens
				"TRAEFIK_RANCHER_WAIT":         "60s",
			})
			if pid1 {
				i.asPID1()
			}
			i.start("run")
			i.waitLog(0, `msg="reading the Rancher metadata service"`, 10*time.Second)
			send := i.signal
			if pid1 {
				send = i.kill1
			}
			// A HUP has nobody to go to yet: dropped, not kept for Traefik's
			// first instants (before its handlers, it would kill it).
			send(syscall.SIGHUP)
			i.waitLog(0, `msg="signal before Traefik started; ignored" signal=hangup`, 10*time.Second)
			start := time.Now()
			send(syscall.SIGTERM)
			// Half of TRAEFIK_RANCHER_WAIT: ending within it shows the wait
			// was cut short.
			if code := i.wait(30 * time.Second); code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			took := time.Since(start)
			out := i.stderr.String()
			if !strings.Contains(out, `msg="stop requested before Traefik started; exiting" signal=terminated`) {
				t.Errorf("the early stop was not logged:\n%s", out)
			}
			for _, s := range []string{"traefik started", "starting Traefik without fresh Rancher routes"} {
				if strings.Contains(out, s) {
					t.Errorf("logged %q:\n%s", s, out)
				}
			}
			t.Logf("SIGTERM → exit in %v", took.Round(time.Millisecond))
		})
	}
}

// TestPID1ReapsDuringStartupWait: while start-up waits for Rancher (no
// Traefik yet), an orphan left in the container — by a `docker exec`, say —
// is reaped too.
func TestPID1ReapsDuringStartupWait(t *testing.T) {
	i := newInstance(t, map[string]string{
		"TRAEFIK_RANCHER_MODE":         "metadata",
		"TRAEFIK_RANCHER_METADATA_URL": fmt.Sprintf("http://127.0.0.1:%d/2016-07-29", freePort(t)), // nothing listens
		"TRAEFIK_RANCHER_WAIT":         "60s",
	})
	i.asPID1()
	i.start("run")
	i.waitLog(0, `msg="reading the Rancher metadata service"`, 10*time.Second)
	p1 := i.pid1()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p1))
	if err != nil {
		t.Fatal(err)
	}
	// A shell in the namespace leaves a short sleep behind: it is
	// re-parented to PID 1, and becomes a zombie when it ends unless reaped.
	out, err := exec.Command("nsenter", "--target", strconv.Itoa(p1), "--pid", "--", "sh", "-c", "sleep 0.3 & exit 0").CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	eventually(t, 10*time.Second, "the orphan ended and reaped", func() error {
		if procs, zombies := nsProcs(ns); zombies != 0 || procs != 1 {
			return fmt.Errorf("%d processes, %d zombies", procs, zombies)
		}
		return nil
	})
	if strings.Contains(i.stderr.String(), "traefik started") {
		t.Fatal("Traefik started: the orphan was not left during the start-up wait")
	}
}
