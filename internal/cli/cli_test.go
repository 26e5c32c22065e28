package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/testcert"
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
		t.Errorf("README.md %s section is stale (go test ./internal/cli -update) (-got +want):\n%s", name, diff)
	}
}

func TestREADMEEnvTable(t *testing.T) {
	section(t, "env", EnvMarkdown())
}

func TestREADMEExitCodes(t *testing.T) {
	var b strings.Builder
	b.WriteString("| Code | Meaning |\n|---|---|\n")
	for _, c := range ExitCodes {
		fmt.Fprintf(&b, "| %d | %s |\n", c.Code, c.Doc)
	}
	section(t, "exit-codes", b.String())
}

func TestEnvCommandListsEveryVariable(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"env"}, env{lookup: func(string) (string, bool) { return "", false }, stdout: &out, stderr: &errb})
	if code != 0 {
		t.Fatalf("env: %d %s", code, errb.String())
	}
	for _, v := range config.Vars {
		if !regexp.MustCompile(`(?m)^` + v.Name + `\s`).MatchString(out.String()) {
			t.Errorf("env does not list %s", v.Name)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"}, {"run", "extra"}, {"render", "--nope"},
		// The development tools are rancher-traefik-dev's (internal/devtools).
		{"whoami"}, {"dev-cert", "--dir", "d", "--host", "a.example.com"},
		{"routes", "--answers", "stack.yml", "--metadata-url", "http://127.0.0.1:1/2016-07-29"},
		{"env", "--markdown", "--effective"},
	} {
		var out, errb bytes.Buffer
		code := Execute(context.Background(), args, env{lookup: func(string) (string, bool) { return "", false }, stdout: &out, stderr: &errb})
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errb.String())
		}
	}
}

func TestChildEnv(t *testing.T) {
	parent := map[string]string{
		"PATH": "/bin", "HOME": "/root", "TZ": "Europe/Paris",
		"TRAEFIK_RANCHER_SECRET": "s", "CATTLE_SECRET_KEY": "k", "TRAEFIK_HTTP_PORT": "80",
		"AWS_REGION": "eu-west-1", "OTHER": "x",
	}
	lookup := func(k string) (string, bool) { v, ok := parent[k]; return v, ok }
	got := childEnv(lookup, []string{"AWS_REGION", "MISSING"})
	want := []string{"PATH=/bin", "HOME=/root", "TZ=Europe/Paris", "AWS_REGION=eu-west-1"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("childEnv (-got +want):\n%s", diff)
	}
	got = childEnv(func(string) (string, bool) { return "", false }, nil)
	if diff := cmp.Diff(got, []string{"PATH=" + defaultPath}); diff != "" {
		t.Errorf("childEnv without PATH (-got +want):\n%s", diff)
	}
}

// BenchmarkPrepare measures reading the environment, checking the
// certificate and rendering every file (the files are unchanged after the
// first iteration, as on a restart).
func BenchmarkPrepare(b *testing.B) {
	dir := b.TempDir()
	c, err := testcert.New(testcert.Options{Hosts: []string{"bench.example.com"}, RSA: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert"), c.Bundle(), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), c.KeyPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	envm := map[string]string{"TRAEFIK_HOME": filepath.Join(dir, "home"), "TRAEFIK_SECRETS_DIR": dir, "TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key", "TRAEFIK_ADMIN_AUTH_USERS": "admin:{SHA}x"}
	e := env{lookup: func(k string) (string, bool) { v, ok := envm[k]; return v, ok }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	b.ReportAllocs()
	for b.Loop() {
		cfg, log, err := loadConfig(e)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := prepare(cfg, log); err != nil {
			b.Fatal(err)
		}
	}
}
