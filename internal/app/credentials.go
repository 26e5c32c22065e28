package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
)

// credentialKeyFile keys the digest in credential files' names (see
// routes.credentialPath). It lives beside them, 0600 in a 0700 directory,
// and is kept across restarts so the names, and the routes, stay the same.
const credentialKeyFile = ".key"

// credentialKey reads the key, creating it the first time. A key that is not
// 64 hex digits is replaced (the files are then written under new names).
func credentialKey(cfg *config.Config) (secrets.Secret, error) {
	dir := cfg.CredentialsDir()
	path := filepath.Join(dir, credentialKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); len(k) == 64 && strings.Trim(k, "0123456789abcdef") == "" {
			return secrets.New(k), nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return secrets.Secret{}, fmt.Errorf("reading the credential key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return secrets.Secret{}, fmt.Errorf("making the credential key: %w", err)
	}
	k := hex.EncodeToString(raw)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return secrets.Secret{}, fmt.Errorf("credential directory: %w", err)
	}
	if _, err := atomicfile.Write(path, []byte(k+"\n"), 0o600); err != nil {
		return secrets.Secret{}, fmt.Errorf("writing the credential key: %w", err)
	}
	return secrets.New(k), nil
}

// routesOptions maps the configuration to the options that shape every
// route, with the credential key.
func routesOptions(cfg *config.Config) (routes.Options, error) {
	o := routes.Options{
		Domain: cfg.RancherDomain, ExposedByDefault: cfg.RancherExposed, ServiceFilter: cfg.RancherServiceFilter,
		IncludeSystem: cfg.RancherSystem, HTTPS: cfg.HTTPSEnabled(), ACME: cfg.ACMEEnable,
		CredentialDir: cfg.CredentialsDir(), HTTPSPort: cfg.PublicHTTPSPort(),
	}
	cs, err := routes.ParseConstraints(cfg.RancherConstraints)
	if err != nil { // ReadConfig has reported it already
		return o, Kind(ErrConfig, fmt.Errorf("TRAEFIK_RANCHER_CONSTRAINTS: %w", err))
	}
	o.Constraints = cs
	if o.DefaultRule, err = routes.ParseRuleTemplate(cfg.RancherDefaultRule); err != nil {
		return o, Kind(ErrConfig, fmt.Errorf("TRAEFIK_RANCHER_DEFAULT_RULE: %w", err))
	}
	if len(cfg.EntryPoints) > 0 {
		o.EntryPoints = make(map[string]string, len(cfg.EntryPoints))
		for _, ep := range cfg.EntryPoints {
			o.EntryPoints[ep.Name] = ep.Proto
		}
	}
	k, err := credentialKey(cfg)
	if err != nil {
		return o, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	o.CredentialKey = k
	return o, nil
}
