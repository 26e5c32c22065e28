// Package testcert makes certificate chains for tests and for local demos: a
// CA, and a leaf it signs, PEM-encoded in any of the encodings users have.
package testcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyEncoding is how a private key is PEM-encoded.
type KeyEncoding int

// Key encodings.
const (
	PKCS8 KeyEncoding = iota // "PRIVATE KEY", RSA or EC
	PKCS1                    // "RSA PRIVATE KEY"
	SEC1                     // "EC PRIVATE KEY"
)

// Options describe the leaf to make.
type Options struct {
	Hosts     []string // DNS names or IP addresses; the first is the common name
	NotBefore time.Time
	NotAfter  time.Time
	RSA       bool // RSA-2048 leaf key instead of ECDSA P-256
	Encoding  KeyEncoding
}

// Chain is a leaf, the CA that signed it, and their PEM encodings.
type Chain struct {
	Leaf    *x509.Certificate
	CA      *x509.Certificate
	LeafPEM []byte // the leaf alone
	CAPEM   []byte
	KeyPEM  []byte
	Key     crypto.Signer
}

// Bundle is the leaf followed by its CA, as a wildcard bundle is delivered.
func (c *Chain) Bundle() []byte { return append(append([]byte{}, c.LeafPEM...), c.CAPEM...) }

// Fingerprint is the SHA-256 of the leaf, in hex.
func (c *Chain) Fingerprint() string { return Fingerprint(c.Leaf.Raw) }

// Fingerprint is the SHA-256 of a DER certificate, in hex.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// New makes a fresh CA and a leaf for o.Hosts.
func New(o Options) (*Chain, error) {
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"example.com"}
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "rancher-traefik test CA"},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parsing CA: %w", err)
	}
	var key crypto.Signer
	if o.RSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("generating leaf key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: o.Hosts[0]},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing leaf: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing leaf: %w", err)
	}
	keyPEM, err := EncodeKey(key, o.Encoding)
	if err != nil {
		return nil, err
	}
	return &Chain{
		Leaf:    leaf,
		CA:      ca,
		LeafPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		KeyPEM:  keyPEM,
		Key:     key,
	}, nil
}

// EncodeKey PEM-encodes key in encoding e.
func EncodeKey(key crypto.Signer, e KeyEncoding) ([]byte, error) {
	var (
		b   pem.Block
		err error
	)
	switch e {
	case PKCS8:
		b.Type = "PRIVATE KEY"
		b.Bytes, err = x509.MarshalPKCS8PrivateKey(key)
	case PKCS1:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#1 needs an RSA key, not %T", key)
		}
		b.Type = "RSA PRIVATE KEY"
		b.Bytes = x509.MarshalPKCS1PrivateKey(k)
	case SEC1:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("SEC 1 needs an EC key, not %T", key)
		}
		b.Type = "EC PRIVATE KEY"
		b.Bytes, err = x509.MarshalECPrivateKey(k)
	default:
		return nil, fmt.Errorf("unknown key encoding %d", e)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&b), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
