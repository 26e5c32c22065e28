package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rancher-traefik/internal/testcert"
	"rancher-traefik/internal/testlog"
)

// writeChain writes c's bundle and key where the secrets variables name them.
func writeChain(t *testing.T, dir string, c *testcert.Chain) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cert"), c.Bundle(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newChain(t *testing.T, host string) *testcert.Chain {
	t.Helper()
	c, err := testcert.New(testcert.Options{Hosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsVars are an environment with the main pair as Rancher secrets in dir.
func tlsVars(t *testing.T, dir string) map[string]string {
	return map[string]string{
		"TRAEFIK_HOME": filepath.Join(t.TempDir(), "home"), "TRAEFIK_SECRETS_DIR": dir,
		"TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key", "TRAEFIK_ADMIN_AUTH_USERS": "admin:{SHA}x",
	}
}

// TestPrepareWritesEveryFile: into an empty home, every file with its
// mode; a second Prepare changes nothing; the served certificate is the
// one given.
func TestPrepareWritesEveryFile(t *testing.T) {
	dir := t.TempDir()
	c := newChain(t, "a.example.com")
	writeChain(t, dir, c)
	a, _, _ := testApp(tlsVars(t, dir))
	cfg, log, err := a.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	served, err := a.Prepare(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if served.main != c.Fingerprint() {
		t.Errorf("served %q, want %q", served.main, c.Fingerprint())
	}
	files := map[string]os.FileMode{
		cfg.StaticFile():                                0o644,
		cfg.AdminUsersFile():                            0o600,
		filepath.Join(cfg.CertsDir(), "traefik.crt"):    0o644,
		filepath.Join(cfg.CertsDir(), "traefik.key"):    0o600,
		filepath.Join(cfg.DynamicDir(), tlsFile):        0o644,
		filepath.Join(cfg.DynamicDir(), adminFile):      0o644,
		filepath.Join(cfg.DynamicDir(), retryFile):      0o644,
		filepath.Join(cfg.DynamicDir(), "rancher.toml"): 0,
	}
	before := map[string]os.FileInfo{}
	for f, mode := range files {
		fi, err := os.Stat(f)
		switch {
		case mode == 0 && err == nil:
			t.Errorf("%s written by Prepare (it is the publisher's)", f)
		case mode == 0:
		case err != nil:
			t.Errorf("%s: %v", f, err)
		case fi.Mode().Perm() != mode:
			t.Errorf("%s: mode %v, want %v", f, fi.Mode().Perm(), mode)
		default:
			before[f] = fi
		}
	}
	if b, _ := os.ReadFile(cfg.AdminUsersFile()); string(b) != "admin:{SHA}x\n" {
		t.Errorf("users file %q", b)
	}
	if _, err := a.Prepare(cfg, log); err != nil {
		t.Fatal(err)
	}
	for f, fi := range before {
		if now, err := os.Stat(f); err != nil || !os.SameFile(fi, now) {
			t.Errorf("%s rewritten by an unchanged Prepare", f)
		}
	}
}

// TestReloadCerts: a new certificate in the secret is written and served
// (tls.toml changes, so Traefik re-reads it) and logged; an invalid one
// writes nothing, returns a TLS error and the served files stay.
func TestReloadCerts(t *testing.T) {
	dir := t.TempDir()
	first, second := newChain(t, "a.example.com"), newChain(t, "b.example.com")
	writeChain(t, dir, first)
	a, _, _ := testApp(tlsVars(t, dir))
	cfg, _, err := a.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	var logs testlog.Buffer
	log := NewLogger(&logs, "INFO", "text")
	served, err := a.Prepare(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	reload := a.reloadCerts(log, served)
	tlsToml := filepath.Join(cfg.DynamicDir(), tlsFile)
	mainCert := filepath.Join(cfg.CertsDir(), "traefik.crt")
	oldTLS, _ := os.ReadFile(tlsToml)

	writeChain(t, dir, second)
	if err := reload(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mainCert); !bytes.Equal(b, second.Bundle()) && !bytes.HasPrefix(b, second.LeafPEM) {
		t.Error("the new certificate is not written")
	}
	newTLS, _ := os.ReadFile(tlsToml)
	if bytes.Equal(newTLS, oldTLS) || !strings.Contains(string(newTLS), second.Fingerprint()) {
		t.Errorf("tls.toml does not carry the new fingerprint:\n%s", newTLS)
	}
	if !strings.Contains(logs.String(), `msg="certificate rotated" names=b.example.com`) {
		t.Errorf("the rotation is not logged:\n%s", logs.String())
	}

	if err := os.WriteFile(filepath.Join(dir, "key"), first.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	err = reload()
	if !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "TRAEFIK_SSL_PRIVATE_KEY") {
		t.Errorf("a key not matching: %v, want an ErrTLS naming TRAEFIK_SSL_PRIVATE_KEY", err)
	}
	if b, _ := os.ReadFile(tlsToml); !bytes.Equal(b, newTLS) {
		t.Error("tls.toml changed after a refused reload")
	}
	if b, _ := os.ReadFile(mainCert); !bytes.HasPrefix(b, second.LeafPEM) {
		t.Error("the served certificate changed after a refused reload")
	}
}
