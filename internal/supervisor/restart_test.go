package supervisor

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestartRequested: a restart asked through Options.Restarts stops the
// child and starts a new one at once, even under the never policy, and
// logs why; a stop afterwards ends the new one for good. Started is told
// of each child (REST delivery pushes the routes to it).
func TestRestartRequested(t *testing.T) {
	restarts := make(chan string, 1)
	started := make(chan struct{}, 4)
	h := newHarness(t, "late:10ms", Options{Restarts: restarts, Started: func() { started <- struct{}{} }})
	res := h.start()
	first := <-h.pids
	restarts <- "the ACME issuer changed"
	var second int
	select {
	case second = <-h.pids:
	case <-time.After(30 * time.Second):
		t.Fatalf("no second child after the restart request:\n%s", h.log.String())
	}
	if second == first {
		t.Fatalf("the same pid %d twice", first)
	}
	for n := range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatalf("Started called %d times for two children", n)
		}
	}
	if err := syscall.Kill(first, 0); err != syscall.ESRCH {
		t.Errorf("the first child (%d) is still there: %v", first, err)
	}
	h.sigs <- syscall.SIGTERM
	code, err := h.wait(res)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	for _, s := range []string{`msg="stopping traefik" component=supervisor reason="the ACME issuer changed"`, `msg="traefik stopped to be restarted with its new configuration"`} {
		if !strings.Contains(h.log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, h.log.String())
		}
	}
}

// TestStopDuringRestart: a stop that comes while a restart is under way
// wins: no second child is started.
func TestStopDuringRestart(t *testing.T) {
	restarts := make(chan string, 1)
	h := newHarness(t, "late:10ms", Options{Restarts: restarts, StopGrace: 5 * time.Second})
	res := h.start()
	<-h.pids
	restarts <- "the ACME issuer changed"
	h.sigs <- syscall.SIGTERM
	code, err := h.wait(res)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v; want 0\n%s", code, err, h.log.String())
	}
	select {
	case pid := <-h.pids:
		t.Fatalf("a second child (%d) was started after the stop:\n%s", pid, h.log.String())
	default:
	}
}
