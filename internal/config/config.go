// Package config reads rancher-traefik's environment into a typed, validated
// Config. Every variable, its default and its documentation live in one table
// (Vars), which also generates `rancher-traefik env` and the README table.
package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rancher-traefik/internal/secrets"
)

// HTTPSMode is the value of TRAEFIK_HTTPS_ENABLE.
type HTTPSMode string

// HTTPS modes.
const (
	HTTPSOn   HTTPSMode = "true"  // HTTP and HTTPS; HTTP redirects unless TRAEFIK_HTTPS_REDIRECT=false
	HTTPSOnly HTTPSMode = "only"  // HTTP and HTTPS; HTTP always redirects
	HTTPSOff  HTTPSMode = "false" // HTTP only
)

// Config is the whole environment contract, parsed and validated.
type Config struct {
	Home        string
	SecretsDir  string
	TemplateDir string
	Binary      string

	BindAddress string
	HTTPPort    int
	HTTPSPort   int
	AdminPort   int
	// EntryPoints are TRAEFIK_ENTRYPOINTS' entry points, beside http,
	// https and traefik.
	EntryPoints   []EntryPoint
	HTTPS         HTTPSMode
	HTTPSRedirect bool
	// HTTPSPublicPort is TRAEFIK_HTTPS_PUBLIC_PORT, 0 when unset: see
	// PublicHTTPSPort.
	HTTPSPublicPort  int
	HTTP3            bool
	Compression      bool
	TrustedIPs       []string
	ProxyProtocolIPs []string
	ReadTimeout      time.Duration
	WriteTimeout     time.Duration
	IdleTimeout      time.Duration

	InsecureSkipVerify    bool
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration

	MetricsEnable bool

	AdminEnable bool
	// AdminDashboard serves the dashboard with the API.
	AdminDashboard bool
	AdminUsers     secrets.Secret
	// AdminInsecure serves the API open to the network (without users, the
	// API answers only clients on loopback).
	AdminInsecure bool

	LogLevel  string
	LogFormat string
	AccessLog bool

	SSLCert secrets.Secret
	SSLKey  secrets.Secret
	// HTTPSMinTLS is the lowest TLS version served: "1.0" to "1.3".
	HTTPSMinTLS string

	RancherEndpoint  string
	RancherAccessKey secrets.Secret
	RancherSecret    secrets.Secret
	RancherDomain    string

	RancherMode        string
	RancherMetadataURL string
	// RancherCertificates are the certificates of Rancher's store to serve.
	RancherCertificates  CertificateSelection
	RancherRefresh       int
	RancherExposed       bool
	RancherServiceFilter bool
	RancherSystem        bool
	// RancherConstraints is TRAEFIK_RANCHER_CONSTRAINTS as given; routes
	// parses it (FromEnv checks it through a Check from the caller).
	RancherConstraints string
	// RancherDefaultRule is TRAEFIK_RANCHER_DEFAULT_RULE as given ("": the
	// default); routes parses it (through a Check, like the constraints).
	RancherDefaultRule string
	RancherWait        time.Duration
	RancherDebounce    time.Duration
	RancherGuard       float64
	RancherGuardHold   time.Duration
	// RoutesDelivery is TRAEFIK_ROUTES_DELIVERY: "file" (Traefik's file
	// provider reads rancher.toml) or "rest" (the routes are pushed to
	// Traefik's REST provider; rancher.toml is kept, unwatched).
	RoutesDelivery string

	ACMEEnable    bool
	ACMEEmail     string
	ACMEChallenge string
	ACMECAServer  string
	// ACMECluster is TRAEFIK_ACME_CLUSTER: auto, on or off.
	ACMECluster string
	// DNS-01: the lego provider, the names of its credential variables
	// (secrets, resolved by app), the resolvers, and the delay that
	// replaces the propagation check (0: check).
	ACMEDNSProvider    string
	ACMEDNSCredentials []string
	ACMEDNSResolvers   []string
	ACMEDNSDelay       time.Duration

	GraceTimeout       time.Duration
	RequestAcceptGrace time.Duration
	ProvidersThrottle  time.Duration
	// RetryAttempts are the tries per request of the entry points' retry
	// middleware; under 2, there is none.
	RetryAttempts int
	ChildEnv      []string

	StopDelay      time.Duration
	StopTimeout    time.Duration
	Restart        string
	RestartMax     int
	RestartBackoff time.Duration

	// in are the rows' values that resolve derives others from.
	in inputs

	// Sources says, per secret variable that was set, where its value came
	// from (safe to log).
	Sources map[string]secrets.Source
}

// EntryPoint is one entry point of TRAEFIK_ENTRYPOINTS.
type EntryPoint struct {
	Name  string
	Port  int
	Proto string // "tcp" or "udp"
}

// StaticFile is the rendered traefik.toml.
func (c *Config) StaticFile() string { return filepath.Join(c.Home, "etc", "traefik.toml") }

// DynamicDir is the directory Traefik's file provider watches.
func (c *Config) DynamicDir() string { return filepath.Join(c.Home, "etc", "dynamic") }

// StagingDir is where the files of DynamicDir are written before they are
// renamed into it (the same file system, outside the watched directory: a
// write is then one event for Traefik's file provider, not five).
func (c *Config) StagingDir() string { return filepath.Join(c.Home, "etc", ".staging") }

// CertsDir holds traefik.crt/traefik.key and any extra NAME.crt/NAME.key pairs.
func (c *Config) CertsDir() string { return filepath.Join(c.Home, "certs") }

// DefaultCertDir holds the default certificate rancher-traefik makes for
// Traefik's default TLS store when TRAEFIK_SSL_CERT is not set (see
// certs.Fallback), outside the watched directory and apart from CertsDir,
// whose *.crt files are served.
func (c *Config) DefaultCertDir() string { return filepath.Join(c.Home, "etc", "default-certificate") }

// ACMEStorage is the ACME account and certificate store.
func (c *Config) ACMEStorage() string { return filepath.Join(c.Home, "acme", "acme.json") }

// RESTUsersFile holds the htpasswd line of the REST provider's per-run
// credential (TRAEFIK_ROUTES_DELIVERY=rest), outside the watched directory.
func (c *Config) RESTUsersFile() string { return filepath.Join(c.Home, "etc", "rest-users") }

// AdminUsersFile holds the htpasswd lines for the API, outside the watched directory.
func (c *Config) AdminUsersFile() string { return filepath.Join(c.Home, "etc", "admin-users") }

// CredentialsDir holds the credential files written from labels (basic and
// digest auth users, TLS client keys), 0600 in a 0700 directory, outside the
// watched directory; Traefik's configuration names only their paths.
func (c *Config) CredentialsDir() string { return filepath.Join(c.Home, "etc", "auth") }

// HTTPSEnabled reports whether the https entry point exists.
func (c *Config) HTTPSEnabled() bool { return c.HTTPS != HTTPSOff }

// PublicHTTPSPort is the port clients reach HTTPS on: redirects and the
// HTTP/3 advertisement name it. Behind a port mapping it differs from the
// https entry point's own port.
func (c *Config) PublicHTTPSPort() int {
	if c.HTTPSPublicPort != 0 {
		return c.HTTPSPublicPort
	}
	return c.HTTPSPort
}

// Redirect reports whether HTTP redirects to HTTPS.
func (c *Config) Redirect() bool {
	return c.HTTPS == HTTPSOnly || (c.HTTPS == HTTPSOn && c.HTTPSRedirect)
}

// Retry reports whether the entry points retry requests that never reached
// a server (TRAEFIK_RETRY_ATTEMPTS of 2 or more).
func (c *Config) Retry() bool { return c.RetryAttempts >= 2 }

// UseAPI reports whether discovery reads the Rancher server API, and why.
func (c *Config) UseAPI() (bool, string) {
	complete := c.RancherEndpoint != "" && c.RancherAccessKey.IsSet() && c.RancherSecret.IsSet()
	switch c.RancherMode {
	case "api":
		return true, "TRAEFIK_RANCHER_MODE=api"
	case "auto":
		if complete {
			return true, "TRAEFIK_RANCHER_MODE=auto and an API endpoint with an access key and secret are set"
		}
		return false, "TRAEFIK_RANCHER_MODE=auto and no complete API endpoint and key are set"
	}
	return false, "TRAEFIK_RANCHER_MODE=" + c.RancherMode
}

// CertificateSelection is TRAEFIK_RANCHER_CERTIFICATES: none (the zero
// value), all, or names.
type CertificateSelection struct {
	All   bool
	Names []string // as given, without duplicates
}

// None reports whether no certificate of the store is served.
func (s CertificateSelection) None() bool { return !s.All && len(s.Names) == 0 }

// Wants reports whether the certificate name is selected.
func (s CertificateSelection) Wants(name string) bool { return s.All || slices.Contains(s.Names, name) }

// String is the selection as the variable takes it.
func (s CertificateSelection) String() string {
	switch {
	case s.All:
		return "all"
	case s.None():
		return "none"
	}
	return strings.Join(s.Names, ",")
}

// RancherFile is the dynamic file the Rancher routes are published to.
//
// With TRAEFIK_ROUTES_DELIVERY=rest it is the durable copy of the routes
// pushed to Traefik's REST provider, outside the watched directory: the
// same routers from the file provider too would conflict.
func (c *Config) RancherFile() string {
	if c.RESTDelivery() {
		return filepath.Join(c.Home, "etc", "rancher.toml")
	}
	return filepath.Join(c.DynamicDir(), "rancher.toml")
}

// RESTDelivery reports whether the routes go to Traefik's REST provider
// (TRAEFIK_ROUTES_DELIVERY=rest) rather than through the file provider.
func (c *Config) RESTDelivery() bool { return c.RoutesDelivery == "rest" }

// TLSConfigured reports whether a main certificate pair was given.
func (c *Config) TLSConfigured() bool { return c.SSLCert.IsSet() && c.SSLKey.IsSet() }

// AdminUserLines splits TRAEFIK_ADMIN_AUTH_USERS into htpasswd lines (it
// takes one per line, or comma separated). Do not log them.
func (c *Config) AdminUserLines() []string {
	var out []string
	for f := range strings.FieldsFuncSeq(c.AdminUsers.Reveal(), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Problem is one thing wrong with the environment.
type Problem struct {
	Var string
	Msg string
}

func (p Problem) String() string {
	if p.Var == "" {
		return p.Msg
	}
	return p.Var + ": " + p.Msg
}

// Error lists every problem found; its message has one line per problem.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// A Check validates the value of a variable whose grammar belongs to the
// package that uses it (TRAEFIK_RANCHER_CONSTRAINTS is routes'): config
// depends on none of them, yet a bad value is found at once with every
// other problem, naming its variable. Check gets the raw value (or the
// default) of a variable that parsed.
type Check struct {
	Var   string
	Check func(raw string) error
}

// FromEnv reads the environment through lookup (os.LookupEnv in production),
// then runs checks. An empty value counts as unset. On failure the error is
// an *Error listing every problem, each naming its variable and never a
// secret value: first the values, in the table's order, then the secrets,
// then the combinations.
func FromEnv(lookup func(string) (string, bool), checks ...Check) (*Config, error) {
	return fromEnv(Vars, lookup, checks)
}

// fromEnv reads vars in three passes, so their order in the table means
// nothing but the order problems are listed in: every row parses into its
// own field (parse), then the secrets are resolved, once TRAEFIK_SECRETS_DIR
// is known (resolveSecrets), then the values that more than one row decides
// are derived (resolve).
func fromEnv(vars []Var, lookup func(string) (string, bool), checks []Check) (*Config, error) {
	c := &Config{Sources: map[string]secrets.Source{}}
	problems := c.parse(vars, lookup, checks)
	secretProblems, failed := c.resolveSecrets(vars, lookup)
	problems = append(problems, c.resolve()...)
	sortByRow(problems, vars)
	problems = append(problems, secretProblems...)
	problems = append(problems, c.validate(failed)...)
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// parse reads every variable that is not a secret into its field, and runs
// the checks of those that parsed.
func (c *Config) parse(vars []Var, lookup func(string) (string, bool), checks []Check) []Problem {
	byVar := map[string]func(string) error{}
	for _, ck := range checks {
		if !slices.ContainsFunc(vars, func(v Var) bool { return v.Name == ck.Var && !v.Secret }) {
			panic("config: a check for " + ck.Var + ", which is not a variable that parses")
		}
		byVar[ck.Var] = ck.Check
	}
	var problems []Problem
	for _, v := range vars {
		if v.Secret {
			continue
		}
		raw, _ := lookup(v.Name)
		if raw == "" {
			raw = v.Default
		}
		err := v.parse(c, raw)
		if check := byVar[v.Name]; err == nil && check != nil {
			err = check(raw)
		}
		if err != nil {
			problems = append(problems, Problem{v.Name, err.Error()})
		}
	}
	return problems
}

// resolveSecrets reads every secret variable (from its value, NAME_FILE, a
// path or a Rancher secret in TRAEFIK_SECRETS_DIR). failed holds the
// variables that could not be read.
func (c *Config) resolveSecrets(vars []Var, lookup func(string) (string, bool)) (problems []Problem, failed map[string]bool) {
	res := secrets.Resolver{Dir: c.SecretsDir}
	failed = map[string]bool{}
	for _, v := range vars {
		if !v.Secret {
			continue
		}
		s, src, err := res.Resolve(v.Name, lookup, v.trim)
		if err != nil {
			failed[v.Name] = true
			var ve *secrets.VarError
			if errors.As(err, &ve) {
				problems = append(problems, Problem{ve.Var, ve.Err.Error()})
			} else {
				problems = append(problems, Problem{v.Name, err.Error()})
			}
			continue
		}
		if s.IsSet() {
			c.Sources[v.Name] = src
		}
		v.setSecret(c, s)
	}
	return problems, failed
}

// inputs are what rows read only for resolve to derive other fields from:
// no row reads a field that another row writes.
type inputs struct {
	debug                            bool
	cattleURL                        string
	cattleAccessKey, cattleSecretKey secrets.Secret
}

// resolve derives, once every row is read, the values more than one row
// decides: TRAEFIK_DEBUG raises the log level to DEBUG (never lowering
// TRACE), and the CATTLE_* variables Rancher's catalog injects stand in for
// the TRAEFIK_RANCHER_* ones left unset (or, for the endpoint, invalid).
// CATTLE_URL is checked only when it is used.
func (c *Config) resolve() []Problem {
	if c.in.debug && c.LogLevel != "TRACE" {
		c.LogLevel = "DEBUG"
	}
	if !c.RancherAccessKey.IsSet() {
		c.RancherAccessKey = c.in.cattleAccessKey
	}
	if !c.RancherSecret.IsSet() {
		c.RancherSecret = c.in.cattleSecretKey
	}
	if c.RancherEndpoint == "" && c.in.cattleURL != "" {
		u, err := httpURL(c.in.cattleURL)
		c.RancherEndpoint = u
		if err != nil {
			return []Problem{{"CATTLE_URL", err.Error()}}
		}
	}
	return nil
}

// sortByRow orders problems by their variable's row in vars, keeping the
// order of each variable's own.
func sortByRow(problems []Problem, vars []Var) {
	row := make(map[string]int, len(vars))
	for i, v := range vars {
		row[v.Name] = i
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return row[a.Var] - row[b.Var] })
}

// validate checks what no single variable can: combinations. Pairs with a
// variable that failed to resolve are not checked again (one problem, one line).
func (c *Config) validate(failed map[string]bool) []Problem {
	var ps []Problem
	type ep struct {
		name string
		port int
	}
	eps := []ep{{"TRAEFIK_HTTP_PORT", c.HTTPPort}, {"TRAEFIK_ADMIN_PORT", c.AdminPort}}
	if c.HTTPSEnabled() {
		eps = append(eps, ep{"TRAEFIK_HTTPS_PORT", c.HTTPSPort})
	}
	for i := range eps {
		for j := i + 1; j < len(eps); j++ {
			if eps[i].port != 0 && eps[i].port == eps[j].port {
				ps = append(ps, Problem{eps[j].name, fmt.Sprintf("port %d is already used by %s: two entry points cannot share a port", eps[j].port, eps[i].name)})
			}
		}
	}
	ps = append(ps, c.entryPointConflicts()...)
	tlsFailed := failed["TRAEFIK_SSL_CERT"] || failed["TRAEFIK_SSL_PRIVATE_KEY"]
	keysFailed := failed["TRAEFIK_RANCHER_ACCESSKEY"] || failed["TRAEFIK_RANCHER_SECRET"] || failed["CATTLE_ACCESS_KEY"] || failed["CATTLE_SECRET_KEY"]
	if !tlsFailed && c.SSLCert.IsSet() != c.SSLKey.IsSet() {
		if c.SSLCert.IsSet() {
			ps = append(ps, Problem{"TRAEFIK_SSL_PRIVATE_KEY", "not set, but TRAEFIK_SSL_CERT is: set both or neither"})
		} else {
			ps = append(ps, Problem{"TRAEFIK_SSL_CERT", "not set, but TRAEFIK_SSL_PRIVATE_KEY is: set both or neither"})
		}
	}
	if !keysFailed && c.RancherAccessKey.IsSet() != c.RancherSecret.IsSet() {
		if c.RancherAccessKey.IsSet() {
			ps = append(ps, Problem{"TRAEFIK_RANCHER_SECRET", "not set (nor CATTLE_SECRET_KEY), but an access key is: set both or neither"})
		} else {
			ps = append(ps, Problem{"TRAEFIK_RANCHER_ACCESSKEY", "not set (nor CATTLE_ACCESS_KEY), but a secret key is: set both or neither"})
		}
	}
	for i, line := range c.AdminUserLines() {
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" || strings.ContainsAny(line, " \t") {
			// Never print the line: it holds a password hash.
			ps = append(ps, Problem{"TRAEFIK_ADMIN_AUTH_USERS", fmt.Sprintf("entry %d is not of the form user:hash (htpasswd -nB user)", i+1)})
		}
	}
	if c.AdminInsecure && c.AdminUsers.IsSet() {
		ps = append(ps, Problem{"TRAEFIK_ADMIN_INSECURE", "true serves the API without authentication, but TRAEFIK_ADMIN_AUTH_USERS is set: set one of them"})
	}
	if c.RancherMode == "api" && !keysFailed && (c.RancherEndpoint == "" || !c.RancherAccessKey.IsSet()) {
		ps = append(ps, Problem{"TRAEFIK_RANCHER_MODE", "api needs TRAEFIK_RANCHER_ENDPOINT (or CATTLE_URL) and the access key and secret"})
	}
	if useAPI, _ := c.UseAPI(); !c.RancherCertificates.None() && !useAPI && !keysFailed {
		// The metadata service knows no certificates: only the server API has them.
		ps = append(ps, Problem{"TRAEFIK_RANCHER_CERTIFICATES", c.RancherCertificates.String() + " needs the Rancher server API, which has the certificate store (the metadata service has none): set TRAEFIK_RANCHER_MODE=api (or auto) with TRAEFIK_RANCHER_ENDPOINT (or CATTLE_URL) and the access key and secret, or none"})
	}
	if c.HTTP3 && !c.HTTPSEnabled() {
		ps = append(ps, Problem{"TRAEFIK_HTTP3_ENABLE", "HTTP/3 is served on the https entry point, but TRAEFIK_HTTPS_ENABLE=false: enable HTTPS or leave HTTP/3 off"})
	}
	if c.ACMEEnable && c.ACMEChallenge == "tls" && c.ACMECluster == "on" {
		ps = append(ps, Problem{"TRAEFIK_ACME_CHALLENGE", "tls (TLS-ALPN-01) cannot be forwarded to the issuer, but TRAEFIK_ACME_CLUSTER=on: use http or dns (or set TRAEFIK_ACME_CLUSTER=off to let every instance ask for its own certificates)"})
	}
	if c.ACMEEnable && c.ACMECluster == "on" && !keysFailed && (c.RancherEndpoint == "" || !c.RancherAccessKey.IsSet()) {
		ps = append(ps, Problem{"TRAEFIK_ACME_CLUSTER", "on publishes certificates to Rancher's certificate store through the API: set TRAEFIK_RANCHER_ENDPOINT and TRAEFIK_RANCHER_ACCESSKEY/SECRET (or CATTLE_URL and its keys)"})
	}
	if c.RESTDelivery() && c.ACMEEnable && c.ACMECluster != "off" && c.RancherMode != "off" {
		// Cluster ACME restarts Traefik by a handover, which switches the
		// connections once the new Traefik's file provider is applied: it
		// knows nothing yet of routes that are pushed.
		ps = append(ps, Problem{"TRAEFIK_ROUTES_DELIVERY", "rest cannot be combined with cluster-wide ACME (TRAEFIK_ACME_CLUSTER=" + c.ACMECluster + "): its handover of a restarted Traefik does not wait for pushed routes; set TRAEFIK_ROUTES_DELIVERY=file or TRAEFIK_ACME_CLUSTER=off"})
	}
	if c.ACMEEnable && c.ACMEChallenge == "dns" && c.ACMEDNSProvider == "" {
		ps = append(ps, Problem{"TRAEFIK_ACME_DNS_PROVIDER", "TRAEFIK_ACME_CHALLENGE=dns needs the DNS provider (a name Traefik knows, e.g. cloudflare)"})
	}
	if c.ACMEEnable && c.ACMEChallenge == "tls" && !c.HTTPSEnabled() {
		ps = append(ps, Problem{"TRAEFIK_ACME_CHALLENGE", "the tls challenge needs the https entry point, but TRAEFIK_HTTPS_ENABLE=false: use http or enable HTTPS"})
	}
	return ps
}

// entryPointConflicts finds TRAEFIK_ENTRYPOINTS' entry points on a port the
// built-in ones listen on: http, https and the admin port over TCP; with
// HTTP/3, the https port over UDP too.
func (c *Config) entryPointConflicts() []Problem {
	type used struct {
		name  string
		port  int
		proto string
	}
	builtin := []used{{"TRAEFIK_HTTP_PORT", c.HTTPPort, "tcp"}, {"TRAEFIK_ADMIN_PORT", c.AdminPort, "tcp"}}
	if c.HTTPSEnabled() {
		builtin = append(builtin, used{"TRAEFIK_HTTPS_PORT", c.HTTPSPort, "tcp"})
		if c.HTTP3 {
			builtin = append(builtin, used{"TRAEFIK_HTTPS_PORT (HTTP/3)", c.HTTPSPort, "udp"})
		}
	}
	var ps []Problem
	for _, ep := range c.EntryPoints {
		for _, b := range builtin {
			if ep.Port == b.port && ep.Proto == b.proto {
				ps = append(ps, Problem{"TRAEFIK_ENTRYPOINTS", fmt.Sprintf("entry point %s: %s port %d is already used by %s", ep.Name, ep.Proto, ep.Port, b.name)})
			}
		}
	}
	return ps
}
