package cli

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"rancher-traefik/internal/app"

	"github.com/google/go-cmp/cmp"
)

// testEnv is an environment of exactly vars, and buffers for the output.
func testEnv(vars map[string]string) (*app.App, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &app.App{
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		Stdout: &out, Stderr: &errb, Version: "test",
	}, &out, &errb
}

func execute(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	e, out, errb := testEnv(vars)
	code := Execute(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// TestCheckAgreesWithRender: check finds what render would fail on, a
// TRAEFIK_HOME that cannot be written, and says which directory.
func TestCheckAgreesWithRender(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		home string
		want string // check's problem line, "" when valid
	}{
		{filepath.Join(dir, "new", "home"), ""},
		{"/proc/nope", "TRAEFIK_HOME: /proc/nope/etc cannot be created under /proc: no such file or directory"},
		{file, "TRAEFIK_HOME: " + file + "/etc cannot be created under " + file + ": not a directory"},
	} {
		t.Run(tc.home, func(t *testing.T) {
			vars := map[string]string{"TRAEFIK_HOME": tc.home, "TRAEFIK_SECRETS_DIR": dir}
			code, out, errb := execute(t, vars, "check")
			if got := strings.TrimSpace(out); got != tc.want {
				t.Errorf("check printed %q, want %q", got, tc.want)
			}
			wantCode := app.ExitOK
			if tc.want != "" {
				wantCode = app.ExitConfig
			}
			if code != wantCode {
				t.Errorf("check: exit %d, want %d (%s)", code, wantCode, errb)
			}
			if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
				t.Errorf("check created %s", filepath.Join(dir, "new"))
			}
			rcode, _, rerr := execute(t, vars, "render")
			if (rcode == app.ExitOK) != (code == app.ExitOK) {
				t.Errorf("check exits %d but render %d: %s", code, rcode, rerr)
			}
			_ = os.RemoveAll(filepath.Join(dir, "new"))
		})
	}
}

// TestCheckLeavesNothingBehind: the probe files are removed, in a home
// render has filled.
func TestCheckLeavesNothingBehind(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"TRAEFIK_HOME": home, "TRAEFIK_SECRETS_DIR": t.TempDir()}
	if code, _, errb := execute(t, vars, "render"); code != app.ExitOK {
		t.Fatalf("render: %d %s", code, errb)
	}
	before := tree(t, home)
	if code, out, errb := execute(t, vars, "check"); code != app.ExitOK {
		t.Fatalf("check: %d %s %s", code, out, errb)
	}
	if diff := cmp.Diff(tree(t, home), before); diff != "" {
		t.Errorf("check changed TRAEFIK_HOME (-after +before):\n%s", diff)
	}
}

func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		out = append(out, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestUnknownVariablesAreWarned: check, render and run name every TRAEFIK_*
// variable they do not read, with the name meant, and never its value.
func TestUnknownVariablesAreWarned(t *testing.T) {
	const secret = "SUPERSECRETVALUE"
	vars := map[string]string{
		"TRAEFIK_HOME": filepath.Join(t.TempDir(), "home"), "TRAEFIK_SECRETS_DIR": t.TempDir(),
		"TRAEFIK_HTTPS_ENABLED": "false", "TRAEFIK_HTTP_PROT": "80", "TRAEFIK_RANCHER_SECRET_KEY": secret,
		"TRAEFIK_INSECURE_SKIP": "true", "TRAEFIK_BINARY": "/nonexistent/traefik", "TRAEFIK_RANCHER_MODE": "off",
	}
	code, out, errb := execute(t, vars, "check")
	want := `warning: TRAEFIK_HTTPS_ENABLED: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_HTTPS_ENABLE?
warning: TRAEFIK_HTTP_PROT: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_HTTP_PORT?
warning: TRAEFIK_INSECURE_SKIP: a variable of rawmind0/alpine-traefik, not read by rancher-traefik: use TRAEFIK_INSECURE_SKIP_VERIFY
warning: TRAEFIK_RANCHER_SECRET_KEY: not a variable rancher-traefik reads, ignored; did you mean TRAEFIK_RANCHER_SECRET?
`
	if diff := cmp.Diff(out, want); diff != "" || code != app.ExitOK {
		t.Errorf("check: exit %d (-got +want):\n%s", code, diff)
	}
	if !strings.Contains(errb, "configuration is valid, but 4 variable(s) are ignored") {
		t.Errorf("check's summary: %q", errb)
	}
	for _, args := range [][]string{{"render"}, {"run"}} {
		_, out, errb := execute(t, vars, args...)
		for _, name := range []string{"TRAEFIK_HTTPS_ENABLED", "TRAEFIK_HTTP_PROT", "TRAEFIK_RANCHER_SECRET_KEY", "TRAEFIK_INSECURE_SKIP"} {
			if !strings.Contains(errb, "level=WARN msg=\"environment variable ignored\" variable="+name+" ") {
				t.Errorf("%v does not warn about %s:\n%s", args, name, errb)
			}
		}
		if strings.Contains(out+errb, secret) {
			t.Errorf("%v printed the value of an unknown variable:\n%s%s", args, out, errb)
		}
	}
}

// TestCheckProbesWhatRunWrites: run also writes the credential key and the
// label credentials (etc/auth, when Rancher is read) and the pairs of
// Rancher's certificate store (certs/rancher, when some are served): check
// probes those too, and only when run would write them.
func TestCheckProbesWhatRunWrites(t *testing.T) {
	api := map[string]string{"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_ENDPOINT": "http://rancher:8080/v1",
		"TRAEFIK_RANCHER_ACCESSKEY": "ak", "TRAEFIK_RANCHER_SECRET": "sk"}
	for _, tc := range []struct {
		name, blocked string // blocked: a file where run needs a directory
		vars          map[string]string
		problem       bool
	}{
		{"credentials, Rancher read", "etc/auth", nil, true},
		{"credentials, Rancher off", "etc/auth", map[string]string{"TRAEFIK_RANCHER_MODE": "off"}, false},
		{"store certificates served", "certs/rancher", map[string]string{"TRAEFIK_RANCHER_CERTIFICATES": "all"}, true},
		{"store certificates not served", "certs/rancher", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			blocked := filepath.Join(home, tc.blocked)
			if err := os.MkdirAll(filepath.Dir(blocked), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blocked, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"TRAEFIK_HOME": home, "TRAEFIK_SECRETS_DIR": t.TempDir()}
			if tc.vars["TRAEFIK_RANCHER_CERTIFICATES"] != "" {
				maps.Copy(vars, api)
			}
			maps.Copy(vars, tc.vars)
			code, out, errb := execute(t, vars, "check")
			want, wantCode := "", app.ExitOK
			if tc.problem {
				want, wantCode = "TRAEFIK_HOME: "+blocked+" is not writable: not a directory", app.ExitConfig
			}
			if got := strings.TrimSpace(out); got != want || code != wantCode {
				t.Errorf("check: exit %d, printed %q (%s); want exit %d and %q", code, got, errb, wantCode, want)
			}
		})
	}
}
