package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/supervisor"
	"rancher-traefik/internal/testcert"
)

// testApp is an App reading exactly vars, its output in buffers.
func testApp(vars map[string]string) (*App, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &App{
		Lookup:  func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Stdout:  &out,
		Stderr:  &errb,
		Version: "test",
	}, &out, &errb
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("x"), ExitFailure},
		{"usage", Kind(ErrUsage, errors.New("x")), ExitUsage},
		{"tls", Kind(ErrTLS, &config.Error{}), ExitTLS},
		{"config error", fmt.Errorf("wrapped: %w", &config.Error{}), ExitConfig},
		{"config kind", Kind(ErrConfig, errors.New("x")), ExitConfig},
		// The kind given closest to the top decides: an unhealthy answer
		// caused by an invalid environment is still 1.
		{"unhealthy over config", Kind(ErrUnhealthy, fmt.Errorf("unhealthy: %w", &config.Error{})), ExitFailure},
		{"not found", fmt.Errorf("TRAEFIK_BINARY: %w", supervisor.ErrNotFound), ExitNotFound},
		{"not startable", fmt.Errorf("x: %w", supervisor.ErrNotStartable), ExitNotStartable},
		{"crash loop", fmt.Errorf("x: %w", supervisor.ErrCrashLoop), ExitCrashLoop},
		{"Traefik's own", ChildExit(143), 143},
		{"reported", Reported(Kind(ErrConfig, errors.New("2 problem(s)"))), ExitConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// TestCodesHaveKinds: every code of ours in the table has the kind that
// leads to it, and no two rows share a kind or a code.
func TestCodesHaveKinds(t *testing.T) {
	kinds, codes := map[error]bool{}, map[int]bool{}
	for _, c := range Codes {
		if codes[c.Code] || (c.Kind != nil && kinds[c.Kind]) {
			t.Errorf("code %d or its kind appears twice", c.Code)
		}
		codes[c.Code], kinds[c.Kind] = true, true
		if c.Kind != nil && ExitCode(Kind(c.Kind, errors.New("x"))) != c.Code {
			t.Errorf("kind %v does not map to %d", c.Kind, c.Code)
		}
	}
}

// TestCertificateProblemsExitTLS: a certificate or key that cannot be read
// exits 65, as the README and --help say (it exited 78 before); a pair
// with one half unset, or another variable's problem beside it, is a
// configuration mistake, 78. Render, run's preparation, and check agree.
func TestCertificateProblemsExitTLS(t *testing.T) {
	dir := t.TempDir()
	c, err := testcert.New(testcert.Options{Hosts: []string{"a.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, c.Bundle(), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tt := range []struct {
		name string
		vars map[string]string
		want int
	}{
		{"missing certificate file", map[string]string{"TRAEFIK_SSL_CERT": missing, "TRAEFIK_SSL_PRIVATE_KEY": cert}, ExitTLS},
		{"missing key file", map[string]string{"TRAEFIK_SSL_CERT": cert, "TRAEFIK_SSL_PRIVATE_KEY": missing}, ExitTLS},
		{"missing _FILE", map[string]string{"TRAEFIK_SSL_CERT_FILE": missing, "TRAEFIK_SSL_PRIVATE_KEY": cert}, ExitTLS},
		{"key does not match", map[string]string{"TRAEFIK_SSL_CERT": cert, "TRAEFIK_SSL_PRIVATE_KEY": cert}, ExitTLS},
		{"certificate without key", map[string]string{"TRAEFIK_SSL_CERT": cert}, ExitConfig},
		{"missing certificate and a bad port", map[string]string{"TRAEFIK_SSL_CERT": missing, "TRAEFIK_SSL_PRIVATE_KEY": missing, "TRAEFIK_HTTP_PORT": "x"}, ExitConfig},
		{"missing API key file", map[string]string{"TRAEFIK_RANCHER_ACCESSKEY": missing, "TRAEFIK_RANCHER_SECRET": "s"}, ExitConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["TRAEFIK_HOME"] = filepath.Join(t.TempDir(), "home")
			tt.vars["TRAEFIK_SECRETS_DIR"] = dir
			a, _, _ := testApp(tt.vars)
			if got := ExitCode(a.Render(false)); got != tt.want {
				t.Errorf("render: exit %d, want %d", got, tt.want)
			}
			if got := ExitCode(a.Check()); got != tt.want {
				t.Errorf("check: exit %d, want %d", got, tt.want)
			}
			if _, err := os.Stat(filepath.Join(tt.vars["TRAEFIK_HOME"], "etc", "traefik.toml")); err == nil {
				t.Error("render wrote traefik.toml despite the problem")
			}
		})
	}
}
