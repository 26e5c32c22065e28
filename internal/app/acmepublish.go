package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"

	"rancher-traefik/internal/acmejson"
	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/filewatch"
	"rancher-traefik/internal/secrets"
)

// storeName is the name of a certificate in Rancher's store, as the issuer
// publishes it: acme-<main domain>.
const storePrefix = "acme-"

// resolverName is the resolver traefik.toml.tmpl defines.
const resolverName = "acme"

func storeName(main string) string { return storePrefix + main }

// publishLoop publishes, while this instance is the issuer, every
// certificate of Traefik's acme.json to Rancher's store by name, when the
// file changes, and every 30 s in case a change was missed or a publication
// failed (a certificate already published costs no request). Nothing goes
// to the store from a follower.
func (c *acmeCluster) publishLoop(ctx context.Context) error {
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	w := &filewatch.Watcher{Files: []string{c.cfg.ACMEStorage()}, Log: c.log, Rejected: "publishing ACME certificates failed",
		Reload: func() error { poke(); return nil }}
	go func() { _ = w.Run(ctx) }()
	retry := time.NewTicker(30 * time.Second)
	defer retry.Stop()
	poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.issuerNow:
		case <-trigger:
		case <-retry.C:
		}
		if c.issuer.Load() {
			_ = c.publish(ctx) // logged there; the next tick tries again
		}
	}
}

// publish puts every certificate of acme.json that the store does not
// have yet into the store. Each is checked first (chain, key); a bad one is
// reported by name and skipped.
func (c *acmeCluster) publish(ctx context.Context) error {
	b, err := os.ReadFile(c.cfg.ACMEStorage())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.log.Error("cannot read Traefik's ACME storage", "err", err)
		return err
	}
	list, err := acmejson.Parse(b, resolverName)
	if err != nil {
		c.log.Error("cannot read Traefik's ACME storage", "file", c.cfg.ACMEStorage(), "err", err)
		return err
	}
	var failed error
	for _, x := range list {
		name := storeName(x.Main)
		pair, err := certs.Parse(x.Bundle, x.Key)
		if err != nil {
			c.log.Error("a certificate of Traefik's ACME storage is unusable; not published", "name", name, "err", err)
			continue
		}
		fp := certs.Fingerprint(pair.Leaf())
		if c.published[name] == fp {
			continue
		}
		if old, err := c.api.CertificateByName(ctx, name); err == nil && old != nil && leafFingerprint(old.Cert) == fp {
			c.published[name] = fp
			continue
		}
		leaf, chain := splitLeaf(pair.CertPEM())
		desc := "ACME certificate for " + strings.Join(x.Domains(), ", ") + ", published by rancher-traefik (" + c.selfName() + ")"
		if _, err := c.api.PutCertificate(ctx, name, desc, leaf, chain, secrets.New(string(pair.KeyPEM()))); err != nil {
			c.log.Error("publishing a certificate to Rancher's store failed; retrying", "name", name, "err", err)
			failed = err
			continue
		}
		c.published[name] = fp
		c.log.Info("certificate published to Rancher's store", "name", name, "names", strings.Join(x.Domains(), ","), "sha256", fp,
			"not_after", pair.Leaf().NotAfter.UTC().Format(time.RFC3339))
	}
	return failed
}

// seed puts the store's acme-* certificates into Traefik's ACME storage
// before a new issuer's Traefik starts: it renews them when they are due
// (Traefik renews what its storage holds, and reads it only at start).
// Certificates the store gives without a key cannot be renewed here; they
// are named in a warning.
func (c *acmeCluster) seed(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list, err := c.api.Certificates(ctx)
	if err != nil {
		c.log.Error("cannot read Rancher's certificate store: the new issuer renews nothing it has not obtained itself", "err", err)
		return
	}
	var add []acmejson.Cert
	for _, sc := range list {
		if !strings.HasPrefix(sc.Name, storePrefix) {
			continue
		}
		if !sc.Key.IsSet() {
			c.log.Warn("the store gives this certificate without its key (an API key of the environment role may not read keys): it cannot be renewed here", "name", sc.Name)
			continue
		}
		pair, err := certs.Parse(sc.ChainPEM(), []byte(sc.Key.Reveal()))
		if err != nil {
			c.log.Warn("a certificate of Rancher's store is unusable; not renewed here", "name", sc.Name, "err", err)
			continue
		}
		main := strings.TrimPrefix(sc.Name, storePrefix)
		var sans []string
		for _, n := range pair.Leaf().DNSNames {
			if n != main {
				sans = append(sans, n)
			}
		}
		add = append(add, acmejson.Cert{Main: main, SANs: sans, Bundle: pair.CertPEM(), Key: pair.KeyPEM()})
		c.published[sc.Name] = certs.Fingerprint(pair.Leaf())
	}
	if len(add) == 0 {
		return
	}
	old, err := os.ReadFile(c.cfg.ACMEStorage())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Error("cannot read Traefik's ACME storage", "err", err)
		return
	}
	b, err := acmejson.Merge(old, resolverName, add)
	if err == nil {
		// Traefik refuses a storage file more open than 0600.
		_, err = atomicfile.Write(c.cfg.ACMEStorage(), b, 0o600)
	}
	if err != nil {
		c.log.Error("cannot write Traefik's ACME storage", "file", c.cfg.ACMEStorage(), "err", err)
		return
	}
	c.log.Info("the store's ACME certificates are in Traefik's storage, to be renewed here", "certificates", len(add))
}

// splitLeaf splits a PEM chain into its first certificate and the rest.
func splitLeaf(chain []byte) (leaf, rest []byte) {
	_, after := pem.Decode(chain)
	return chain[:len(chain)-len(after)], after
}

// leafFingerprint is the fingerprint of the first certificate of a PEM
// text, or "".
func leafFingerprint(p string) string {
	blk, _ := pem.Decode([]byte(p))
	if blk == nil {
		return ""
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return ""
	}
	return certs.Fingerprint(c)
}
