package cli

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"rancher-traefik/internal/app"
	"rancher-traefik/internal/config"
)

func TestEnvCommandListsEveryVariable(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"env"}, &app.App{Lookup: func(string) (string, bool) { return "", false }, Stdout: &out, Stderr: &errb})
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
		code := Execute(context.Background(), args, &app.App{Lookup: func(string) (string, bool) { return "", false }, Stdout: &out, Stderr: &errb})
		if code != app.ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, app.ExitUsage, errb.String())
		}
	}
}
