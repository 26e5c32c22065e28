package app

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the generated sections of README.md")

// section replaces or checks the README part between <!-- name:begin --> and
// <!-- name:end -->.
func section(t *testing.T, name, want string) {
	t.Helper()
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)(<!-- ` + name + `:begin -->\n).*?(<!-- ` + name + `:end -->)`)
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md has no %s section", name)
	}
	if *update {
		b = re.ReplaceAllLiteral(b, append(append(append([]byte{}, m[1]...), want...), m[2]...))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := string(re.FindSubmatch(b)[0])
	got = strings.TrimSuffix(strings.TrimPrefix(got, string(m[1])), string(m[2]))
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("README.md %s section is stale (go test ./internal/app -update) (-got +want):\n%s", name, diff)
	}
}

func TestREADMEEnvTable(t *testing.T) {
	section(t, "env", EnvMarkdown())
}

func TestREADMEExitCodes(t *testing.T) {
	section(t, "exit-codes", CodesMarkdown())
}
