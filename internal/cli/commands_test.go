package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rancher-traefik/internal/app"

	"github.com/google/go-cmp/cmp"
)

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
		// dropped, as Traefik v1.7 did: the setting only
		"dropped: st/bad: label traefik.frontend.priority: the value is not a whole number: Traefik v1.7 used the default priority, and so does rancher-traefik",
		// the service's routing cannot be kept: the service left out
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
