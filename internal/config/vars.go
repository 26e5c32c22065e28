package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
)

// Var is one environment variable of the contract.
type Var struct {
	Name    string
	Default string
	Doc     string
	Group   string
	// Secret variables also accept NAME_FILE, a file path or a Rancher secret
	// alias, and never print their value.
	Secret bool

	secret    bool
	trim      bool
	parse     func(c *Config, raw string) error
	setSecret func(c *Config, s secrets.Secret)
}

// Groups, in the order the documentation shows them.
const (
	GroupPaths   = "Paths"
	GroupEntry   = "Entry points"
	GroupAdmin   = "Admin API and dashboard"
	GroupLogs    = "Logs"
	GroupTLS     = "TLS"
	GroupRancher = "Rancher"
	GroupACME    = "ACME (Let's Encrypt)"
	GroupProcess = "Process"
)

// Vars is the single table of every variable rancher-traefik reads.
var Vars = []Var{
	{Name: "TRAEFIK_HOME", Default: "/opt/traefik", Group: GroupPaths,
		Doc:   "Working directory: etc/traefik.toml, etc/dynamic/ (watched by Traefik), certs/, acme/.",
		parse: func(c *Config, v string) (err error) { c.Home, err = absPath(v); return }},
	{Name: "TRAEFIK_SECRETS_DIR", Default: "/run/secrets", Group: GroupPaths,
		Doc:   "Where Rancher mounts secrets; a secret variable whose value names a file here reads that file.",
		parse: func(c *Config, v string) (err error) { c.SecretsDir, err = absPath(v); return }},
	{Name: "TRAEFIK_TEMPLATE_DIR", Group: GroupPaths,
		Doc: "Directory of template overrides: a file here replaces the built-in template of the same name (traefik.toml.tmpl, tls.toml.tmpl, admin.toml.tmpl, retry.toml.tmpl).",
		parse: func(c *Config, v string) (err error) {
			if v == "" {
				return nil
			}
			c.TemplateDir, err = absPath(v)
			return
		}},
	{Name: "TRAEFIK_BINARY", Default: "traefik", Group: GroupProcess,
		Doc: "The Traefik executable: a path, or a name looked up on PATH.",
		parse: func(c *Config, v string) error {
			if err := printable(v); err != nil {
				return err
			}
			c.Binary = v
			return nil
		}},

	{Name: "TRAEFIK_BIND_ADDRESS", Group: GroupEntry,
		Doc: "IP address every entry point listens on; empty means all addresses.",
		parse: func(c *Config, v string) error {
			if v != "" && net.ParseIP(v) == nil {
				return fmt.Errorf("%q is not an IP address", v)
			}
			c.BindAddress = v
			return nil
		}},
	{Name: "TRAEFIK_HTTP_PORT", Default: "80", Group: GroupEntry,
		Doc:   "Port of the http entry point.",
		parse: func(c *Config, v string) (err error) { c.HTTPPort, err = port(v); return }},
	{Name: "TRAEFIK_HTTPS_PORT", Default: "443", Group: GroupEntry,
		Doc:   "Port of the https entry point.",
		parse: func(c *Config, v string) (err error) { c.HTTPSPort, err = port(v); return }},
	{Name: "TRAEFIK_ADMIN_PORT", Default: "8000", Group: GroupEntry,
		Doc:   "Port of the admin (traefik) entry point: API, dashboard and /ping.",
		parse: func(c *Config, v string) (err error) { c.AdminPort, err = port(v); return }},
	{Name: "TRAEFIK_HTTPS_ENABLE", Default: "true", Group: GroupEntry,
		Doc: "true: HTTP and HTTPS, HTTP redirects to HTTPS (see TRAEFIK_HTTPS_REDIRECT); only: the same with the redirect forced; false: HTTP only, no redirect.",
		parse: func(c *Config, v string) error {
			switch m := HTTPSMode(strings.ToLower(v)); m {
			case HTTPSOn, HTTPSOnly, HTTPSOff:
				c.HTTPS = m
				return nil
			}
			return fmt.Errorf("%q is not one of true, only, false", v)
		}},
	{Name: "TRAEFIK_HTTPS_REDIRECT", Default: "true", Group: GroupEntry,
		Doc:   "With TRAEFIK_HTTPS_ENABLE=true, false turns the HTTP→HTTPS redirect off.",
		parse: func(c *Config, v string) (err error) { c.HTTPSRedirect, err = boolean(v); return }},
	{Name: "TRAEFIK_GRACE_TIMEOUT", Default: "10s", Group: GroupEntry,
		Doc:   "How long Traefik lets in-flight requests finish when stopping (entry points' transport.lifeCycle.graceTimeOut).",
		parse: func(c *Config, v string) (err error) { c.GraceTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_PROVIDERS_THROTTLE", Default: "50ms", Group: GroupEntry,
		Doc:   "Traefik's providersThrottleDuration: how long it waits after a configuration change before applying it.",
		parse: func(c *Config, v string) (err error) { c.ProvidersThrottle, err = duration(v); return }},
	{Name: "TRAEFIK_RETRY_ATTEMPTS", Default: "7", Group: GroupEntry,
		Doc: "Tries per request, the first included, on the http and https entry points: a request Traefik could not send (the connection refused, or failed before any of the request was written, as when a container has just died) is tried again on the next server; once any of it is written it is never repeated, so POST is safe. 0 or 1 turns it off.",
		parse: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10 {
				return fmt.Errorf("%q is not a whole number from 0 to 10", v)
			}
			c.RetryAttempts = n
			return nil
		}},

	{Name: "TRAEFIK_ADMIN_ENABLE", Default: "true", Group: GroupAdmin,
		Doc:   "Serve the API and dashboard on the admin port. /ping is served there either way, for health checks.",
		parse: func(c *Config, v string) (err error) { c.AdminEnable, err = boolean(v); return }},
	{Name: "TRAEFIK_ADMIN_DASHBOARD", Default: "true", Group: GroupAdmin,
		Doc:   "Serve Traefik's dashboard with the API (false: the API alone). A Traefik built from the Go module proxy, as by make traefik, has no dashboard UI and says so at start: the demo and the compose example turn it off.",
		parse: func(c *Config, v string) (err error) { c.AdminDashboard, err = boolean(v); return }},
	{Name: "TRAEFIK_ADMIN_AUTH_USERS", Group: GroupAdmin, Secret: true, secret: true,
		Doc:       "htpasswd lines (user:hash, one per line or comma separated); when set the API and dashboard require basic auth. Unset: they are open (a warning is logged).",
		setSecret: func(c *Config, s secrets.Secret) { c.AdminUsers = s }},

	{Name: "TRAEFIK_LOG_LEVEL", Default: "INFO", Group: GroupLogs,
		Doc: "TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC, for Traefik and rancher-traefik.",
		parse: func(c *Config, v string) error {
			l := strings.ToUpper(v)
			if l == "WARNING" {
				l = "WARN"
			}
			switch l {
			case "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "PANIC":
				c.LogLevel = l
				return nil
			}
			return fmt.Errorf("%q is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC", v)
		}},
	{Name: "TRAEFIK_DEBUG", Default: "false", Group: GroupLogs,
		Doc: "true is the same as TRAEFIK_LOG_LEVEL=DEBUG.",
		parse: func(c *Config, v string) error {
			d, err := boolean(v)
			if d && c.LogLevel != "TRACE" {
				c.LogLevel = "DEBUG"
			}
			return err
		}},
	{Name: "TRAEFIK_LOG_FORMAT", Default: "text", Group: GroupLogs,
		Doc: "text or json, for rancher-traefik's log lines and Traefik's (json or common).",
		parse: func(c *Config, v string) error {
			switch f := strings.ToLower(v); f {
			case "text", "json":
				c.LogFormat = f
				return nil
			}
			return fmt.Errorf("%q is not one of text, json", v)
		}},
	{Name: "TRAEFIK_ACCESS_LOG", Default: "true", Group: GroupLogs,
		Doc:   "Write Traefik's access log to stdout.",
		parse: func(c *Config, v string) (err error) { c.AccessLog, err = boolean(v); return }},

	{Name: "TRAEFIK_SSL_CERT", Group: GroupTLS, Secret: true, secret: true,
		Doc:       "The main certificate chain (PEM, leaf first, e.g. a wildcard bundle with its intermediate CA); the default certificate of the https entry point.",
		setSecret: func(c *Config, s secrets.Secret) { c.SSLCert = s }},
	{Name: "TRAEFIK_SSL_PRIVATE_KEY", Group: GroupTLS, Secret: true, secret: true,
		Doc:       "The key of TRAEFIK_SSL_CERT (PEM: PKCS#1, PKCS#8 or EC; no password). Other NAME.crt/NAME.key pairs in $TRAEFIK_HOME/certs are served by SNI (and followed while running).",
		setSecret: func(c *Config, s secrets.Secret) { c.SSLKey = s }},

	{Name: "TRAEFIK_RANCHER_ENDPOINT", Group: GroupRancher,
		Doc: "Rancher server API URL, e.g. http://rancher:8080/v1 (falls back to CATTLE_URL).",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := httpURL(v)
			c.RancherEndpoint = u
			return err
		}},
	{Name: "CATTLE_URL", Group: GroupRancher,
		Doc: "Rancher API URL injected by Rancher's catalog; used when TRAEFIK_RANCHER_ENDPOINT is unset.",
		parse: func(c *Config, v string) error {
			if v == "" || c.RancherEndpoint != "" {
				return nil
			}
			u, err := httpURL(v)
			c.RancherEndpoint = u
			return err
		}},
	{Name: "TRAEFIK_RANCHER_ACCESSKEY", Group: GroupRancher, Secret: true, secret: true, trim: true,
		Doc:       "Environment API access key (falls back to CATTLE_ACCESS_KEY). Set together with TRAEFIK_RANCHER_SECRET.",
		setSecret: func(c *Config, s secrets.Secret) { c.RancherAccessKey = s }},
	{Name: "TRAEFIK_RANCHER_SECRET", Group: GroupRancher, Secret: true, secret: true, trim: true,
		Doc:       "Environment API secret key (falls back to CATTLE_SECRET_KEY).",
		setSecret: func(c *Config, s secrets.Secret) { c.RancherSecret = s }},
	{Name: "CATTLE_ACCESS_KEY", Group: GroupRancher, Secret: true, secret: true, trim: true,
		Doc: "Access key injected by Rancher's catalog; used when TRAEFIK_RANCHER_ACCESSKEY is unset.",
		setSecret: func(c *Config, s secrets.Secret) {
			if !c.RancherAccessKey.IsSet() {
				c.RancherAccessKey = s
			}
		}},
	{Name: "CATTLE_SECRET_KEY", Group: GroupRancher, Secret: true, secret: true, trim: true,
		Doc: "Secret key injected by Rancher's catalog; used when TRAEFIK_RANCHER_SECRET is unset.",
		setSecret: func(c *Config, s secrets.Secret) {
			if !c.RancherSecret.IsSet() {
				c.RancherSecret = s
			}
		}},
	{Name: "TRAEFIK_RANCHER_DOMAIN", Group: GroupRancher,
		Doc: "Domain of default frontend rules: Host:<service>.<stack>.<domain>.",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			d := strings.TrimPrefix(strings.TrimSuffix(v, "."), ".")
			if !isDomain(d) {
				return fmt.Errorf("%q is not a DNS domain name", v)
			}
			c.RancherDomain = strings.ToLower(d)
			return nil
		}},

	{Name: "TRAEFIK_RANCHER_MODE", Default: "auto", Group: GroupRancher,
		Doc: "Where services come from: api (the Rancher server API at TRAEFIK_RANCHER_ENDPOINT with the access key and secret, as the seed image did), metadata (the metadata service), off (no discovery: only your own files in etc/dynamic), or auto (api when an endpoint and both keys are set, ours or the CATTLE_* ones; else metadata).",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "auto", "metadata", "api", "off":
				c.RancherMode = l
				return nil
			}
			return fmt.Errorf("%q is not one of auto, metadata, api, off", v)
		}},
	{Name: "TRAEFIK_RANCHER_METADATA_URL", Default: "http://rancher-metadata.rancher.internal/2016-07-29", Group: GroupRancher,
		Doc: "The metadata service, with its version (2015-07-25, 2015-12-19, 2016-07-29 or latest).",
		parse: func(c *Config, v string) error {
			u, err := httpURL(v)
			c.RancherMetadataURL = strings.TrimSuffix(u, "/")
			return err
		}},
	{Name: "TRAEFIK_RANCHER_REFRESH", Default: "15", Group: GroupRancher,
		Doc: "Long-poll maxWait in seconds (1-120): how long one watch of /version waits for a change.",
		parse: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 120 {
				return fmt.Errorf("%q is not a number of seconds from 1 to 120", v)
			}
			c.RancherRefresh = n
			return nil
		}},
	{Name: "TRAEFIK_RANCHER_EXPOSED", Default: "false", Group: GroupRancher,
		Doc:   "Publish services that have no traefik.enable label.",
		parse: func(c *Config, v string) (err error) { c.RancherExposed, err = boolean(v); return }},
	{Name: "TRAEFIK_RANCHER_HEALTHCHECK", Default: "false", Group: GroupRancher,
		Doc:   "Also require the service to be active (active, updating-active, upgrading, upgraded); containers are always filtered on state and health.",
		parse: func(c *Config, v string) (err error) { c.RancherServiceFilter, err = boolean(v); return }},
	{Name: "TRAEFIK_RANCHER_SYSTEM", Default: "false", Group: GroupRancher,
		Doc:   "Publish services of system stacks too.",
		parse: func(c *Config, v string) (err error) { c.RancherSystem, err = boolean(v); return }},
	{Name: "TRAEFIK_RANCHER_CONSTRAINTS", Group: GroupRancher,
		Doc: "Traefik v1 style constraints on the traefik.tags label: tag==api requires the tag, tag!=internal forbids it (comma separated, all must hold).",
		parse: func(c *Config, v string) (err error) {
			c.RancherConstraints, err = routes.ParseConstraints(v)
			return
		}},
	{Name: "TRAEFIK_RANCHER_WAIT", Default: "30s", Group: GroupRancher,
		Doc:   "How long start-up waits for Rancher's first answer before starting Traefik without Rancher routes (they follow when Rancher answers).",
		parse: func(c *Config, v string) (err error) { c.RancherWait, err = duration(v); return }},
	{Name: "TRAEFIK_RANCHER_DEBOUNCE", Default: "50ms", Group: GroupRancher,
		Doc:   "Quiet period after a change before routes are rebuilt, so a burst of changes is published once (at most 10 times this late).",
		parse: func(c *Config, v string) (err error) { c.RancherDebounce, err = duration(v); return }},
	{Name: "TRAEFIK_RANCHER_GUARD", Default: "0.5", Group: GroupRancher,
		Doc: "Outage guard: an update that removes more than this fraction of the routers is applied only when a second answer agrees; 0 turns the guard off.",
		parse: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("%q is not a fraction from 0 to 1", v)
			}
			c.RancherGuard = f
			return nil
		}},

	{Name: "TRAEFIK_ACME_ENABLE", Default: "false", Group: GroupACME,
		Doc:   "Add a certificate resolver named acme (used by routers that ask for it).",
		parse: func(c *Config, v string) (err error) { c.ACMEEnable, err = boolean(v); return }},
	{Name: "TRAEFIK_ACME_EMAIL", Group: GroupACME,
		Doc: "Contact e-mail of the ACME account.",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if !emailRE.MatchString(v) {
				return fmt.Errorf("%q is not an e-mail address", v)
			}
			c.ACMEEmail = v
			return nil
		}},
	{Name: "TRAEFIK_ACME_CHALLENGE", Default: "tls", Group: GroupACME,
		Doc: "tls (TLS-ALPN-01 on the https entry point) or http (HTTP-01 on the http entry point).",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "tls", "http":
				c.ACMEChallenge = l
				return nil
			}
			return fmt.Errorf("%q is not one of tls, http", v)
		}},
	{Name: "TRAEFIK_ACME_CASERVER", Group: GroupACME,
		Doc: "ACME directory URL; empty means Let's Encrypt production.",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := httpURL(v)
			c.ACMECAServer = u
			return err
		}},

	{Name: "TRAEFIK_REQUEST_ACCEPT_GRACE", Default: "0s", Group: GroupProcess,
		Doc:   "When stopping, how long Traefik keeps accepting requests before its grace starts (entry points' transport.lifeCycle.requestAcceptGraceTimeout).",
		parse: func(c *Config, v string) (err error) { c.RequestAcceptGrace, err = duration(v); return }},
	{Name: "TRAEFIK_STOP_DELAY", Default: "0s", Group: GroupProcess,
		Doc:   "On SIGTERM/SIGINT, wait this long before telling Traefik (lets a load balancer notice first).",
		parse: func(c *Config, v string) (err error) { c.StopDelay, err = duration(v); return }},
	{Name: "TRAEFIK_STOP_TIMEOUT", Default: "10s", Group: GroupProcess,
		Doc:   "How long the orchestrator waits before killing the container (docker stop -t, Rancher's stop timeout); a warning is logged when the stop budget exceeds it.",
		parse: func(c *Config, v string) (err error) { c.StopTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_RESTART", Default: "on-failure", Group: GroupProcess,
		Doc: "When Traefik ends by itself: on-failure (restart unless it exited 0), always, or never.",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "on-failure", "always", "never":
				c.Restart = l
				return nil
			}
			return fmt.Errorf("%q is not one of on-failure, always, never", v)
		}},
	{Name: "TRAEFIK_RESTART_MAX", Default: "5", Group: GroupProcess,
		Doc: "Restarts allowed before the container gives up with the crash-loop exit code; the count resets after 60s of healthy running.",
		parse: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%q is not a whole number ≥ 0", v)
			}
			c.RestartMax = n
			return nil
		}},
	{Name: "TRAEFIK_RESTART_BACKOFF", Default: "1s", Group: GroupProcess,
		Doc: "Delay before the first restart; it doubles (with jitter) up to 30s.",
		parse: func(c *Config, v string) error {
			d, err := duration(v)
			if err == nil && d == 0 {
				err = fmt.Errorf("%q must be more than zero", v)
			}
			c.RestartBackoff = d
			return err
		}},
	{Name: "TRAEFIK_CHILD_ENV", Group: GroupProcess,
		Doc: "Comma-separated names of extra variables passed to Traefik (it gets only PATH, HOME and TZ otherwise). TRAEFIK_* and CATTLE_* names are refused.",
		parse: func(c *Config, v string) error {
			c.ChildEnv = nil
			for n := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
				if !envNameRE.MatchString(n) {
					return fmt.Errorf("%q is not a variable name", n)
				}
				if strings.HasPrefix(n, "TRAEFIK_") || strings.HasPrefix(n, "CATTLE_") {
					return fmt.Errorf("%s cannot be passed to Traefik: TRAEFIK_* and CATTLE_* variables are ours or secret", n)
				}
				c.ChildEnv = append(c.ChildEnv, n)
			}
			return nil
		}},
}

var (
	emailRE   = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

func port(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", v)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range 1-65535", n)
	}
	return n, nil
}

func boolean(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true, nil
	case "0", "f", "false", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", v)
}

// duration accepts Go durations ("10s", "1m30s") and bare seconds ("10").
func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, fmt.Errorf("%q is not a duration (e.g. 10s, 500ms, or seconds)", v)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", v)
	}
	return d, nil
}

func printable(v string) error {
	if strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%q holds control characters", v)
	}
	return nil
}

func absPath(v string) (string, error) {
	if err := printable(v); err != nil {
		return "", err
	}
	if !filepath.IsAbs(v) {
		return "", fmt.Errorf("%q is not an absolute path", v)
	}
	return filepath.Clean(v), nil
}

func httpURL(v string) (string, error) {
	if err := printable(v); err != nil {
		return "", err
	}
	u, err := url.Parse(v)
	if err == nil && u.User != nil || strings.Contains(v, "@") {
		return "", errors.New("the URL holds credentials (user:password@): remove them; the API key has variables of its own")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", v)
	}
	return u.String(), nil
}

func isDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for l := range strings.SplitSeq(d, ".") {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}
