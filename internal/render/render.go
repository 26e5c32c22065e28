// Package render turns a Config into the files Traefik reads: the static
// traefik.toml and the dynamic files beside the routes (tls.toml,
// admin.toml, middlewares.toml, retry.toml, the certificate store's list,
// the ACME challenge forwarding). Templates only place
// values that are already TOML literals, and every result is parsed back.
package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	// MiddlewaresTemplate renders the middlewares the entry points use
	// (compression).
	MiddlewaresTemplate = "middlewares.toml.tmpl"
	RetryTemplate       = "retry.toml.tmpl"
	// ForwardTemplate renders the router that passes ACME HTTP-01
	// challenges to the issuer (cluster-wide ACME).
	ForwardTemplate = "acme-forward.toml.tmpl"
	// RESTTemplate routes Traefik's REST provider on its entry point
	// (TRAEFIK_ROUTES_DELIVERY=rest).
	RESTTemplate = "rest.toml.tmpl"
)

// RESTEntryPoint is the entry point of Traefik's REST provider.
const RESTEntryPoint = "rancher-traefik-rest"

// CompressMiddleware is the compress middleware of TRAEFIK_COMPRESSION that
// middlewares.toml.tmpl defines; the entry points name it with the file
// provider's suffix.
const CompressMiddleware = "rancher-traefik-compress"

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

// Bool marshals b.
func Bool(b bool) Lit { return Lit(strconv.FormatBool(b)) }

// Int marshals n.
func Int(n int) Lit { return Lit(strconv.Itoa(n)) }

// Strings marshals ss as an array of strings; none gives "" (nothing to
// print: templates test it with if).
func Strings(ss []string) Lit {
	if len(ss) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("[")
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(String(s)))
	}
	b.WriteString("]")
	return Lit(b.String())
}

// EntryPoint is one entry point of the static configuration.
type EntryPoint struct {
	Address Lit
	// Middlewares every router of the entry point uses (an array), or "".
	Middlewares Lit
}

// ExtraEntryPoint is one entry point of TRAEFIK_ENTRYPOINTS.
type ExtraEntryPoint struct {
	Name    Lit // a quoted TOML key
	Address Lit // ":5432", or ":53/udp"
	UDP     bool
}

// HTTP3 is the https entry point's HTTP/3 setting.
type HTTP3 struct {
	// AdvertisedPort is the UDP port the Alt-Svc header names.
	AdvertisedPort Lit
}

// Metrics is the Prometheus exporter on the admin (traefik) entry point.
type Metrics struct {
	// ManualRouting: admin.toml routes /metrics, behind basic auth.
	ManualRouting bool
}

// ACME is the certificate resolver named acme.
type ACME struct {
	Storage      Lit
	Email        Lit // empty when unset
	CAServer     Lit // empty when unset
	TLSChallenge bool
	DNS          *DNSChallenge // DNS-01, or nil
	// HTTPDelay is httpChallenge.delay: how long Traefik waits between
	// putting a token in place and asking the CA to validate it; empty for
	// none.
	HTTPDelay Lit
}

// DNSChallenge is the resolver's dnsChallenge.
type DNSChallenge struct {
	Provider  Lit
	Resolvers Lit // an array, or ""
	// Delay replaces the propagation check (propagation.delayBeforeChecks
	// with disableChecks), or "".
	Delay Lit
}

// StaticData is what traefik.toml.tmpl sees.
type StaticData struct {
	Version            Lit
	HTTP, HTTPS        EntryPoint
	Admin              EntryPoint
	Extra              []ExtraEntryPoint // TRAEFIK_ENTRYPOINTS, in its order
	HTTPSEnabled       bool
	Redirect           bool
	RedirectTo         Lit // the port clients reach HTTPS on, as ":443"
	RedirectPriority   Lit
	HTTP3              *HTTP3
	ReadTimeout        Lit // http and https: transport.respondingTimeouts
	WriteTimeout       Lit
	IdleTimeout        Lit
	TrustedIPs         Lit // http and https: forwardedHeaders.trustedIPs, or ""
	ProxyProtocol      Lit // http and https: proxyProtocol.trustedIPs, or ""
	InsecureSkipVerify Lit // serversTransport
	DialTimeout        Lit
	ResponseTimeout    Lit // serversTransport.forwardingTimeouts.responseHeaderTimeout
	Metrics            *Metrics
	GraceTimeout       Lit
	RequestAcceptGrace Lit
	ProvidersThrottle  Lit
	DynamicDir         Lit
	API                bool
	Dashboard          bool
	APIAuth            bool
	APIInsecure        bool // the API open on the admin entry point (api.insecure)
	LogLevel           Lit
	LogFormat          Lit
	AccessLog          bool
	ACME               *ACME
	// Probe declares the entry point the supervisor probes a new Traefik
	// on in a handover (handover.ProbeName; its socket is handed over).
	Probe bool
	// REST declares Traefik's REST provider and its loopback entry point
	// (TRAEFIK_ROUTES_DELIVERY=rest), or is nil.
	REST *REST
}

// REST is Traefik's REST provider's entry point.
type REST struct {
	Address Lit // a loopback host:port
}

// NewREST is the REST provider's entry point on 127.0.0.1:port.
func NewREST(port int) *REST {
	return &REST{Address: String(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))}
}

// RESTData is what rest.toml.tmpl sees: the htpasswd file of the per-run
// credential.
type RESTData struct {
	UsersFile Lit
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
		RedirectTo:         String(":" + strconv.Itoa(c.PublicHTTPSPort())),
		RedirectPriority:   Lit(strconv.Itoa(RedirectPriority)),
		ReadTimeout:        Duration(c.ReadTimeout),
		WriteTimeout:       Duration(c.WriteTimeout),
		IdleTimeout:        Duration(c.IdleTimeout),
		TrustedIPs:         Strings(c.TrustedIPs),
		ProxyProtocol:      Strings(c.ProxyProtocolIPs),
		InsecureSkipVerify: Bool(c.InsecureSkipVerify),
		DialTimeout:        Duration(c.DialTimeout),
		ResponseTimeout:    Duration(c.ResponseHeaderTimeout),
		GraceTimeout:       Duration(c.GraceTimeout),
		RequestAcceptGrace: Duration(c.RequestAcceptGrace),
		ProvidersThrottle:  Duration(c.ProvidersThrottle),
		DynamicDir:         String(c.DynamicDir()),
		API:                c.AdminEnable,
		Dashboard:          c.AdminEnable && c.AdminDashboard,
		APIAuth:            c.AdminEnable && c.AdminUsers.IsSet(),
		APIInsecure:        c.AdminEnable && c.AdminInsecure && !c.AdminUsers.IsSet(),
		LogLevel:           String(c.LogLevel),
		LogFormat:          String(format),
		AccessLog:          c.AccessLog,
	}
	d.Extra = extraEntryPoints(c)
	if c.HTTP3 && c.HTTPSEnabled() {
		d.HTTP3 = &HTTP3{AdvertisedPort: Int(c.PublicHTTPSPort())}
	}
	if c.MetricsEnable {
		d.Metrics = &Metrics{ManualRouting: d.APIAuth}
	}
	d.HTTP.Middlewares, d.HTTPS.Middlewares = entryPointMiddlewares(c, d.Redirect)
	if c.ACMEEnable {
		d.ACME = newACME(c)
	}
	return d
}

// entryPointMiddlewares are the http and https entry points' own
// middlewares, outermost first, or "" for none: retry wraps everything (a
// request is tried again before any of it is written), then compression —
// on http only when it serves: a redirecting http entry point answers
// nothing worth compressing.
func entryPointMiddlewares(c *config.Config, redirect bool) (onHTTP, onHTTPS Lit) {
	var httpMWs, httpsMWs []string
	if c.Retry() {
		httpMWs, httpsMWs = append(httpMWs, RetryMiddleware), append(httpsMWs, RetryMiddleware)
	}
	if c.Compression {
		httpsMWs = append(httpsMWs, CompressMiddleware+"@file")
		if !redirect {
			httpMWs = append(httpMWs, CompressMiddleware+"@file")
		}
	}
	if len(httpMWs) > 0 {
		onHTTP = Strings(httpMWs)
	}
	if len(httpsMWs) > 0 {
		onHTTPS = Strings(httpsMWs)
	}
	return onHTTP, onHTTPS
}

// newACME is the resolver named acme, as the configuration says.
func newACME(c *config.Config) *ACME {
	a := &ACME{Storage: String(c.ACMEStorage()), TLSChallenge: c.ACMEChallenge == "tls"}
	if c.ACMEChallenge == "dns" {
		a.DNS = &DNSChallenge{Provider: String(c.ACMEDNSProvider), Resolvers: Strings(c.ACMEDNSResolvers)}
		if c.ACMEDNSDelay > 0 {
			a.DNS.Delay = Duration(c.ACMEDNSDelay)
		}
	}
	if c.ACMEEmail != "" {
		a.Email = String(c.ACMEEmail)
	}
	if c.ACMECAServer != "" {
		a.CAServer = String(c.ACMECAServer)
	}
	return a
}

// extraEntryPoints are TRAEFIK_ENTRYPOINTS', in its order.
func extraEntryPoints(c *config.Config) []ExtraEntryPoint {
	var out []ExtraEntryPoint
	for _, ep := range c.EntryPoints {
		addr := net.JoinHostPort(c.BindAddress, strconv.Itoa(ep.Port))
		if ep.Proto == "udp" {
			addr += "/udp"
		}
		out = append(out, ExtraEntryPoint{Name: String(ep.Name), Address: String(addr), UDP: ep.Proto == "udp"})
	}
	return out
}

// CertFiles is one certificate for tls.toml.
type CertFiles struct {
	CertFile, KeyFile Lit
}

// NewCertFiles marshals a pair of paths.
func NewCertFiles(certFile, keyFile string) CertFiles {
	return CertFiles{CertFile: String(certFile), KeyFile: String(keyFile)}
}

// TLSOptions are the default TLS options of the https entry point.
type TLSOptions struct {
	MinVersion   Lit // "VersionTLS12"
	CipherSuites Lit // an array, or "": Go's choice (TLS 1.3 has no setting)
}

// NewTLSOptions is the policy of TRAEFIK_HTTPS_MIN_TLS ("1.0" to "1.3").
// With TLS 1.2 it is Mozilla's "intermediate" configuration (ECDHE key
// exchange, AEAD ciphers only: no CBC, no RSA key exchange); with 1.0 and
// 1.1, the ECDHE AES-CBC ciphers those versions need are added; 1.3 chooses
// its own ciphers (Go offers no setting for them).
// https://wiki.mozilla.org/Security/Server_Side_TLS
func NewTLSOptions(minTLS string) TLSOptions {
	o := TLSOptions{MinVersion: String("VersionTLS1" + strings.TrimPrefix(minTLS, "1."))}
	aead := []string{
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	}
	switch minTLS {
	case "1.2":
		o.CipherSuites = Strings(aead)
	case "1.0", "1.1":
		o.CipherSuites = Strings(append(aead,
			"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
			"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"))
	}
	return o
}

// TLSData is what tls.toml.tmpl sees.
type TLSData struct {
	Certificates []CertFiles
	Default      *CertFiles
	// Fallback says Default is rancher-traefik's stand-in for Traefik's
	// generated default certificate (certs.Fallback), not TRAEFIK_SSL_CERT.
	Fallback bool
	// Options are the default TLS options, when the https entry point exists.
	Options *TLSOptions
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

// MaxUserPriority is the largest router priority Traefik v3 accepts from a
// provider (pkg/server/router/router.go, maxUserPriority).
const MaxUserPriority = math.MaxInt - 1000

// RedirectPriority is the priority of the http entry point's redirect to
// HTTPS: Traefik's default is math.MaxInt-1, above any router a provider
// may define, which would leave the ACME challenge forwarding of cluster
// mode (MaxUserPriority) behind the redirect. One below MaxUserPriority it
// still outranks every route but one at that extreme.
const RedirectPriority = MaxUserPriority - 1

// ForwardData is what acme-forward.toml.tmpl sees.
type ForwardData struct {
	// Issuer is the URL of the issuer's http entry point.
	Issuer Lit
	// Priority is the router's: MaxUserPriority, the largest Traefik takes
	// from a provider (router.go's maxUserPriority: a larger one is refused).
	Priority Lit
}

// NewForwardData forwards to the http entry point at ip:port.
func NewForwardData(ip string, port int) ForwardData {
	return ForwardData{
		Issuer:   String("http://" + net.JoinHostPort(ip, strconv.Itoa(port))),
		Priority: Lit(strconv.Itoa(MaxUserPriority)),
	}
}

// AdminData is what admin.toml.tmpl sees: the API behind basic auth with
// the users in UsersFile, or, UsersFile empty, answering loopback clients
// only.
type AdminData struct {
	UsersFile Lit
	// Metrics routes /metrics behind the same basic auth.
	Metrics bool
}

// MiddlewaresData is what middlewares.toml.tmpl sees: nothing yet, the
// file is written when TRAEFIK_COMPRESSION asks for it.
type MiddlewaresData struct{}

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
