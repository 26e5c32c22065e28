package certs

import (
	"crypto/rsa"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

// TestFallbackMadeAsTraefiks: the pair is Traefik's kind of default
// certificate (RSA-2048, its common name, one random name under
// traefik.default, a year, self-signed), loads as a TLS pair, and the key
// is 0600 in a 0700 directory.
func TestFallbackMadeAsTraefiks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "default")
	now := time.Now()
	p, changed, err := Fallback(dir, now)
	if err != nil || !changed {
		t.Fatalf("Fallback: changed %v, %v", changed, err)
	}
	l := p.Leaf()
	if k, ok := l.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("key %T, want RSA-2048", l.PublicKey)
	}
	if l.Subject.CommonName != FallbackName {
		t.Errorf("common name %q, want %q", l.Subject.CommonName, FallbackName)
	}
	if len(l.DNSNames) != 1 || !strings.HasSuffix(l.DNSNames[0], ".traefik.default") || len(l.DNSNames[0]) != 32+1+32+len(".traefik.default") {
		t.Errorf("names %q, want one <32 hex>.<32 hex>.traefik.default", l.DNSNames)
	}
	if d := l.NotAfter.Sub(l.NotBefore); d != fallbackLife {
		t.Errorf("valid for %v, want %v", d, fallbackLife)
	}
	// Signed by its own key (no CA: CheckSignatureFrom would refuse it).
	if err := l.CheckSignature(l.SignatureAlgorithm, l.RawTBSCertificate, l.Signature); err != nil || l.Issuer.String() != l.Subject.String() {
		t.Errorf("not self-signed: %v", err)
	}
	certFile, keyFile := filepath.Join(dir, FallbackCert), filepath.Join(dir, FallbackKey)
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Errorf("as Traefik loads it: %v", err)
	}
	for f, want := range map[string]os.FileMode{dir: 0o700, certFile: 0o644, keyFile: 0o600} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %v", f, err, want)
		}
	}
}

// TestFallbackKeptOrRemade: a valid pair is kept (nothing written); one
// within SoonWindow of its expiry, a missing or a damaged file, or a key
// that does not match is made anew.
func TestFallbackKeptOrRemade(t *testing.T) {
	other := mustChain(t, testcert.Options{})
	tests := []struct {
		name   string
		later  time.Duration // the second call's clock
		damage func(t *testing.T, dir string)
		remade bool
	}{
		{"valid: kept", time.Hour, nil, false},
		{"expires within 30 days: remade", fallbackLife - SoonWindow + time.Hour, nil, true},
		{"certificate missing: remade", 0, func(t *testing.T, dir string) { rm(t, filepath.Join(dir, FallbackCert)) }, true},
		{"key missing: remade", 0, func(t *testing.T, dir string) { rm(t, filepath.Join(dir, FallbackKey)) }, true},
		{"certificate damaged: remade", 0, func(t *testing.T, dir string) { write(t, filepath.Join(dir, FallbackCert), []byte("not PEM")) }, true},
		{"key of another certificate: remade", 0, func(t *testing.T, dir string) { write(t, filepath.Join(dir, FallbackKey), other.KeyPEM) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			now := time.Now()
			first, _, err := Fallback(dir, now)
			if err != nil {
				t.Fatal(err)
			}
			if tt.damage != nil {
				tt.damage(t, dir)
			}
			second, changed, err := Fallback(dir, now.Add(tt.later))
			if err != nil {
				t.Fatal(err)
			}
			same := Fingerprint(first.Leaf()) == Fingerprint(second.Leaf())
			if changed != tt.remade || same == tt.remade {
				t.Errorf("changed %v, same certificate %v; want remade %v", changed, same, tt.remade)
			}
			if _, err := tls.LoadX509KeyPair(filepath.Join(dir, FallbackCert), filepath.Join(dir, FallbackKey)); err != nil {
				t.Errorf("the files on disk are no pair: %v", err)
			}
		})
	}
}

func rm(t *testing.T, f string) {
	t.Helper()
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, f string, b []byte) {
	t.Helper()
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
