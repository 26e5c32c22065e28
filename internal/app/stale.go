package app

import (
	"log/slog"
	"path/filepath"
	"strings"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/routes"
)

// ownFiles are the files run writes atomically under TRAEFIK_HOME.
func ownFiles(cfg *config.Config) []string {
	return []string{
		cfg.StaticFile(),
		cfg.AdminUsersFile(),
		cfg.RESTUsersFile(),
		filepath.Join(cfg.DynamicDir(), restFile),
		filepath.Join(cfg.DynamicDir(), tlsFile),
		filepath.Join(cfg.DynamicDir(), adminFile),
		filepath.Join(cfg.DynamicDir(), storeCertsFile),
		filepath.Join(cfg.DynamicDir(), forwardFile),
		cfg.RancherFile(),
		filepath.Join(cfg.CertsDir(), certs.MainCert),
		filepath.Join(cfg.CertsDir(), certs.MainKey),
		filepath.Join(cfg.DefaultCertDir(), certs.FallbackCert),
		filepath.Join(cfg.DefaultCertDir(), certs.FallbackKey),
	}
}

// removeStaleTemps removes the temporary files an earlier run killed in
// the middle of a write left beside our files (a kill -9 while a 600 KB
// rancher.toml was written left one for good). Only atomicfile's own names
// for our own files go; it runs before anything of ours writes. Failing is
// not worth failing the start for: it is logged.
func removeStaleTemps(cfg *config.Config, log *slog.Logger) {
	for _, f := range ownFiles(cfg) {
		removed, err := atomicfile.RemoveStale(f)
		for _, r := range removed {
			log.Info("removed a temporary file left by an interrupted write", "file", r)
		}
		if err != nil {
			log.Warn("could not remove a temporary file left by an interrupted write", "err", err)
		}
	}
	// The files of the dynamic directory are staged (atomicfile.WriteStaged).
	dynamic := map[string]bool{}
	for _, f := range ownFiles(cfg) {
		if filepath.Dir(f) == cfg.DynamicDir() {
			dynamic[filepath.Base(f)] = true
		}
	}
	for _, f := range []string{middlewaresFile, retryFile, lookAgainFile} {
		dynamic[f] = true
	}
	removeStaleIn(log, cfg.StagingDir(), func(base string) bool { return dynamic[base] })
	// Credential files (their temporary files hold label credentials too).
	removeStaleIn(log, cfg.CredentialsDir(), func(base string) bool {
		return routes.CredentialFileName(base) || base == credentialKeyFile
	})
	// The pairs of Rancher's certificate store (keys too).
	removeStaleIn(log, storeCertsDir(cfg), func(base string) bool {
		return strings.HasSuffix(base, ".crt") || strings.HasSuffix(base, ".key")
	})
}

func removeStaleIn(log *slog.Logger, dir string, own func(base string) bool) {
	removed, err := atomicfile.RemoveStaleIn(dir, own)
	for _, r := range removed {
		log.Info("removed a temporary file left by an interrupted write", "file", r)
	}
	if err != nil {
		log.Warn("could not remove a temporary file left by an interrupted write", "err", err)
	}
}
