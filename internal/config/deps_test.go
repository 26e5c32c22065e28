package config

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDependsOnlyOnSecrets: of the module's packages, config depends on
// secrets alone (docs/design.md: "config depends on nothing but secrets"),
// so every command can read the environment without the rest; the grammar
// of a value another package uses is checked through a Check.
func TestDependsOnlyOnSecrets(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the imports: %v", err)
	}
	// -deps lists every package config needs to build, imports of imports
	// too, but not those of its tests.
	out, err := exec.Command(gotool, "list", "-deps",
		"-f", "{{if .Module}}{{if .Module.Main}}{{.ImportPath}}{{end}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	want := []string{"rancher-traefik/internal/config", "rancher-traefik/internal/secrets"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("config's packages of this module (-got +want):\n%s", diff)
	}
}
