package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/app"
)

// TestBadConstraintsAreAConfigProblem: routes' grammars are checked when the
// environment is read, so check and render report a bad
// TRAEFIK_RANCHER_CONSTRAINTS or TRAEFIK_RANCHER_DEFAULT_RULE like any other value, naming it, with the
// other problems.
func TestBadConstraintsAreAConfigProblem(t *testing.T) {
	vars := map[string]string{
		"TRAEFIK_HOME": filepath.Join(t.TempDir(), "home"), "TRAEFIK_SECRETS_DIR": t.TempDir(),
		"TRAEFIK_RANCHER_CONSTRAINTS": "tag==api,tags!=internal", "TRAEFIK_RANCHER_REFRESH": "0",
		"TRAEFIK_RANCHER_DEFAULT_RULE": "Host(`{{ .Service }}.{{ .Nope }}`)",
	}
	want := []string{
		`TRAEFIK_RANCHER_REFRESH: "0" is not a number of seconds from 1 to 120`,
		`TRAEFIK_RANCHER_CONSTRAINTS: constraint "tags!=internal" is not tag==NAME or tag!=NAME (Traefik v1 constraints; a v2 expression such as Label("k","v") cannot be mixed with them)`,
		"TRAEFIK_RANCHER_DEFAULT_RULE: tried on service web of stack shop with domain example.com, it failed: template: rule:1:24: executing \"rule\" at <.Nope>: can't evaluate field Nope in type routes.ruleData",
	}
	code, out, _ := execute(t, vars, "check")
	if diff := cmp.Diff(strings.Split(strings.TrimSpace(out), "\n"), want); diff != "" || code != app.ExitConfig {
		t.Errorf("check: exit %d, want %d (-got +want):\n%s", code, app.ExitConfig, diff)
	}
	code, _, errb := execute(t, vars, "render")
	if code != app.ExitConfig || !strings.Contains(errb, want[1]) {
		t.Errorf("render: exit %d, want %d and %q in:\n%s", code, app.ExitConfig, want[1], errb)
	}
}
