// Package certs checks TLS material from secrets (a PEM chain and its key)
// and writes it where Traefik reads it, without ever printing a key.
package certs

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"rancher-traefik/internal/atomicfile"
)

// Part says which half of a pair an error is about.
type Part string

// Parts of a pair.
const (
	PartCert Part = "cert"
	PartKey  Part = "key"
	PartPair Part = "pair"
)

// Error is a problem with a certificate or key. Its message never holds PEM
// content.
type Error struct {
	Part Part
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrEncryptedKey is returned for a password-protected key.
var ErrEncryptedKey = errors.New("the private key is encrypted: Traefik needs it without a password (openssl pkey -in key.pem -out key-plain.pem)")

// Pair is a validated certificate chain, leaf first, and its private key.
type Pair struct {
	Chain []*x509.Certificate
	key   *pem.Block
}

// Leaf is the certificate the key belongs to.
func (p *Pair) Leaf() *x509.Certificate { return p.Chain[0] }

// CertPEM is the chain, leaf first, PEM-encoded.
func (p *Pair) CertPEM() []byte {
	var b bytes.Buffer
	for _, c := range p.Chain {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// KeyPEM is the private key, PEM-encoded as it was given (without headers).
func (p *Pair) KeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: p.key.Type, Bytes: p.key.Bytes})
}

// Fingerprint is the SHA-256 of a certificate, in hex: what logs and
// tls.toml show of it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// Names are the leaf's DNS names and IP addresses, for logs.
func (p *Pair) Names() []string {
	l := p.Leaf()
	names := append([]string{}, l.DNSNames...)
	for _, ip := range l.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && l.Subject.CommonName != "" {
		names = append(names, l.Subject.CommonName)
	}
	return names
}

// Parse validates a PEM chain and a PEM key: at least one certificate, a key
// that is not encrypted and that matches one of them. The matching
// certificate is moved first, as Traefik and browsers expect. Blocks other
// than CERTIFICATE in certPEM are ignored.
func Parse(certPEM, keyPEM []byte) (*Pair, error) {
	var chain []*x509.Certificate
	rest := certPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &Error{PartCert, fmt.Errorf("certificate %d: %w", len(chain)+1, err)}
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, &Error{PartCert, errors.New("no PEM CERTIFICATE block found")}
	}
	keyBlock, key, err := parseKey(keyPEM)
	if err != nil {
		return nil, &Error{PartKey, err}
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, &Error{PartKey, fmt.Errorf("unsupported key type %T", key)}
	}
	leaf := -1
	for i, c := range chain {
		if pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, &Error{PartPair, fmt.Errorf("the private key does not match the certificate (%s) nor any other in the chain", describe(chain[0]))}
	}
	if leaf > 0 {
		chain = append([]*x509.Certificate{chain[leaf]}, append(chain[:leaf:leaf], chain[leaf+1:]...)...)
	}
	return &Pair{Chain: chain, key: keyBlock}, nil
}

func parseKey(keyPEM []byte) (*pem.Block, crypto.Signer, error) {
	rest := keyPEM
	var types []string
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		types = append(types, b.Type)
		if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, nil, ErrEncryptedKey
		}
		var (
			k      any
			err    error
			format string
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
			format = "PKCS#8"
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			format = "PKCS#1"
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
			format = "SEC 1 (EC)"
		default:
			continue
		}
		if err != nil {
			// The parsers' ASN.1 details say nothing useful to a user; the
			// block type and format do.
			return nil, nil, fmt.Errorf("the %s block is not a valid %s private key", b.Type, format)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("unsupported key type %T", k)
		}
		return &pem.Block{Type: b.Type, Bytes: b.Bytes}, s, nil
	}
	if len(types) == 0 {
		return nil, nil, errors.New("no PEM private key block found")
	}
	return nil, nil, fmt.Errorf("no private key among the PEM blocks (%s)", strings.Join(types, ", "))
}

func describe(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	return "CN=" + c.Subject.CommonName
}

// Expiry is how close a leaf is to its end.
type Expiry int

// Expiry states.
const (
	Valid Expiry = iota
	ExpiresSoon
	Expired
	NotYetValid
)

// SoonWindow is how early an expiry is warned about.
const SoonWindow = 30 * 24 * time.Hour

// CheckExpiry says whether the leaf is valid at now, or nearly expired.
func (p *Pair) CheckExpiry(now time.Time) Expiry {
	l := p.Leaf()
	switch {
	case now.After(l.NotAfter):
		return Expired
	case now.Before(l.NotBefore):
		return NotYetValid
	case l.NotAfter.Sub(now) < SoonWindow:
		return ExpiresSoon
	}
	return Valid
}

// Main file names, in the certs directory.
const (
	MainCert = "traefik.crt"
	MainKey  = "traefik.key"
)

// WriteMain writes the pair as dir/traefik.crt (0644) and dir/traefik.key
// (0600), atomically and only when changed. It reports whether either changed.
func WriteMain(dir string, p *Pair) (bool, error) {
	kc, err := atomicfile.Write(filepath.Join(dir, MainKey), p.KeyPEM(), 0o600)
	if err != nil {
		return false, fmt.Errorf("writing key: %w", err)
	}
	cc, err := atomicfile.Write(filepath.Join(dir, MainCert), p.CertPEM(), 0o644)
	if err != nil {
		return false, fmt.Errorf("writing certificate: %w", err)
	}
	return kc || cc, nil
}

// Extra is a NAME.crt/NAME.key pair found in the certs directory.
type Extra struct {
	Name     string
	CertFile string
	KeyFile  string
	Pair     *Pair
}

// LoadExtra finds every NAME.crt/NAME.key pair in dir other than the main
// one, sorted by name, and validates each. Problems name the files.
func LoadExtra(dir string) ([]Extra, []error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil {
		return nil, []error{fmt.Errorf("listing %s: %w", dir, err)}
	}
	sort.Strings(matches)
	var (
		out  []Extra
		errs []error
	)
	for _, crt := range matches {
		if filepath.Base(crt) == MainCert {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(crt), ".crt")
		keyFile := strings.TrimSuffix(crt, ".crt") + ".key"
		certPEM, err := os.ReadFile(crt)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", crt, err))
			continue
		}
		keyPEM, err := os.ReadFile(keyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: no matching key: %w", crt, err))
			continue
		}
		p, err := Parse(certPEM, keyPEM)
		if err != nil {
			file := crt
			if ce := (*Error)(nil); errors.As(err, &ce) && ce.Part != PartCert {
				file = keyFile
			}
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			continue
		}
		out = append(out, Extra{Name: name, CertFile: crt, KeyFile: keyFile, Pair: p})
	}
	return out, errs
}
