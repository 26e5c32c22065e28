package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rancher-traefik/internal/app"

	"github.com/google/go-cmp/cmp"
)

// TestDevCertNeedsDirAndHost: without --dir and --host nothing is written
// where the command happens to run; with them, the three files are.
func TestDevCertNeedsDirAndHost(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	for _, args := range [][]string{{"dev-cert"}, {"dev-cert", "--host", "a.example.com"}, {"dev-cert", "--dir", "."}} {
		code, _, errb := execute(t, nil, args...)
		if code != app.ExitUsage || !strings.Contains(errb, "required flag") {
			t.Errorf("%v: exit %d, want %d: %s", args, code, app.ExitUsage, errb)
		}
	}
	if ls, _ := os.ReadDir(cwd); len(ls) != 0 {
		t.Fatalf("dev-cert without its flags wrote %v", ls)
	}
	out := filepath.Join(cwd, "certs")
	if code, _, errb := execute(t, nil, "dev-cert", "--dir", out, "--host", "a.example.com"); code != app.ExitOK {
		t.Fatalf("dev-cert: %d %s", code, errb)
	}
	var names []string
	ls, _ := os.ReadDir(out)
	for _, e := range ls {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff(names, []string{"ca.pem", "cert.pem", "key.pem"}); diff != "" {
		t.Errorf("files (-got +want):\n%s", diff)
	}
}

// TestRoutesListsEveryProblem: each bad label of a service is its own
// warning line, and the other services are printed.
func TestRoutesListsEveryProblem(t *testing.T) {
	stack := filepath.Join(t.TempDir(), "stack.yml")
	err := os.WriteFile(stack, []byte(`stacks:
  - name: st
    services:
      - name: bad
        labels:
          traefik.enable: "true"
          traefik.port: "http"
          traefik.frontend.rule: "Hots:bad.example.com"
          traefik.frontend.priority: "high"
        containers:
          - ip: 10.0.0.1
      - name: good
        labels:
          traefik.enable: "true"
          traefik.port: "80"
          traefik.frontend.rule: "Host:good.example.com"
        containers:
          - ip: 10.0.0.2
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errb := execute(t, nil, "routes", "--answers", stack)
	if code != app.ExitOK {
		t.Fatalf("routes: %d %s", code, errb)
	}
	want := []string{
		"warning: st/bad: label traefik.frontend.priority: the value is not a whole number",
		`warning: st/bad: label traefik.frontend.rule: unknown matcher "Hots"`,
		`warning: st/bad: label traefik.port: "http" is not a port number (1-65535)`,
	}
	if diff := cmp.Diff(strings.Split(strings.TrimSpace(errb), "\n"), want); diff != "" {
		t.Errorf("warnings (-got +want):\n%s", diff)
	}
	if !strings.Contains(out, "good-st") || strings.Contains(out, "bad-st") {
		t.Errorf("routes printed:\n%s", out)
	}
}
