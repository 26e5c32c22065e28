package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// procStart is a process's start time (clock ticks since boot, field 22 of
// /proc/<pid>/stat) and state: with the pid, it names one process even if
// the pid is reused.
func procStart(pid int) (start, state string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 20 {
		return "", "", fmt.Errorf("short stat for %d", pid)
	}
	return f[19], f[0], nil
}

// awaitGone waits until the process (pid, start) has ended: no such pid, a
// different process under it, or a zombie (dead, waiting for whoever
// inherited it to reap it).
func awaitGone(t *testing.T, pid int, start string, limit time.Duration) {
	t.Helper()
	eventually(t, limit, fmt.Sprintf("Traefik (pid %d) gone", pid), func() error {
		s, state, err := procStart(pid)
		if err != nil || s != start || state == "Z" {
			return nil
		}
		return fmt.Errorf("still alive, state %s", state)
	})
}

// portsReleased waits until nothing accepts on 127.0.0.1 at ports: a
// killed process's sockets close when its last thread is gone, a moment
// after its main thread shows as a zombie.
func portsReleased(t *testing.T, limit time.Duration, ports ...int) {
	t.Helper()
	eventually(t, limit, fmt.Sprintf("ports %v released", ports), func() error {
		for _, p := range ports {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), time.Second); err == nil {
				c.Close()
				return fmt.Errorf("port %d still accepts connections", p)
			}
		}
		return nil
	})
}

// TestClosedStdoutThenSIGINT: `rancher-traefik run 2>&1 | tee log`, then
// Ctrl-C — the reader of our stdout and stderr is gone, then SIGINT comes.
// rancher-traefik must not die of SIGPIPE writing its log (which left
// Traefik running, holding its ports): it stops Traefik and exits itself.
func TestClosedStdoutThenSIGINT(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ourBin, "run")
	cmd.Env = i.environ()
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// The reader, like tee, until it is told to go.
	var out bytes.Buffer
	var mu sync.Mutex
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	i.waitReady()
	pid := traefikChild(t, cmd.Process.Pid)
	start, _, err := procStart(pid)
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader is gone; its goroutine ends at its next read
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		mu.Lock()
		t.Fatalf("rancher-traefik still running 30s after SIGINT; its output before the reader left:\n%s", out.String())
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Errorf("rancher-traefik was killed by %v, want it to exit by itself", ws.Signal())
	}
	// Traefik's own first words on SIGINT ("I have to go...") go to the
	// closed pipe: the Go runtime ends it by SIGPIPE, and its code is the
	// container's, 128+13.
	if ws.ExitStatus() != 141 {
		t.Errorf("rancher-traefik exited with %d, want Traefik's 141 (SIGPIPE)", ws.ExitStatus())
	}
	awaitGone(t, pid, start, 10*time.Second)
	portsReleased(t, 10*time.Second, i.admin, i.httpPort)
}

// traefikChild is the pid of the Traefik that parent supervises.
func traefikChild(t testing.TB, parent int) int {
	t.Helper()
	var pid int
	eventually(t, 10*time.Second, "Traefik under rancher-traefik", func() error {
		c := children(parent)
		if len(c) != 1 {
			return fmt.Errorf("%d children", len(c))
		}
		pid = c[0]
		return nil
	})
	return pid
}

// TestTraefikDiesWithItsSupervisor: kill -9 of rancher-traefik (not PID 1
// here: as PID 1 the kernel ends the whole namespace) takes Traefik with it
// (Pdeathsig), so no Traefik is left holding the ports.
func TestTraefikDiesWithItsSupervisor(t *testing.T) {
	i := newInstance(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"})
	// Output to a file, not a pipe the test copies: a Traefik left behind
	// would hold the pipe open, and waiting for rancher-traefik would hang.
	logf, err := os.Create(filepath.Join(i.dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(ourBin, "run")
	cmd.Env = i.environ()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	i.waitReady()
	pid := traefikChild(t, cmd.Process.Pid)
	start, _, err := procStart(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // a Traefik left behind by a failure goes, not another process
		if s, _, err := procStart(pid); err == nil && s == start {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("rancher-traefik ended with %v, want killed by SIGKILL", err)
	}
	awaitGone(t, pid, start, 10*time.Second)
	portsReleased(t, 10*time.Second, i.admin, i.httpPort)
}
