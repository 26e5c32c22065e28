package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/render"
)

// storeCertsFile is the dynamic file listing the certificates of Rancher's
// store: a file of its own beside tls.toml (Traefik's file provider
// gathers tls.certificates from every file of the directory), so the
// certs/ reload and the store's follow never write each other's.
const storeCertsFile = "rancher-certificates.toml"

// storeCertsDir holds the store's pairs, one NAME.crt/NAME.key each.
func storeCertsDir(cfg *config.Config) string { return filepath.Join(cfg.CertsDir(), "rancher") }

// storeCerts serves the certificates of Rancher's store that
// TRAEFIK_RANCHER_CERTIFICATES selects, and follows the store: on its
// events, or every refresh. Each entry is checked as the certs/ pairs are
// (certificates that parse, a key that matches, expiry logged); a bad
// entry is reported once by name and skipped, the version of it already
// served, if any, staying served; an entry deleted from the store stops
// being served. Keys are written, never logged.
type storeCerts struct {
	api     *rancher.API
	sel     config.CertificateSelection
	dir     string // the pairs
	file    string // the dynamic file
	refresh time.Duration
	log     *slog.Logger

	served   map[string]servedPair // by file base: what the dynamic file lists
	reported map[string]string     // entry name → digest of the bad content reported
	absent   map[string]bool       // selected names warned absent
	noKeys   bool                  // the "this key may not read keys" error is out
	failing  bool                  // listing the store failed last time (warned)
}

type servedPair struct {
	name string // the store's name ("" for a pair found on disk at start)
	pair *certs.Pair
}

func newStoreCerts(cfg *config.Config, api *rancher.API, log *slog.Logger) *storeCerts {
	s := &storeCerts{
		api: api, sel: cfg.RancherCertificates, dir: storeCertsDir(cfg), file: filepath.Join(cfg.DynamicDir(), storeCertsFile),
		refresh: time.Duration(cfg.RancherRefresh) * time.Second, log: log.With("component", "rancher-certificates"),
		served: map[string]servedPair{}, reported: map[string]string{}, absent: map[string]bool{},
	}
	// What an earlier run served stays served until the store says
	// otherwise: a bad entry at start-up keeps its last good version.
	extras, _ := certs.LoadExtra(s.dir)
	for _, x := range extras {
		s.served[x.Name] = servedPair{pair: x.Pair}
	}
	return s
}

// Run follows the store until ctx ends.
func (s *storeCerts) Run(ctx context.Context) error {
	s.log.Info("serving certificates of Rancher's store", "TRAEFIK_RANCHER_CERTIFICATES", s.sel.String())
	ver := ""
	for {
		var err error
		ver, err = s.api.WaitCertificates(ctx, ver, s.refresh)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		s.sync(ctx)
	}
}

// sync reads the store once and brings the served pairs in line with it.
func (s *storeCerts) sync(ctx context.Context) {
	list, err := s.api.Certificates(ctx)
	if err != nil {
		if ctx.Err() == nil && !s.failing {
			s.log.Warn("cannot read Rancher's certificate store; the certificates served stay as they are", "err", err)
		}
		s.failing = true
		return
	}
	if s.failing {
		s.log.Info("Rancher's certificate store is readable again")
		s.failing = false
	}
	selected := s.pick(list)
	next := map[string]servedPair{}
	for _, c := range selected {
		base := fileBase(c.Name)
		old, had := s.served[base]
		if p, ok := s.check(c, old.pair); ok {
			next[base] = servedPair{name: c.Name, pair: p}
		} else if had {
			next[base] = old
		}
	}
	if err := s.apply(next); err != nil {
		s.log.Error("cannot write the certificates of Rancher's store; the certificates served stay as they are", "err", err)
	}
}

// pick keeps the entries TRAEFIK_RANCHER_CERTIFICATES names, warns once
// about a name the store lacks, and reports an API key that reads no key.
func (s *storeCerts) pick(list []rancher.Certificate) []rancher.Certificate {
	var out []rancher.Certificate
	have := map[string]bool{}
	keys := 0
	for _, c := range list {
		if s.sel.Wants(c.Name) {
			out = append(out, c)
			have[c.Name] = true
			if c.Key.IsSet() {
				keys++
			}
		}
	}
	for _, n := range s.sel.Names {
		switch {
		case !have[n] && !s.absent[n]:
			s.log.Warn("TRAEFIK_RANCHER_CERTIFICATES names a certificate Rancher's store does not have", "certificate", n)
			s.absent[n] = true
		case have[n]:
			delete(s.absent, n)
		}
	}
	// Rancher returns a certificate's key only to keys that may read it
	// (cattle: "certificate.key" is read-on-create-only for environment API
	// keys and the environment agent role, readable for environmentAdmin).
	switch blind := len(out) > 0 && keys == 0; {
	case blind && !s.noKeys:
		s.log.Error("TRAEFIK_RANCHER_CERTIFICATES: the Rancher API returns no private key for the store's certificates: this API key may not read them; "+
			"give the service the labels io.rancher.container.create_agent: 'true' and io.rancher.container.agent.role: environmentAdmin, "+
			"or set TRAEFIK_RANCHER_ACCESSKEY/TRAEFIK_RANCHER_SECRET to a key of that role; the certificates served stay as they are",
			"certificates", len(out))
		s.noKeys = true
	case !blind:
		s.noKeys = false
	}
	return out
}

// check validates one entry; a problem is reported once per content. An
// expired certificate is served, as the certs/ pairs are, unless it would
// replace a served version of it that has not expired.
func (s *storeCerts) check(c rancher.Certificate, served *certs.Pair) (*certs.Pair, bool) {
	sum := sha256.New()
	for _, part := range []string{c.Name, c.Cert, c.CertChain, c.Key.Reveal()} {
		sum.Write([]byte(part))
		sum.Write([]byte{0})
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	var err error
	var p *certs.Pair
	if !c.Key.IsSet() {
		err = errors.New("the store gives no private key for it")
	} else {
		p, err = certs.Parse(c.ChainPEM(), []byte(c.Key.Reveal()))
	}
	now := time.Now()
	if err == nil && p.CheckExpiry(now) == certs.Expired && served != nil && served.CheckExpiry(now) != certs.Expired {
		err = fmt.Errorf("it expired on %s, and the version served has not", p.Leaf().NotAfter.UTC().Format(time.RFC3339))
	}
	if err != nil {
		if s.reported[c.Name] != digest && !s.noKeys {
			s.log.Error("a certificate of Rancher's store is invalid; it is skipped, and the version of it served, if any, stays", "certificate", c.Name, "err", err)
			s.reported[c.Name] = digest
		}
		return nil, false
	}
	delete(s.reported, c.Name)
	return p, true
}

// apply writes the pairs of next that changed, then the dynamic file (which
// makes Traefik load them), then removes the pairs no longer served.
func (s *storeCerts) apply(next map[string]servedPair) error {
	for _, d := range []string{s.dir, filepath.Dir(s.file)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("TRAEFIK_HOME: %w", err)
		}
	}
	bases := make([]string, 0, len(next))
	for b := range next {
		bases = append(bases, b)
	}
	sort.Strings(bases)
	var (
		data render.TLSData
		fps  []string
	)
	for _, b := range bases {
		sp := next[b]
		crt, key := filepath.Join(s.dir, b+".crt"), filepath.Join(s.dir, b+".key")
		kc, err := atomicfile.Write(key, sp.pair.KeyPEM(), 0o600)
		if err != nil {
			return fmt.Errorf("TRAEFIK_HOME: %w", err)
		}
		cc, err := atomicfile.Write(crt, sp.pair.CertPEM(), 0o644)
		if err != nil {
			return fmt.Errorf("TRAEFIK_HOME: %w", err)
		}
		if kc || cc {
			logExpiry(s.log, "rancher:"+sp.name, sp.pair, time.Now())
		}
		data.Certificates = append(data.Certificates, render.NewCertFiles(crt, key))
		fps = append(fps, certs.Fingerprint(sp.pair.Leaf()))
	}
	data.Fingerprints = render.String(strings.Join(fps, " "))
	// The built-in template: a tls.toml.tmpl override is for tls.toml.
	changed, err := writeOrRemove(render.Renderer{}, s.file, render.TLSTemplate, data, len(bases) > 0)
	if err != nil {
		return err
	}
	for b, old := range s.served {
		if _, keep := next[b]; keep {
			continue
		}
		for _, ext := range []string{".crt", ".key"} {
			if err := os.Remove(filepath.Join(s.dir, b+ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("TRAEFIK_HOME: %w", err)
			}
		}
		s.log.Info("certificate no longer served: gone from Rancher's store or from TRAEFIK_RANCHER_CERTIFICATES", "certificate", nameOr(old.name, b))
	}
	if changed {
		s.log.Info("certificates of Rancher's store served", "count", len(bases), "certificates", strings.Join(storeNames(next, bases), ","))
	}
	s.served = next
	return nil
}

func storeNames(m map[string]servedPair, bases []string) []string {
	out := make([]string, 0, len(bases))
	for _, b := range bases {
		out = append(out, nameOr(m[b].name, b))
	}
	return out
}

func nameOr(name, base string) string {
	if name != "" {
		return name
	}
	return base
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// fileBase is a file name for a store name: the name itself when it is
// safe, else the safe characters and a digest of the name (so two names
// never share files).
func fileBase(name string) string {
	b := unsafeFileChars.ReplaceAllString(name, "_")
	if b == name && !strings.HasPrefix(name, ".") && name != "" {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimLeft(b, ".") + "-" + hex.EncodeToString(sum[:4])
}

// removeStoreCerts removes what an earlier run served from the store, when
// TRAEFIK_RANCHER_CERTIFICATES is none now.
func removeStoreCerts(cfg *config.Config) error {
	if err := removeIfExists(filepath.Join(cfg.DynamicDir(), storeCertsFile)); err != nil {
		return err
	}
	if err := os.RemoveAll(storeCertsDir(cfg)); err != nil {
		return Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	return nil
}
