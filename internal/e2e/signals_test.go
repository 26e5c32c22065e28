package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// traefikPath is the real Traefik's path as /proc/<pid>/exe shows it.
func traefikPath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(traefikBin)
	if err == nil {
		p, err = filepath.EvalSymlinks(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// awaitExec watches the children of parent until one of them, other than
// old, is the real Traefik — exec'd, not the trampoline before it — and
// says when that was seen. It polls every 100µs, so the time is the exec's
// within a fraction of a millisecond (the test process permitting).
func awaitExec(t testing.TB, parent, old int, limit time.Duration) (int, time.Time) {
	t.Helper()
	want := traefikPath(t)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, c := range children(parent) {
			if c == old {
				continue
			}
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); err == nil && exe == want {
				return c, time.Now()
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("no exec of %s under pid %d within %v", want, parent, limit)
	return 0, time.Time{}
}

// TestSignalsInTraefiksFirstInstants: a signal sent 0, 10, 20 or 50 ms
// after Traefik's exec — before it has set its handlers, which takes it
// some 50-100 ms — is held until it has: SIGTERM ends the container with
// 0 (it used to die of it, 143), SIGHUP reaches it without killing it (it
// used to die and be restarted). The same after a crash-restart.
func TestSignalsInTraefiksFirstInstants(t *testing.T) {
	type tc struct {
		sig     syscall.Signal
		at      time.Duration
		restart bool // send it after Traefik was killed and restarted
	}
	var cases []tc
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		for _, ms := range []int{0, 10, 20, 50} {
			cases = append(cases, tc{sig: sig, at: time.Duration(ms) * time.Millisecond})
		}
	}
	cases = append(cases, tc{sig: syscall.SIGTERM, restart: true}, tc{sig: syscall.SIGHUP, restart: true})
	for _, c := range cases {
		name := fmt.Sprintf("%s at %v", unix.SignalName(c.sig), c.at)
		if c.restart {
			name += " after a restart"
		}
		t.Run(name, func(t *testing.T) {
			// No providers throttle: Traefik would keep only the last of two
			// configurations sent within it, and the start's and the
			// SIGHUP's can be (see fileConfigs).
			i := newInstance(t, map[string]string{"TRAEFIK_LOG_LEVEL": "DEBUG", "TRAEFIK_RESTART_BACKOFF": "100ms", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_PROVIDERS_THROTTLE": "0s"})
			i.asPID1()
			i.start("run")
			p1 := i.pid1()
			pid, seen := awaitExec(t, p1, 0, 30*time.Second)
			mark, outMark := 0, 0
			if c.restart {
				i.waitReady()
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				pid, seen = awaitExec(t, p1, pid, 30*time.Second)
				// The restart was logged before its fork: what follows is
				// the new Traefik's.
				mark, outMark = len(i.stderr.String()), len(i.stdout.String())
			}
			// The scenario itself: the signal at a given offset after exec.
			time.Sleep(time.Until(seen.Add(c.at)))
			i.kill1(c.sig)
			if c.sig == syscall.SIGTERM {
				checkCleanStop(t, i, mark)
			} else {
				checkHUPKept(t, i, p1, pid, outMark, mark)
			}
			held := strings.Contains(i.stderr.String()[mark:], `msg="signal held until traefik has set its handlers" component=supervisor signal=`+c.sig.String())
			t.Logf("signal %v after exec: held until Traefik's handlers were set: %v", c.at, held)
			if c.at == 0 && !held {
				t.Errorf("a signal at once after exec was not held: the case tested nothing\n%s", i.stderr.String())
			}
		})
	}
}

// checkCleanStop: SIGTERM ended Traefik through its own handler, and the
// container with 0.
func checkCleanStop(t *testing.T, i *instance, mark int) {
	t.Helper()
	if code := i.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	out := i.stderr.String()[mark:]
	if !strings.Contains(out, `msg="traefik ended" component=supervisor status="exit status 0"`) {
		t.Errorf("Traefik did not end by itself with 0:\n%s", out)
	}
	if strings.Contains(out, "restarting") {
		t.Errorf("Traefik was restarted:\n%s", out)
	}
}

// fileConfigs counts the configurations Traefik's file provider sent since
// stdout offset mark: one at start, one more for every SIGHUP (it re-reads
// its files; logged at DEBUG). With a providers throttle, a configuration
// sent while the throttle holds the one before replaces it unseen.
func fileConfigs(i *instance, mark int) int {
	n := 0
	for _, l := range strings.Split(i.stdout.String()[mark:], "\n") {
		if strings.Contains(l, "Configuration received") && strings.Contains(l, "providerName=file") {
			n++
		}
	}
	return n
}

// checkHUPKept: SIGHUP reached Traefik — its file provider re-read its
// files — and Traefik kept running: same pid, serving, no restart.
func checkHUPKept(t *testing.T, i *instance, p1, pid, outMark, mark int) {
	t.Helper()
	i.waitLog(mark, `msg="forwarded signal" component=supervisor signal=hangup pid=`, 30*time.Second)
	eventually(t, 30*time.Second, "Traefik's file provider re-read on SIGHUP", func() error {
		if n := fileConfigs(i, outMark); n < 2 {
			return fmt.Errorf("%d configurations from the file provider, want the start's and the SIGHUP's", n)
		}
		return nil
	})
	i.waitReady()
	if c := children(p1); len(c) != 1 || c[0] != pid {
		t.Errorf("PID 1's children %v, want Traefik %d still", c, pid)
	}
	if out := i.stderr.String()[mark:]; strings.Contains(out, "traefik ended") {
		t.Errorf("Traefik ended after SIGHUP:\n%s", out)
	}
	i.kill1(syscall.SIGTERM)
	if code := i.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d after the final SIGTERM, want 0", code)
	}
}
