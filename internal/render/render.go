// Package render turns a Config into the files Traefik reads: the static
// traefik.toml and the dynamic tls.toml and admin.toml. Templates only place
// values that are already TOML literals, and every result is parsed back.
package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/tomlenc"
	"rancher-traefik/templates"
)

// Template names.
const (
	StaticTemplate = "traefik.toml.tmpl"
	TLSTemplate    = "tls.toml.tmpl"
	AdminTemplate  = "admin.toml.tmpl"
	RetryTemplate  = "retry.toml.tmpl"
)

// RetryMiddleware is the retry middleware every http and https router gets
// from its entry point, defined in the dynamic retry.toml.
const RetryMiddleware = "rancher-traefik-retry@file"

// Lit is a TOML literal, already marshalled: printing it cannot inject
// configuration, whatever the value held.
type Lit string

// String marshals s as a TOML basic string.
func String(s string) Lit { return Lit(tomlenc.Quote(s)) }

// Duration marshals d as the string form Traefik parses ("10s").
func Duration(d time.Duration) Lit { return String(d.String()) }

// EntryPoint is one entry point of the static configuration.
type EntryPoint struct {
	Address Lit
}

// ACME is the certificate resolver named acme.
type ACME struct {
	Storage      Lit
	Email        Lit // empty when unset
	CAServer     Lit // empty when unset
	TLSChallenge bool
}

// StaticData is what traefik.toml.tmpl sees.
type StaticData struct {
	Version      Lit
	HTTP, HTTPS  EntryPoint
	Admin        EntryPoint
	HTTPSEnabled bool
	Redirect     bool
	// EntryMiddlewares are the middlewares of the http and https entry
	// points (the retry middleware), a TOML array; empty for none.
	EntryMiddlewares   Lit
	GraceTimeout       Lit
	RequestAcceptGrace Lit
	ProvidersThrottle  Lit
	DynamicDir         Lit
	API                bool
	Dashboard          bool
	APIAuth            bool
	LogLevel           Lit
	LogFormat          Lit
	AccessLog          bool
	ACME               *ACME
}

// NewStaticData maps a Config to template data.
func NewStaticData(c *config.Config, version string) StaticData {
	addr := func(port int) EntryPoint {
		return EntryPoint{Address: String(net.JoinHostPort(c.BindAddress, strconv.Itoa(port)))}
	}
	format := "common"
	if c.LogFormat == "json" {
		format = "json"
	}
	d := StaticData{
		Version:            String(version),
		HTTP:               addr(c.HTTPPort),
		HTTPS:              addr(c.HTTPSPort),
		Admin:              addr(c.AdminPort),
		HTTPSEnabled:       c.HTTPSEnabled(),
		Redirect:           c.Redirect(),
		GraceTimeout:       Duration(c.GraceTimeout),
		RequestAcceptGrace: Duration(c.RequestAcceptGrace),
		ProvidersThrottle:  Duration(c.ProvidersThrottle),
		DynamicDir:         String(c.DynamicDir()),
		API:                c.AdminEnable,
		Dashboard:          c.AdminEnable && c.AdminDashboard,
		APIAuth:            c.AdminEnable && c.AdminUsers.IsSet(),
		LogLevel:           String(c.LogLevel),
		LogFormat:          String(format),
		AccessLog:          c.AccessLog,
	}
	if c.Retry() {
		d.EntryMiddlewares = Lit("[" + string(String(RetryMiddleware)) + "]")
	}
	if c.ACMEEnable {
		a := &ACME{Storage: String(c.ACMEStorage()), TLSChallenge: c.ACMEChallenge == "tls"}
		if c.ACMEEmail != "" {
			a.Email = String(c.ACMEEmail)
		}
		if c.ACMECAServer != "" {
			a.CAServer = String(c.ACMECAServer)
		}
		d.ACME = a
	}
	return d
}

// CertFiles is one certificate for tls.toml.
type CertFiles struct {
	CertFile, KeyFile Lit
}

// NewCertFiles marshals a pair of paths.
func NewCertFiles(certFile, keyFile string) CertFiles {
	return CertFiles{CertFile: String(certFile), KeyFile: String(keyFile)}
}

// TLSData is what tls.toml.tmpl sees.
type TLSData struct {
	Certificates []CertFiles
	Default      *CertFiles
	// Fingerprints of the certificates: a new certificate behind the same
	// file names still changes tls.toml, so Traefik reloads it.
	Fingerprints Lit
}

// RetryData is what retry.toml.tmpl sees.
type RetryData struct {
	Attempts Lit
}

// NewRetryData marshals the tries per request.
func NewRetryData(attempts int) RetryData { return RetryData{Attempts: Lit(strconv.Itoa(attempts))} }

// AdminData is what admin.toml.tmpl sees.
type AdminData struct {
	UsersFile Lit
}

// Renderer executes templates, taking each from Dir when a file of that name
// is there, else the built-in one.
type Renderer struct {
	Dir string
}

// Render executes the template name with data and checks that the result is
// valid TOML.
func (r Renderer) Render(name string, data any) ([]byte, error) {
	src, from, err := r.source(name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parsing template %s: %w", from, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("executing template %s: %w", from, err)
	}
	var v map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(b.Bytes())).Decode(&v); err != nil {
		return nil, fmt.Errorf("template %s produced invalid TOML: %w", from, err)
	}
	return b.Bytes(), nil
}

func (r Renderer) source(name string) ([]byte, string, error) {
	if r.Dir != "" {
		p := filepath.Join(r.Dir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return b, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, p, fmt.Errorf("reading template override: %w", err)
		}
	}
	b, err := templates.FS.ReadFile(name)
	if err != nil {
		return nil, name, fmt.Errorf("built-in template %s: %w", name, err)
	}
	return b, "built-in " + name, nil
}
