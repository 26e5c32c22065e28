package app

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPrepareREST: TRAEFIK_ROUTES_DELIVERY=rest writes the credential's
// hash (0600, never the password), the REST router file, and traefik.toml
// with the REST provider on a loopback port; the routes file a file run
// left in the watched directory moves out (it would serve the routes twice);
// back to file, the REST files go and the routes file moves back.
func TestPrepareREST(t *testing.T) {
	dir := t.TempDir()
	writeChain(t, dir, newChain(t, "a.example.com"))
	vars := tlsVars(t, dir)
	vars["TRAEFIK_ROUTES_DELIVERY"] = "rest"
	a, _, errb := testApp(vars)
	cfg, log, err := a.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	inDir := filepath.Join(cfg.DynamicDir(), "rancher.toml")
	if err := os.MkdirAll(cfg.DynamicDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inDir, []byte("# routes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rest, err := restDeliveryOf(cfg, log)
	if err != nil || rest == nil {
		t.Fatalf("no REST delivery: %v", err)
	}
	if _, err := a.prepare(cfg, log, true, rest); err != nil {
		t.Fatal(err)
	}
	if cfg.RancherFile() == inDir {
		t.Fatalf("the routes file is in the watched directory: %s", cfg.RancherFile())
	}
	if b, err := os.ReadFile(cfg.RancherFile()); err != nil || string(b) != "# routes\n" {
		t.Errorf("the routes file was not moved out of the watched directory: %v %q", err, b)
	}
	if _, err := os.Stat(inDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rancher.toml still in the watched directory: %v", err)
	}
	users, err := os.ReadFile(cfg.RESTUsersFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg.RESTUsersFile()); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s is %v, want 0600", cfg.RESTUsersFile(), fi.Mode().Perm())
	}
	sum := sha1.Sum([]byte(rest.password))
	if want := "rancher-traefik:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"; string(users) != want {
		t.Errorf("users file %q, want the hash of the run's password", users)
	}
	if len(rest.password) < 64 || strings.Contains(string(users), rest.password) || strings.Contains(errb.String(), rest.password) {
		t.Error("the password is short, or in the users file or the log")
	}
	static, _ := os.ReadFile(cfg.StaticFile())
	if !regexp.MustCompile(`\[entryPoints\.rancher-traefik-rest\]\s+address = "127\.0\.0\.1:\d+"`).Match(static) || !strings.Contains(string(static), "[providers.rest]\n    insecure = false") {
		t.Errorf("traefik.toml has no REST provider on loopback:\n%s", static)
	}
	if _, err := os.Stat(filepath.Join(cfg.DynamicDir(), restFile)); err != nil {
		t.Error(err)
	}

	// Back to the file provider.
	delete(vars, "TRAEFIK_ROUTES_DELIVERY")
	b, _, _ := testApp(vars)
	cfg2, log2, err := b.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Prepare(cfg2, log2); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{cfg.RESTUsersFile(), filepath.Join(cfg.DynamicDir(), restFile), cfg.RancherFile()} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", gone, err)
		}
	}
	if b, err := os.ReadFile(inDir); err != nil || string(b) != "# routes\n" {
		t.Errorf("the routes file did not move back: %v %q", err, b)
	}
	if static, _ := os.ReadFile(cfg2.StaticFile()); strings.Contains(string(static), "rest") {
		t.Errorf("traefik.toml still names the REST provider:\n%s", static)
	}
}
