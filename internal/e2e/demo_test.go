package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"rancher-traefik/internal/testlog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs the README's demo briefly, curls the line it prints, scales
// the stack with the command it prints (refusing a count it has no backends
// for), and stops it with Ctrl-C (SIGINT): a clean stop, without make
// reporting an error.
func TestDemo(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the demo's printed commands (.ci/run installs it)")
	}
	d := startDemo(t)
	curlLine, scaleLine := d.printedLines(t)
	eventually(t, 30*time.Second, "both backends through the printed curl line", func() error {
		if s := demoAnswers(curlLine); !s["I am backend-1"] || !s["I am backend-2"] {
			return fmt.Errorf("answered: %v", s)
		}
		return nil
	})
	scale := exec.Command("sh", "-c", scaleLine)
	scale.Env = append(d.cmd.Env[:0:0], d.cmd.Env...)
	scale.Dir = d.root // where the user ran make demo
	if out, err := scale.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", scaleLine, err, out)
	}
	eventually(t, 10*time.Second, "scaled to one backend", func() error {
		if s := demoAnswers(curlLine); len(s) != 1 || !s["I am backend-1"] {
			return fmt.Errorf("answered: %v", s)
		}
		return nil
	})
	d.checkScaleRefused(t, scaleLine)
	d.stopWithCtrlC(t, curlLine)
}

// demo is make demo running, in a directory of its own.
type demo struct {
	cmd             *exec.Cmd
	dir, root       string
	done            chan error // make's end
	printed, stderr *testlog.Buffer
}

// startDemo starts the README's command, as a user would run it (the
// binaries are built by make), on free ports; it is killed when the test
// ends.
func startDemo(t *testing.T) *demo {
	t.Helper()
	d := &demo{dir: t.TempDir(), done: make(chan error, 1), printed: &testlog.Buffer{}, stderr: &testlog.Buffer{}}
	ports := map[string]int{"DEMO_HTTP_PORT": freePort(t), "DEMO_HTTPS_PORT": freePort(t), "DEMO_ADMIN_PORT": freePort(t), "DEMO_METADATA_PORT": freePort(t), "DEMO_BACKEND_PORT": freePort(t)}
	d.root, _ = filepath.Abs(filepath.Join("..", ".."))
	cmd := exec.Command("make", "-s", "-C", d.root, "demo")
	cmd.Env = []string{"PATH=" + getenv("PATH"), "HOME=" + getenv("HOME"), "DEMO_DIR=" + d.dir}
	for _, k := range []string{"GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		if v := getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range ports {
		cmd.Env = append(cmd.Env, k+"="+strconv.Itoa(v))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd = cmd
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	go func() {
		_, _ = io.Copy(d.printed, bufio.NewReader(stdout))
		d.done <- cmd.Wait()
	}()
	return d
}

// printedLines waits for the demo to print what to try: the curl line and
// the scale command.
func (d *demo) printedLines(t *testing.T) (curlLine, scaleLine string) {
	t.Helper()
	eventually(t, 10*time.Minute, "the demo prints what to try", func() error {
		for _, l := range strings.Split(d.printed.String(), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "curl -k --resolve whoami.example.com") {
				curlLine = l
			}
			if strings.HasSuffix(l, " scale 1") {
				scaleLine = l
			}
		}
		if curlLine == "" || scaleLine == "" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	return curlLine, scaleLine
}

// demoAnswers runs the curl line six times: the first lines of the answers
// (nil when one fails).
func demoAnswers(curlLine string) map[string]bool {
	seen := map[string]bool{}
	for range 6 {
		out, err := exec.Command("sh", "-c", curlLine).Output()
		if err != nil {
			return nil
		}
		first, _, _ := strings.Cut(string(out), "\n")
		seen[first] = true
	}
	return seen
}

// checkScaleRefused: the demo has two backends, more containers would only
// answer 502; a count out of range (or no count) exits 2 and leaves the
// stack as it was.
func (d *demo) checkScaleRefused(t *testing.T, scaleLine string) {
	t.Helper()
	stackBefore, err := os.ReadFile(filepath.Join(d.dir, "stack.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"5", "0", "two"} {
		bad := exec.Command("sh", "-c", strings.TrimSuffix(scaleLine, " 1")+" "+n)
		bad.Env, bad.Dir = append(d.cmd.Env[:0:0], d.cmd.Env...), d.root
		out, err := bad.CombinedOutput()
		if code := bad.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "1 to 2") {
			t.Errorf("scale %s: exit %d (%v), want 2 and the range 1 to 2:\n%s", n, code, err, out)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(d.dir, "stack.yml")); string(after) != string(stackBefore) {
		t.Errorf("a refused scale changed the stack:\n%s", after)
	}
}

// stopWithCtrlC sends SIGINT to the whole foreground group, as the
// terminal does: make must end cleanly, and nothing answer after.
func (d *demo) stopWithCtrlC(t *testing.T, curlLine string) {
	t.Helper()
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
	var waitErr error
	select {
	case waitErr = <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the demo did not stop on Ctrl-C\n%s", d.stderr.String())
	}
	// GNU make re-raises the SIGINT it got from the terminal, so make itself
	// ends by that signal; the demo under it must end with 0, which make
	// would otherwise report as "make: *** [Makefile:N: demo] Error 130".
	if strings.Contains(d.stderr.String(), "make: ***") {
		t.Errorf("make reports the demo failed on Ctrl-C:\n%s", d.stderr.String())
	}
	var ee *exec.ExitError
	if waitErr != nil && !(errors.As(waitErr, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT) {
		t.Errorf("make ended with %v", waitErr)
	}
	if out, _ := exec.Command("sh", "-c", curlLine).CombinedOutput(); strings.Contains(string(out), "I am") {
		t.Error("still answering after Ctrl-C")
	}
}
