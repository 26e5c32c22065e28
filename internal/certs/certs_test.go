package certs

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/testcert"
)

func mustChain(t testing.TB, o testcert.Options) *testcert.Chain {
	t.Helper()
	c, err := testcert.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseEncodings(t *testing.T) {
	tests := []struct {
		name string
		opt  testcert.Options
	}{
		{"ecdsa pkcs8", testcert.Options{Encoding: testcert.PKCS8}},
		{"ecdsa sec1", testcert.Options{Encoding: testcert.SEC1}},
		{"rsa pkcs8", testcert.Options{RSA: true, Encoding: testcert.PKCS8}},
		{"rsa pkcs1", testcert.Options{RSA: true, Encoding: testcert.PKCS1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, tt.opt)
			p, err := Parse(c.Bundle(), c.KeyPEM)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := testcert.Fingerprint(p.Leaf().Raw); got != c.Fingerprint() {
				t.Errorf("leaf %s, want %s", got, c.Fingerprint())
			}
			if len(p.Chain) != 2 {
				t.Errorf("chain has %d certificates, want 2", len(p.Chain))
			}
			if !bytes.Equal(p.KeyPEM(), c.KeyPEM) {
				t.Errorf("KeyPEM changed the key")
			}
			if !bytes.Equal(p.CertPEM(), c.Bundle()) {
				t.Errorf("CertPEM is not the bundle, leaf first")
			}
		})
	}
}

func TestParseReordersLeafFirst(t *testing.T) {
	c := mustChain(t, testcert.Options{})
	caFirst := append(append([]byte("some text before\n"), c.CAPEM...), c.LeafPEM...)
	p, err := Parse(caFirst, c.KeyPEM)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !bytes.Equal(p.CertPEM(), c.Bundle()) {
		t.Error("chain not reordered leaf first")
	}
}

func TestParseBad(t *testing.T) {
	c := mustChain(t, testcert.Options{})
	other := mustChain(t, testcert.Options{})
	rsaC := mustChain(t, testcert.Options{RSA: true, Encoding: testcert.PKCS1})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1, 2, 3}})
	garbageKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("SECRETGARBAGE")})
	tests := []struct {
		name     string
		cert     []byte
		key      []byte
		wantPart Part
		want     string
	}{
		{"garbage cert", []byte("hello SECRETGARBAGE"), c.KeyPEM, PartCert, "no PEM CERTIFICATE block found"},
		{"corrupt cert", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("SECRETGARBAGE")}), c.KeyPEM, PartCert, "certificate 1: x509: malformed certificate"},
		{"garbage key", c.Bundle(), []byte("SECRETGARBAGE"), PartKey, "no PEM private key block found"},
		{"corrupt key", c.Bundle(), garbageKey, PartKey, "the PRIVATE KEY block is not a valid PKCS#8 private key"},
		{"certificate as key", c.Bundle(), c.LeafPEM, PartKey, "no private key among the PEM blocks (CERTIFICATE)"},
		{"encrypted pkcs8", c.Bundle(), encrypted, PartKey, ErrEncryptedKey.Error()},
		{"encrypted legacy", c.Bundle(), legacyEncrypted, PartKey, ErrEncryptedKey.Error()},
		{"key of another cert", c.Bundle(), other.KeyPEM, PartPair, "the private key does not match the certificate (example.com) nor any other in the chain"},
		{"rsa key for ec cert", c.Bundle(), rsaC.KeyPEM, PartPair, "the private key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.cert, tt.key)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *certs.Error", err)
			}
			if ce.Part != tt.wantPart {
				t.Errorf("part %q, want %q", ce.Part, tt.wantPart)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %q, want prefix %q", err, tt.want)
			}
			for _, leak := range []string{"SECRETGARBAGE", "BEGIN", string(c.KeyPEM[30:60])} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error shows input %q: %v", leak, err)
				}
			}
		})
	}
}

func TestCheckExpiry(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		from, to  time.Time
		wantState Expiry
	}{
		{"valid", now.Add(-time.Hour), now.Add(60 * 24 * time.Hour), Valid},
		{"soon", now.Add(-time.Hour), now.Add(29 * 24 * time.Hour), ExpiresSoon},
		{"expired", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), Expired},
		{"not yet", now.Add(24 * time.Hour), now.Add(48 * time.Hour), NotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, testcert.Options{NotBefore: tt.from, NotAfter: tt.to})
			p, err := Parse(c.Bundle(), c.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.CheckExpiry(now); got != tt.wantState {
				t.Errorf("CheckExpiry = %d, want %d", got, tt.wantState)
			}
		})
	}
}

func TestWriteMain(t *testing.T) {
	dir := t.TempDir()
	c := mustChain(t, testcert.Options{})
	p, err := Parse(c.Bundle(), c.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		changed, err := WriteMain(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		if changed != want {
			t.Errorf("write %d: changed = %v, want %v", i, changed, want)
		}
	}
	for name, mode := range map[string]os.FileMode{MainCert: 0o644, MainKey: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, MainCert))
	if !bytes.Equal(b, c.Bundle()) {
		t.Error("traefik.crt is not the bundle")
	}
}

func TestLoadExtra(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := mustChain(t, testcert.Options{Hosts: []string{"a.example.org"}})
	b := mustChain(t, testcert.Options{Hosts: []string{"b.example.org"}})
	write("a.crt", a.Bundle())
	write("a.key", a.KeyPEM)
	write("b.crt", b.Bundle())
	write("b.key", a.KeyPEM) // wrong key
	write("lonely.crt", b.Bundle())
	write(MainCert, a.Bundle()) // ours: skipped
	write("notes.txt", []byte("x"))

	extra, errs := LoadExtra(dir)
	if len(extra) != 1 || extra[0].Name != "a" || extra[0].KeyFile != filepath.Join(dir, "a.key") {
		t.Errorf("extra = %+v, want only a", extra)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		filepath.Join(dir, "b.key") + ": the private key does not match the certificate (b.example.org) nor any other in the chain",
		filepath.Join(dir, "lonely.crt") + ": no matching key: open " + filepath.Join(dir, "lonely.key") + ": no such file or directory",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzParse checks that no input makes Parse panic or echo its input.
func FuzzParse(f *testing.F) {
	c := mustChain(f, testcert.Options{})
	f.Add(c.Bundle(), c.KeyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add(c.LeafPEM, []byte{})
	f.Fuzz(func(t *testing.T, cert, key []byte) {
		p, err := Parse(cert, key)
		if err != nil {
			if strings.Contains(err.Error(), "-----") {
				t.Fatalf("error shows PEM: %v", err)
			}
			return
		}
		if _, err := Parse(p.CertPEM(), p.KeyPEM()); err != nil {
			t.Fatalf("a parsed pair does not parse again: %v", err)
		}
	})
}
