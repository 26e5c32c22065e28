package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"rancher-traefik/internal/atomicfile"
)

// The default certificate's files, in their own directory (see Fallback).
const (
	FallbackCert = "default.crt"
	FallbackKey  = "default.key"
)

// FallbackName is the common name Traefik gives its generated default
// certificate (v3.6 pkg/tls/generate: DefaultDomain); Fallback's has it too.
const FallbackName = "TRAEFIK DEFAULT CERT"

// fallbackLife is how long a default certificate is valid, as Traefik's
// own (generate.derCert: one year when no expiry is given).
const fallbackLife = 365 * 24 * time.Hour

// Fallback returns the self-signed pair that stands in for Traefik's
// generated default certificate when no TRAEFIK_SSL_CERT is set: kept in
// dir (dir/default.crt 0644, dir/default.key 0600), made anew only when
// missing, unreadable, not yet valid, or within SoonWindow of its expiry.
// It reports whether it wrote.
//
// Why: without tls.stores.default.defaultCertificate, Traefik makes a new
// RSA-2048 key for the default store at every configuration it applies
// (v3.6 pkg/tls/tlsmanager.go: UpdateConfigs → getDefaultCertificate →
// generate.DefaultCertificate; v2.11 the same), 40 ms on average on 2
// cores and a long tail — most of a change's apply at 10 services
// (BenchmarkApplyFloor). Given one, Traefik parses it instead (0.1 ms).
// The certificate is made as Traefik makes its own: RSA-2048, common name
// FallbackName, one random name under traefik.default, valid a year.
func Fallback(dir string, now time.Time) (*Pair, bool, error) {
	certFile, keyFile := filepath.Join(dir, FallbackCert), filepath.Join(dir, FallbackKey)
	// Missing, or damaged (say, a key whose certificate a kill kept from
	// being written): made anew.
	if p, err := loadFallback(certFile, keyFile); err == nil && p.CheckExpiry(now) == Valid {
		return p, false, nil
	}
	certPEM, keyPEM, err := newFallback(now)
	if err != nil {
		return nil, false, fmt.Errorf("making the default certificate: %w", err)
	}
	p, err := Parse(certPEM, keyPEM)
	if err != nil {
		return nil, false, fmt.Errorf("making the default certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("writing the default certificate: %w", err)
	}
	// The key first: a certificate on disk always has its key beside it.
	if _, err := atomicfile.Write(keyFile, keyPEM, 0o600); err != nil {
		return nil, false, fmt.Errorf("writing the default certificate's key: %w", err)
	}
	if _, err := atomicfile.Write(certFile, certPEM, 0o644); err != nil {
		return nil, false, fmt.Errorf("writing the default certificate: %w", err)
	}
	return p, true, nil
}

func loadFallback(certFile, keyFile string) (*Pair, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	return Parse(certPEM, keyPEM)
}

// newFallback makes the pair, PEM-encoded (the key PKCS #1, as Traefik's).
func newFallback(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	random := make([]byte, 100)
	if _, err := rand.Read(random); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(random)
	z := hex.EncodeToString(sum[:])
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	tmpl := x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: FallbackName},
		NotBefore:             now,
		NotAfter:              now.Add(fallbackLife),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement | x509.KeyUsageDataEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{z[:32] + "." + z[32:] + ".traefik.default"},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return certPEM, keyPEM, nil
}
