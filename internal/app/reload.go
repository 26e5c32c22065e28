package app

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/filewatch"
	"rancher-traefik/internal/render"
	"rancher-traefik/internal/secrets"
)

// certWatcher watches the files behind TRAEFIK_SSL_CERT and
// TRAEFIK_SSL_PRIVATE_KEY, and the extra NAME.crt/NAME.key pairs in
// $TRAEFIK_HOME/certs. Its Reload is set by reloadCerts once Prepare has
// said what is served.
func certWatcher(cfg *config.Config, log *slog.Logger) *filewatch.Watcher {
	var files []string
	for _, v := range []string{"TRAEFIK_SSL_CERT", "TRAEFIK_SSL_PRIVATE_KEY"} {
		if src := cfg.Sources[v]; src.Kind == secrets.SourceFile || src.Kind == secrets.SourceAlias {
			files = append(files, src.Path)
		}
	}
	return &filewatch.Watcher{
		Files: files,
		// The main pair is written there by the reload itself.
		Globs:  []string{filepath.Join(cfg.CertsDir(), "*.crt"), filepath.Join(cfg.CertsDir(), "*.key")},
		Ignore: []string{certs.MainCert, certs.MainKey},
		Log:    log,
	}
}

// reloadCerts re-reads every pair. When all are valid, the main pair is
// written and tls.toml rewritten, so Traefik serves the new certificates
// without a restart; when any is invalid, nothing is written and the
// certificates served (from served on) stay as they were.
func (a *App) reloadCerts(log *slog.Logger, served Served) func() error {
	return func() error {
		ncfg, err := readConfig(a.Lookup)
		if err != nil {
			return Kind(a.configKind(ncfg, err), err)
		}
		pair, extras, problems := loadTLS(ncfg)
		if len(problems) > 0 {
			return Kind(ErrTLS, &config.Error{Problems: problems})
		}
		changed, err := writeTLS(ncfg, render.Renderer{Dir: ncfg.TemplateDir}, pair, extras)
		if err != nil {
			return err
		}
		if !changed {
			return nil
		}
		now := servedOf(pair, extras)
		if now.extras != served.extras {
			var names []string
			for _, x := range extras {
				names = append(names, filepath.Base(x.CertFile))
				logExpiry(log, x.CertFile, x.Pair, time.Now())
			}
			log.Info("extra certificates reloaded", "pairs", len(extras), "files", strings.Join(names, ","))
		}
		if pair != nil && now.main != served.main {
			log.Info("certificate rotated", "names", strings.Join(pair.Names(), ","), "sha256", now.main, "not_after", pair.Leaf().NotAfter.UTC().Format(time.RFC3339))
			logExpiry(log, "TRAEFIK_SSL_CERT", pair, time.Now())
		}
		served = now
		return nil
	}
}

// Served identifies the certificates served: the main leaf's
// fingerprint, and each extra pair's file and fingerprint.
type Served struct{ main, extras string }

func servedOf(pair *certs.Pair, extras []certs.Extra) Served {
	var s Served
	if pair != nil {
		s.main = certs.Fingerprint(pair.Leaf())
	}
	var b strings.Builder
	for _, x := range extras {
		b.WriteString(x.CertFile + "=" + certs.Fingerprint(x.Pair.Leaf()) + " ")
	}
	s.extras = b.String()
	return s
}
