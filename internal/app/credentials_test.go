package app

import (
	"os"
	"path/filepath"
	"testing"

	"rancher-traefik/internal/config"
)

// TestCredentialKey: made the first time (0600 in a 0700 directory), the
// same afterwards (names stay stable across restarts), replaced when it is
// not a key.
func TestCredentialKey(t *testing.T) {
	cfg := &config.Config{Home: t.TempDir()}
	path := filepath.Join(cfg.CredentialsDir(), credentialKeyFile)
	first, err := credentialKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Reveal()) != 64 {
		t.Fatalf("key of %d characters", len(first.Reveal()))
	}
	for p, want := range map[string]os.FileMode{path: 0o600, cfg.CredentialsDir(): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	again, err := credentialKey(cfg)
	if err != nil || again.Reveal() != first.Reveal() {
		t.Errorf("the key changed between two starts (%v)", err)
	}
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	replaced, err := credentialKey(cfg)
	if err != nil || len(replaced.Reveal()) != 64 || replaced.Reveal() == first.Reveal() {
		t.Errorf("a bad key file was not replaced (%v)", err)
	}
	if b, _ := os.ReadFile(path); string(b) != replaced.Reveal()+"\n" {
		t.Error("the replacement was not saved")
	}
}
