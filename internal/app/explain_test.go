package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
)

// explainApp is an App reading env (TRAEFIK_HOME in a temporary directory).
func explainApp(t *testing.T, env map[string]string) (*App, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	vars := map[string]string{"TRAEFIK_HOME": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	var out, errs bytes.Buffer
	return &App{Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Stdout: &out, Stderr: &errs}, &out, &errs
}

// TestExplainGolden: explain over the repository's fixtures, every service
// (v1, v2 and rawmind0 labels; published, excluded, broken, without a
// server), against golden files (go test -update).
func TestExplainGolden(t *testing.T) {
	tests := []struct {
		golden, answers string
		env             map[string]string
	}{
		{"explain-stacks.txt", "../routes/testdata/stacks.yml", map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com"}},
		{"explain-rawmind.txt", "../routes/testdata/rawmind.yml", map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"}},
		{"explain-system.txt", "../metadataserver/testdata/stack.yml", map[string]string{"TRAEFIK_RANCHER_SYSTEM": "true", "TRAEFIK_RANCHER_EXPOSED": "true", "TRAEFIK_RANCHER_DOMAIN": "lab.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			a, out, errs := explainApp(t, tt.env)
			if err := a.Explain(context.Background(), "", tt.answers, ""); err != nil {
				t.Fatalf("%v (stderr %s)", err, errs)
			}
			if errs.Len() > 0 {
				t.Errorf("stderr: %s", errs)
			}
			checkGolden(t, tt.golden, out.Bytes())
		})
	}
}

// checkGolden compares got with testdata/name, rewritten first with
// -update (readme_test.go's flag: the golden package's would clash).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test -update): %v", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", name, diff)
	}
}

// TestExplainHidesCredentials: label values that are credentials (basic
// auth users, a header's value) never print; their option names do.
func TestExplainHidesCredentials(t *testing.T) {
	a, out, _ := explainApp(t, nil)
	if err := a.Explain(context.Background(), "", "../routes/testdata/rawmind.yml", "shop/api"); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"$apr1$", "H6uskkkW", "s3cr3t-header-value", "admin:"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output holds %q:\n%s", secret, out)
		}
	}
	for _, name := range []string{"basicAuth (usersFile)", "headers (customRequestHeaders)"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("output lacks %q:\n%s", name, out)
		}
	}
}

// TestExplainSelect: one STACK/SERVICE, a whole STACK (names without case),
// or an error naming what is missing.
func TestExplainSelect(t *testing.T) {
	tests := []struct {
		only      string
		want      []string // services printed
		wantError bool
	}{
		{"iamfoo/whoami", []string{"iamfoo/whoami"}, false},
		{"IAMFOO/WhoAmI", []string{"iamfoo/whoami"}, false},
		{"v2", []string{"v2/app", "v2/badvalue", "v2/db", "v2/defaults", "v2/typo"}, false},
		{"iamfoo/nope", nil, true},
		{"whoami", nil, true}, // a service's name alone is not a stack
	}
	for _, tt := range tests {
		t.Run(tt.only, func(t *testing.T) {
			a, out, _ := explainApp(t, map[string]string{"TRAEFIK_RANCHER_DOMAIN": "example.com"})
			err := a.Explain(context.Background(), "", "../routes/testdata/stacks.yml", tt.only)
			if tt.wantError {
				if err == nil || !strings.Contains(err.Error(), tt.only) || ExitCode(err) != ExitFailure {
					t.Fatalf("err %v (exit %d), want one naming %q, exit 1", err, ExitCode(err), tt.only)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, line := range strings.Split(out.String(), "\n") {
				if key, _, ok := strings.Cut(line, " ("); ok && !strings.HasPrefix(line, " ") && strings.Contains(key, "/") {
					got = append(got, key)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("printed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestExplainBadInput: an unreadable answers file and a bad configuration
// give their exit codes from the one map.
func TestExplainBadInput(t *testing.T) {
	a, _, _ := explainApp(t, nil)
	if err := a.Explain(context.Background(), "", "testdata/missing.yml", ""); err == nil || ExitCode(err) != ExitFailure {
		t.Errorf("missing answers: err %v, exit %d; want exit 1", err, ExitCode(err))
	}
	a, _, _ = explainApp(t, map[string]string{"TRAEFIK_RANCHER_MODE": "sometimes"})
	if err := a.Explain(context.Background(), "", "../routes/testdata/stacks.yml", ""); ExitCode(err) != ExitConfig {
		t.Errorf("bad TRAEFIK_RANCHER_MODE: err %v, exit %d; want %d", err, ExitCode(err), ExitConfig)
	}
}

// TestAPIMode: with TRAEFIK_RANCHER_MODE=api, routes and explain read the
// Rancher server API (the emulator's), as run does — the metadata URL
// points nowhere, so reading it would fail.
func TestAPIMode(t *testing.T) {
	ans, err := metadataserver.Load("../metadataserver/testdata/stack.yml")
	if err != nil {
		t.Fatal(err)
	}
	srv := metadataserver.New(ans, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK"}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	env := map[string]string{
		"TRAEFIK_RANCHER_MODE": "api", "TRAEFIK_RANCHER_ENDPOINT": ts.URL + "/v1",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK",
		"TRAEFIK_RANCHER_METADATA_URL": "http://127.0.0.1:1/2016-07-29",
	}
	a, out, errs := explainApp(t, env)
	if err := a.Explain(context.Background(), "", "", "IamFoo/WhoAmI"); err != nil {
		t.Fatalf("explain: %v (stderr %s)", err, errs)
	}
	for _, want := range []string{"from Rancher API " + ts.URL + "/v1 (TRAEFIK_RANCHER_MODE=api)", "iamfoo/whoami (service, v1 labels): published", "rule:         Host(`whoami.example.com`)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	a, out, errs = explainApp(t, env)
	if err := a.Routes(context.Background(), "", ""); err != nil {
		t.Fatalf("routes: %v (stderr %s)", err, errs)
	}
	if !strings.Contains(out.String(), "Host(`whoami.example.com`)") {
		t.Errorf("routes output lacks the router:\n%s", out)
	}
	env["TRAEFIK_RANCHER_SECRET"] = "wrong"
	a, _, _ = explainApp(t, env)
	if err := a.Explain(context.Background(), "", "", ""); err == nil || !errors.Is(err, rancher.ErrUnauthorized) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong secret: err %v; want the API's refusal, without the secret", err)
	}
}
