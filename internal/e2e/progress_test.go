package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testlog"
)

// fakeGo stands in for `go list -deps`: 120 modules downloaded, 500
// packages listed; with FAKE_LIST_FAIL set it fails the way a network error
// does.
const fakeGo = `#!/bin/sh
[ "$1" = list ] || exit 9
if [ -n "$FAKE_LIST_FAIL" ]; then echo "go: example.com/m1@v1.0.0: dial tcp: connection refused" >&2; exit 1; fi
i=0
while [ $i -lt 120 ]; do i=$((i+1)); echo "go: downloading example.com/m$i v1.0.0" >&2; done
i=0
while [ $i -lt 500 ]; do i=$((i+1)); echo "example.com/p$i"; done
`

// progress starts tools/progress.sh, as the Makefile runs it for Traefik
// and Compose, with the fake go and a 1 s silence interval.
func progress(t *testing.T, env []string, build ...string) (*exec.Cmd, *testlog.Buffer) {
	t.Helper()
	dir := t.TempDir()
	goBin := filepath.Join(dir, "go")
	if err := os.WriteFile(goBin, []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	args := append([]string{"Thing v1.2", "about a minute", dir, "example.com/cmd", "--"}, build...)
	cmd := exec.Command(filepath.Join(root, "tools", "progress.sh"), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GO=" + goBin, "PROGRESS_INTERVAL=1"}, env...)
	var out testlog.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// TestProgressScript: the long builds say what they build and how long it
// takes, count downloads and packages instead of printing them, speak up
// during silence, pass errors through, and keep the build's exit code.
func TestProgressScript(t *testing.T) {
	cmd, out := progress(t, nil, "cat") // the "build" prints what the test feeds it
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	for i := range 250 {
		fmt.Fprintf(stdin, "example.com/p%d\n", i)
	}
	eventually(t, 30*time.Second, "a line per 200 packages", func() error {
		if !strings.Contains(out.String(), "Thing v1.2: 200 of at most 500 packages compiled") {
			return fmt.Errorf("output so far:\n%s", out.String())
		}
		return nil
	})
	// Nothing more comes in: the script must still say it is working.
	eventually(t, 30*time.Second, "a line during silence", func() error {
		if !strings.Contains(out.String(), "Thing v1.2: still working: 250 of at most 500 packages compiled") {
			return fmt.Errorf("output so far:\n%s", out.String())
		}
		return nil
	})
	fmt.Fprintln(stdin, "main.go:3:1: undefined: x")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("progress.sh: %v\n%s", err, out)
	}
	got := out.String()
	for _, want := range []string{
		"building Thing v1.2 from the Go module proxy: the first time takes about a minute",
		"Thing v1.2: 50 modules downloaded", "Thing v1.2: 100 modules downloaded", "Thing v1.2: 120 modules downloaded",
		"Thing v1.2: compiling up to 500 packages",
		"\nmain.go:3:1: undefined: x\n",
		"Thing v1.2: done",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "example.com/p") || strings.Contains(got, "go: downloading") {
		t.Errorf("package or download lines were printed:\n%s", got)
	}
}

func TestProgressScriptKeepsTheExitCode(t *testing.T) {
	cmd, out := progress(t, nil, "sh", "-c", "echo example.com/a; echo 'a.go:1:1: syntax error' >&2; exit 3")
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 3 || !strings.Contains(out.String(), "a.go:1:1: syntax error") || strings.Contains(out.String(), "done") {
		t.Errorf("a failed build: %v\n%s", err, out)
	}
	cmd, out = progress(t, []string{"FAKE_LIST_FAIL=1"}, "sh", "-c", "exit 0")
	err = cmd.Run()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out.String(), "dial tcp: connection refused") || strings.Contains(out.String(), "compiling") {
		t.Errorf("a failed download: %v\n%s", err, out)
	}
}
