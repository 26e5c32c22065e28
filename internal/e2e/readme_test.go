package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"rancher-traefik/internal/testlog"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeSection returns the README's text under heading, up to the next
// heading of any level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q", heading)
	}
	var out []string
	for _, line := range strings.Split(rest, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestREADMEWithoutRancher runs what "Trying it without Rancher" shows:
// its stack file, served by `metadata-server --answers stack.yml` and
// printed by `routes --answers stack.yml`, gives the whoami route with the
// healthy container only.
func TestREADMEWithoutRancher(t *testing.T) {
	sec := readmeSection(t, "### Trying it without Rancher")
	_, block, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatal("no yaml block in the section")
	}
	block, _, _ = strings.Cut(block, "```")
	for _, shown := range []string{"`rancher-traefik metadata-server --answers stack.yml`", "`rancher-traefik routes --answers stack.yml`", "http://127.0.0.1:8090/2016-07-29"} {
		if !strings.Contains(sec, shown) {
			t.Fatalf("the section no longer shows %s; update this test", shown)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stack.yml"), []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	ours := func(args ...string) *exec.Cmd {
		cmd := exec.Command(ourBin, args...)
		cmd.Dir = dir
		return cmd
	}
	var stderr bytes.Buffer
	cmd := ours("routes", "--answers", "stack.yml")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("routes --answers stack.yml: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"Host(`whoami.example.com`)", `url = "http://10.42.0.2:80"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("routes printed no %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "10.42.0.3") {
		t.Errorf("the unhealthy container is routed:\n%s", out)
	}

	// The emulator as shown, on its default address when that is free here.
	addr, args := "127.0.0.1:8090", []string{"metadata-server", "--answers", "stack.yml"}
	if ln, err := net.Listen("tcp", addr); err != nil {
		addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		args = append(args, "--listen", addr)
		t.Logf("127.0.0.1:8090 is taken here (%v): serving on %s instead", err, addr)
	} else {
		ln.Close()
	}
	srv := ours(args...)
	var srvOut testlog.Buffer
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() })
	url := "http://" + addr + "/2016-07-29/stacks/iamfoo/services/whoami/labels/traefik.frontend.rule"
	eventually(t, 10*time.Second, "the emulator serving the README's stack", func() error {
		code, body, err := get(plainClient(), url, nil)
		if err != nil || code != 200 || strings.TrimSpace(body) != "Host:whoami.example.com" {
			return fmt.Errorf("%d %q %v; output:\n%s", code, body, err, srvOut.String())
		}
		return nil
	})
}

// TestCompletion: `rancher-traefik completion bash|zsh|fish`, as the
// README lists it, and the completions those scripts ask the binary for.
func TestCompletion(t *testing.T) {
	i := newInstance(t, nil)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := i.run("completion", sh)
		if code != 0 || !strings.Contains(stdout, "rancher-traefik") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, code, len(stdout), stderr)
		}
	}
	code, stdout, _ := i.run("__complete", "meta")
	if code != 0 || !strings.Contains(stdout, "metadata-server") {
		t.Errorf("completing \"meta\": exit %d %q", code, stdout)
	}
}

// TestREADMECommands: the README's command tables name every command each
// binary has and no other — the product's under "## Commands", the
// development tools' under "### Development tools" — as the binaries
// themselves list them (the completion they offer for a first word).
func TestREADMECommands(t *testing.T) {
	for _, tc := range []struct{ bin, name, heading string }{
		{ourBin, "rancher-traefik", "## Commands"},
		{devBin, "rancher-traefik-dev", "### Development tools"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(tc.bin, "__complete", "").Output()
			if err != nil {
				t.Fatalf("%s __complete: %v", tc.name, err)
			}
			var has []string
			for _, line := range strings.Split(string(out), "\n") {
				name, _, _ := strings.Cut(line, "\t")
				if name != "" && name != "help" && !strings.HasPrefix(name, ":") {
					has = append(has, name)
				}
			}
			documented := map[string]bool{}
			// A table row's first cell names the commands: `rancher-traefik run`.
			row := regexp.MustCompile(`(?m)^\| ([^|]|\\\|)*`)
			word := regexp.MustCompile("`" + regexp.QuoteMeta(tc.name) + " ([a-z][a-z-]*)")
			for _, cell := range row.FindAllString(readmeSection(t, tc.heading), -1) {
				for _, m := range word.FindAllStringSubmatch(cell, -1) {
					documented[m[1]] = true
				}
			}
			for _, c := range has {
				if !documented[c] {
					t.Errorf("%s %s is not in the README's table under %q", tc.name, c, tc.heading)
				}
				delete(documented, c)
			}
			for c := range documented {
				t.Errorf("the README's table under %q lists %s %s, which the binary does not have", tc.heading, tc.name, c)
			}
		})
	}
}
