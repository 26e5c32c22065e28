package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rancher-traefik/internal/atomicfile"
	"rancher-traefik/internal/certs"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/render"
)

// Names of the dynamic files rancher-traefik owns in the watched directory.
const (
	tlsFile         = "tls.toml"
	adminFile       = "admin.toml"
	middlewaresFile = "middlewares.toml"
	retryFile       = "retry.toml"
)

// loadTLS parses the main pair and the extra pairs. Problems name the
// variable or the file, never the content.
func loadTLS(cfg *config.Config) (*certs.Pair, []certs.Extra, []config.Problem) {
	var (
		pair     *certs.Pair
		problems []config.Problem
	)
	if cfg.TLSConfigured() {
		p, err := certs.Parse([]byte(cfg.SSLCert.Reveal()), []byte(cfg.SSLKey.Reveal()))
		if err != nil {
			v := "TRAEFIK_SSL_CERT"
			var ce *certs.Error
			if errors.As(err, &ce) && ce.Part != certs.PartCert {
				v = "TRAEFIK_SSL_PRIVATE_KEY"
			}
			msg := err.Error()
			if src, ok := cfg.Sources[v]; ok {
				msg += " (" + src.String() + ")"
			}
			problems = append(problems, config.Problem{Var: v, Msg: msg})
		} else {
			pair = p
		}
	}
	extras, errs := certs.LoadExtra(cfg.CertsDir())
	for _, err := range errs {
		problems = append(problems, config.Problem{Msg: err.Error()})
	}
	return pair, extras, problems
}

// logExpiry warns about certificates near or past their end. An expired one
// is still served: refusing to start would take HTTP down too.
func logExpiry(log *slog.Logger, what string, p *certs.Pair, now time.Time) {
	attrs := []any{"certificate", what, "names", strings.Join(p.Names(), ","), "not_after", p.Leaf().NotAfter.UTC().Format(time.RFC3339)}
	switch p.CheckExpiry(now) {
	case certs.Expired:
		log.Error("certificate has expired; serving it anyway", attrs...)
	case certs.NotYetValid:
		log.Warn("certificate is not valid yet", append(attrs, "not_before", p.Leaf().NotBefore.UTC().Format(time.RFC3339))...)
	case certs.ExpiresSoon:
		log.Warn("certificate expires within 30 days", attrs...)
	default:
		log.Info("certificate loaded", attrs...)
	}
}

// Prepare writes every file Traefik needs: the TLS files, the dynamic
// tls.toml, admin.toml, middlewares.toml and retry.toml, and traefik.toml.
// Files are written atomically and only when changed. It says which
// certificates are served.
func (a *App) Prepare(cfg *config.Config, log *slog.Logger) (Served, error) {
	rest, err := restDeliveryOf(cfg, log)
	if err != nil {
		return Served{}, err
	}
	return a.prepare(cfg, log, true, rest)
}

// prepare is Prepare; resolver says whether traefik.toml has the ACME
// resolver (in cluster mode, the issuer's alone has it); rest is the run's
// REST delivery (TRAEFIK_ROUTES_DELIVERY=rest), or nil.
func (a *App) prepare(cfg *config.Config, log *slog.Logger, resolver bool, rest *restDelivery) (Served, error) {
	for _, d := range []struct {
		path string
		mode fs.FileMode
	}{{filepath.Dir(cfg.StaticFile()), 0o755}, {cfg.DynamicDir(), 0o755}, {cfg.CertsDir(), 0o755}, {filepath.Dir(cfg.ACMEStorage()), 0o700}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return Served{}, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
		}
	}
	pair, extras, problems := loadTLS(cfg)
	if len(problems) > 0 {
		return Served{}, Kind(ErrTLS, &config.Error{Problems: problems})
	}
	now := time.Now()
	if pair != nil {
		logExpiry(log, "TRAEFIK_SSL_CERT", pair, now)
	} else if cfg.HTTPSEnabled() && !cfg.ACMEEnable {
		log.Warn("TRAEFIK_SSL_CERT is not set: HTTPS serves a self-signed default certificate, made as Traefik makes its own", "dir", cfg.DefaultCertDir())
	}
	for _, x := range extras {
		logExpiry(log, x.CertFile, x.Pair, now)
	}
	if cfg.InsecureSkipVerify {
		log.Warn("TRAEFIK_INSECURE_SKIP_VERIFY=true: the certificates of https backends are not verified")
	}
	r := render.Renderer{Dir: cfg.TemplateDir}
	if _, err := writeTLS(cfg, r, pair, extras); err != nil {
		return Served{}, err
	}

	if err := writeAdmin(cfg, r, log); err != nil {
		return Served{}, err
	}
	if cfg.RancherCertificates.None() {
		// An earlier run's certificates of Rancher's store are not served
		// any more; otherwise they stay until the store is read.
		if err := removeStoreCerts(cfg); err != nil {
			return Served{}, err
		}
	}
	if _, err := writeOrRemove(r, cfg.StagingDir(), filepath.Join(cfg.DynamicDir(), middlewaresFile), render.MiddlewaresTemplate, render.MiddlewaresData{}, cfg.Compression); err != nil {
		return Served{}, err
	}

	// The entry points of traefik.toml name its middleware: both or neither.
	if _, err := writeOrRemove(r, cfg.StagingDir(), filepath.Join(cfg.DynamicDir(), retryFile), render.RetryTemplate, render.NewRetryData(cfg.RetryAttempts), cfg.Retry()); err != nil {
		return Served{}, err
	}

	if err := writeREST(cfg, r, rest); err != nil {
		return Served{}, err
	}
	static, err := renderStatic(cfg, a.Version, resolver, rest.entryPoint())
	if err != nil {
		return Served{}, err
	}
	changed, err := atomicWriteStatic(cfg, static)
	if err != nil {
		return Served{}, err
	}
	log.Debug("static configuration written", "file", cfg.StaticFile(), "changed", changed)
	return servedOf(pair, extras), nil
}

// writeAdmin writes admin.toml and the API's users file. With users, the
// API and dashboard are behind basic auth on the admin port; without, they
// answer loopback clients only (TRAEFIK_ADMIN_INSECURE=true: everyone, through
// Traefik's api.insecure, and no admin.toml).
func writeAdmin(cfg *config.Config, r render.Renderer, log *slog.Logger) error {
	auth := cfg.AdminEnable && cfg.AdminUsers.IsSet()
	if auth {
		users := strings.Join(cfg.AdminUserLines(), "\n") + "\n"
		if _, err := atomicfile.Write(cfg.AdminUsersFile(), []byte(users), 0o600); err != nil {
			return Kind(ErrConfig, fmt.Errorf("TRAEFIK_ADMIN_AUTH_USERS: %w", err))
		}
	} else if err := removeIfExists(cfg.AdminUsersFile()); err != nil {
		return err
	}
	what, are, answer := "the API and dashboard", "are", "answer"
	if !cfg.AdminDashboard {
		what, are, answer = "the API", "is", "answers"
	}
	data := render.AdminData{}
	switch {
	case !cfg.AdminEnable:
	case auth:
		data.UsersFile = render.String(cfg.AdminUsersFile())
		data.Metrics = cfg.MetricsEnable
	case cfg.AdminInsecure:
		log.Warn("TRAEFIK_ADMIN_INSECURE=true: "+what+" "+are+" open to anyone who reaches the admin port, with every route, backend address and header value", "port", cfg.AdminPort)
	default:
		log.Info("TRAEFIK_ADMIN_AUTH_USERS is not set: "+what+" "+answer+" only clients on loopback (inside the container); set users to reach it through the admin port", "port", cfg.AdminPort)
	}
	// Insecure: Traefik's own api.insecure routes the API, admin.toml goes.
	_, err := writeOrRemove(r, cfg.StagingDir(), filepath.Join(cfg.DynamicDir(), adminFile), render.AdminTemplate, data, cfg.AdminEnable && (auth || !cfg.AdminInsecure))
	return err
}

// writeTLS writes the main pair and tls.toml, which lists every certificate
// and carries their fingerprints: a new certificate changes tls.toml, which
// is what makes Traefik re-read the files. Without a main pair the default
// certificate is certs.Fallback's. It reports whether anything changed.
func writeTLS(cfg *config.Config, r render.Renderer, pair *certs.Pair, extras []certs.Extra) (bool, error) {
	var (
		data    render.TLSData
		changed bool
		fps     []string
	)
	if pair != nil {
		c, err := certs.WriteMain(cfg.CertsDir(), pair)
		if err != nil {
			return false, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
		}
		changed = c
		main := render.NewCertFiles(filepath.Join(cfg.CertsDir(), certs.MainCert), filepath.Join(cfg.CertsDir(), certs.MainKey))
		data.Certificates = append(data.Certificates, main)
		data.Default = &main
		fps = append(fps, certs.Fingerprint(pair.Leaf()))
	} else {
		// Without a default certificate Traefik makes an RSA-2048 key at
		// every configuration it applies: most of a change's apply
		// (certs.Fallback). One made once stands in for it.
		fb, c, err := certs.Fallback(cfg.DefaultCertDir(), time.Now())
		if err != nil {
			return false, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
		}
		changed = c
		def := render.NewCertFiles(filepath.Join(cfg.DefaultCertDir(), certs.FallbackCert), filepath.Join(cfg.DefaultCertDir(), certs.FallbackKey))
		data.Default, data.Fallback = &def, true
		fps = append(fps, certs.Fingerprint(fb.Leaf()))
	}
	for _, x := range extras {
		data.Certificates = append(data.Certificates, render.NewCertFiles(x.CertFile, x.KeyFile))
		fps = append(fps, certs.Fingerprint(x.Pair.Leaf()))
	}
	data.Fingerprints = render.String(strings.Join(fps, " "))
	if cfg.HTTPSEnabled() {
		o := render.NewTLSOptions(cfg.HTTPSMinTLS)
		data.Options = &o
	}
	c, err := writeOrRemove(r, cfg.StagingDir(), filepath.Join(cfg.DynamicDir(), tlsFile), render.TLSTemplate, data, true)
	return changed || c, err
}

// renderStatic renders traefik.toml; without resolver, the ACME resolver
// is left out whatever TRAEFIK_ACME_ENABLE says (a follower in cluster mode).
//
// rest is the REST provider's entry point (TRAEFIK_ROUTES_DELIVERY=rest),
// or nil.
func renderStatic(cfg *config.Config, version string, resolver bool, rest *render.REST) ([]byte, error) {
	d := render.NewStaticData(cfg, version)
	d.REST = rest
	d.Probe = handsOver(cfg)
	if !resolver {
		d.ACME = nil
	}
	if d.Probe && d.ACME != nil && !d.ACME.TLSChallenge && d.ACME.DNS == nil {
		d.ACME.HTTPDelay = render.Duration(handoverChallengeDelay)
	}
	b, err := render.Renderer{Dir: cfg.TemplateDir}.Render(render.StaticTemplate, d)
	if err != nil {
		return nil, Kind(ErrConfig, fmt.Errorf("TRAEFIK_TEMPLATE_DIR: %w", err))
	}
	return b, nil
}

// atomicWriteStatic writes traefik.toml, reporting whether it changed.
func atomicWriteStatic(cfg *config.Config, b []byte) (bool, error) {
	changed, err := atomicfile.Write(cfg.StaticFile(), b, 0o644)
	if err != nil {
		return false, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	return changed, nil
}

// writeOrRemove renders a dynamic file when want, and removes a stale one
// otherwise. It reports whether the file changed. The temporary file is
// made in stage, outside the directory Traefik watches (see
// atomicfile.WriteStaged): tls.toml is rewritten while Traefik runs.
func writeOrRemove(r render.Renderer, stage, path, tmpl string, data any, want bool) (bool, error) {
	if !want {
		return false, removeIfExists(path)
	}
	b, err := r.Render(tmpl, data)
	if err != nil {
		return false, Kind(ErrConfig, fmt.Errorf("TRAEFIK_TEMPLATE_DIR: %w", err))
	}
	changed, err := atomicfile.WriteStaged(path, stage, b, 0o644)
	if err != nil {
		return false, Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: %w", err))
	}
	return changed, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Kind(ErrConfig, fmt.Errorf("TRAEFIK_HOME: removing %s: %w", path, err))
	}
	return nil
}
