package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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

	trim bool
	// parse sets the row's own field (or c.in) from raw, the value or the
	// default; setSecret does for a secret. Neither reads a field another
	// row sets: what depends on several rows is derived in resolve.
	parse     func(c *Config, raw string) error
	setSecret func(c *Config, s secrets.Secret)
}

// Groups, in the order the documentation shows them.
const (
	GroupPaths   = "Paths"
	GroupEntry   = "Entry points"
	GroupBackend = "Backends"
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
		Doc: "Directory of template overrides: a file here replaces the built-in template of the same name (traefik.toml.tmpl, tls.toml.tmpl, admin.toml.tmpl, middlewares.toml.tmpl, retry.toml.tmpl).",
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
	{Name: "TRAEFIK_ENTRYPOINTS", Group: GroupEntry,
		Doc:   "Extra entry points, name:port[/tcp|/udp] comma separated (e.g. pg:5432/tcp,dns:53/udp; /tcp is the default), on TRAEFIK_BIND_ADDRESS: for traefik.tcp.* and traefik.udp.* routers (a TCP or UDP router without an entrypoints label gets every one of its protocol), and HTTP routers that name them. The names http, https, traefik, web and websecure are taken; a port of the http, https or admin entry point cannot be reused.",
		parse: func(c *Config, v string) (err error) { c.EntryPoints, err = entryPoints(v); return }},
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
	{Name: "TRAEFIK_HTTPS_PUBLIC_PORT", Group: GroupEntry,
		Doc:   "The port clients reach HTTPS on, when Docker or Rancher maps another one to TRAEFIK_HTTPS_PORT (8443 for -p 8443:443): every HTTP→HTTPS redirect names it, and HTTP/3 is advertised on it. Empty: TRAEFIK_HTTPS_PORT.",
		parse: func(c *Config, v string) (err error) { c.HTTPSPublicPort, err = optionalPort(v); return }},
	{Name: "TRAEFIK_HTTP3_ENABLE", Default: "false", Group: GroupEntry,
		Doc:   "Serve HTTP/3 (QUIC, over UDP) on the https entry point's port too, advertised to clients by an Alt-Svc header naming TRAEFIK_HTTPS_PUBLIC_PORT. Publish the UDP port as well (-p 443:443/udp).",
		parse: func(c *Config, v string) (err error) { c.HTTP3, err = boolean(v); return }},
	{Name: "TRAEFIK_COMPRESSION", Default: "false", Group: GroupEntry,
		Doc:   "Compress responses of 1 KiB or more (gzip, Brotli or zstd, as the client accepts) on the http and https entry points: every router there gets a compress middleware.",
		parse: func(c *Config, v string) (err error) { c.Compression, err = boolean(v); return }},
	{Name: "TRAEFIK_TRUSTED_IPS", Group: GroupEntry,
		Doc:   "IP addresses and CIDR ranges (comma separated) of the proxies in front of Traefik: their X-Forwarded-* headers are kept on the http and https entry points; anyone else's are replaced (forwardedHeaders.trustedIPs).",
		parse: func(c *Config, v string) (err error) { c.TrustedIPs, err = ipList(v); return }},
	{Name: "TRAEFIK_PROXY_PROTOCOL", Group: GroupEntry,
		Doc:   "IP addresses and CIDR ranges (comma separated) of the load balancers that send a PROXY protocol header (v1 or v2) to the http and https entry points: the client address it carries is used. A header from anyone else is ignored (proxyProtocol.trustedIPs).",
		parse: func(c *Config, v string) (err error) { c.ProxyProtocolIPs, err = ipList(v); return }},
	{Name: "TRAEFIK_READ_TIMEOUT", Default: "60s", Group: GroupEntry,
		Doc:   "Longest time to read a whole request, body included, on the http and https entry points (transport.respondingTimeouts.readTimeout); 0 means none.",
		parse: func(c *Config, v string) (err error) { c.ReadTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_WRITE_TIMEOUT", Default: "0s", Group: GroupEntry,
		Doc:   "Longest time to write a response on the http and https entry points (transport.respondingTimeouts.writeTimeout); 0 means none, as long downloads and websockets need.",
		parse: func(c *Config, v string) (err error) { c.WriteTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_IDLE_TIMEOUT", Default: "180s", Group: GroupEntry,
		Doc:   "How long an idle keep-alive connection of a client stays open on the http and https entry points (transport.respondingTimeouts.idleTimeout); 0 means forever.",
		parse: func(c *Config, v string) (err error) { c.IdleTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_GRACE_TIMEOUT", Default: "8s", Group: GroupEntry,
		Doc:   "How long Traefik lets in-flight requests finish when stopping (entry points' transport.lifeCycle.graceTimeOut). The default fits Docker's and Rancher's 10 s stop timeout (see TRAEFIK_STOP_TIMEOUT).",
		parse: func(c *Config, v string) (err error) { c.GraceTimeout, err = duration(v); return }},
	// Traefik v3.6 pkg/provider/aggregator maybeThrottledProvide: a
	// provider's message is forwarded at once, then the throttle is slept
	// (a ring channel keeps the latest message meanwhile).
	{Name: "TRAEFIK_PROVIDERS_THROTTLE", Default: "50ms", Group: GroupEntry,
		Doc:   "Traefik's providersThrottleDuration: after applying a provider's new configuration, how long Traefik waits before it takes that provider's next one (the latest meanwhile); a change after a quiet spell is applied at once.",
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

	{Name: "TRAEFIK_INSECURE_SKIP_VERIFY", Default: "false", Group: GroupBackend,
		Doc:   "Accept any certificate from https backends (traefik.protocol=https), self-signed ones included (serversTransport.insecureSkipVerify). Off, a backend's certificate must be valid for its address and signed by a CA of the image's bundle.",
		parse: func(c *Config, v string) (err error) { c.InsecureSkipVerify, err = boolean(v); return }},
	{Name: "TRAEFIK_DIAL_TIMEOUT", Default: "30s", Group: GroupBackend,
		Doc:   "Longest time to open a connection to a backend (serversTransport.forwardingTimeouts.dialTimeout); 0 means none.",
		parse: func(c *Config, v string) (err error) { c.DialTimeout, err = duration(v); return }},
	{Name: "TRAEFIK_RESPONSE_HEADER_TIMEOUT", Default: "0s", Group: GroupBackend,
		Doc:   "Longest time to wait for a backend's response headers once the request is sent; past it the client gets 504 (serversTransport.forwardingTimeouts.responseHeaderTimeout). 0 means none.",
		parse: func(c *Config, v string) (err error) { c.ResponseHeaderTimeout, err = duration(v); return }},

	{Name: "TRAEFIK_ADMIN_ENABLE", Default: "true", Group: GroupAdmin,
		Doc:   "Serve the API and dashboard on the admin port. /ping is served there either way, for health checks.",
		parse: func(c *Config, v string) (err error) { c.AdminEnable, err = boolean(v); return }},
	{Name: "TRAEFIK_ADMIN_DASHBOARD", Default: "true", Group: GroupAdmin,
		Doc:   "Serve Traefik's dashboard with the API (false: the API alone). A Traefik built from the Go module proxy, as by make traefik, has no dashboard UI and says so at start: the demo and the compose example turn it off.",
		parse: func(c *Config, v string) (err error) { c.AdminDashboard, err = boolean(v); return }},
	{Name: "TRAEFIK_ADMIN_AUTH_USERS", Group: GroupAdmin, Secret: true,
		Doc:       "htpasswd lines (user:hash, one per line or comma separated); when set the API and dashboard require basic auth on the admin port. Unset: they answer only clients on loopback, in the container's own network namespace, and the network gets 404; /ping stays open either way. See TRAEFIK_ADMIN_INSECURE.",
		setSecret: func(c *Config, s secrets.Secret) { c.AdminUsers = s }},
	{Name: "TRAEFIK_ADMIN_INSECURE", Default: "false", Group: GroupAdmin,
		Doc:   "true serves the API and dashboard without authentication to anyone who reaches the admin port, as the seed image did (a warning is logged). They show every route, backend address and header value. Cannot be combined with TRAEFIK_ADMIN_AUTH_USERS.",
		parse: func(c *Config, v string) (err error) { c.AdminInsecure, err = boolean(v); return }},

	{Name: "TRAEFIK_METRICS_ENABLE", Default: "false", Group: GroupAdmin,
		Doc:   "Serve Prometheus metrics at /metrics on the admin port, with entry point, router and service labels. Behind basic auth when TRAEFIK_ADMIN_AUTH_USERS is set and the API is served; open otherwise, like /ping.",
		parse: func(c *Config, v string) (err error) { c.MetricsEnable, err = boolean(v); return }},

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
		Doc:   "true is the same as TRAEFIK_LOG_LEVEL=DEBUG.",
		parse: func(c *Config, v string) (err error) { c.in.debug, err = boolean(v); return }},
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

	{Name: "TRAEFIK_SSL_CERT", Group: GroupTLS, Secret: true,
		Doc:       "The main certificate chain (PEM, leaf first, e.g. a wildcard bundle with its intermediate CA); the default certificate of the https entry point.",
		setSecret: func(c *Config, s secrets.Secret) { c.SSLCert = s }},
	{Name: "TRAEFIK_SSL_PRIVATE_KEY", Group: GroupTLS, Secret: true,
		Doc:       "The key of TRAEFIK_SSL_CERT (PEM: PKCS#1, PKCS#8 or EC; no password). Other NAME.crt/NAME.key pairs in $TRAEFIK_HOME/certs are served by SNI (and followed while running).",
		setSecret: func(c *Config, s secrets.Secret) { c.SSLKey = s }},

	{Name: "TRAEFIK_HTTPS_MIN_TLS", Default: "1.2", Group: GroupTLS,
		Doc:   "Lowest TLS version the https entry point accepts, and with it the cipher policy (tls.options.default): 1.2 (ECDHE key exchange with AES-GCM or ChaCha20 only), 1.3 (TLS 1.3 alone), or 1.1 and 1.0 for old clients (adding ECDHE with AES-CBC). VersionTLS12 and the like are accepted too.",
		parse: func(c *Config, v string) (err error) { c.HTTPSMinTLS, err = tlsVersion(v); return }},

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
		// Checked only when used (see resolve).
		parse: func(c *Config, v string) error { c.in.cattleURL = v; return nil }},
	{Name: "TRAEFIK_RANCHER_ACCESSKEY", Group: GroupRancher, Secret: true, trim: true,
		Doc:       "Environment API access key (falls back to CATTLE_ACCESS_KEY). Set together with TRAEFIK_RANCHER_SECRET.",
		setSecret: func(c *Config, s secrets.Secret) { c.RancherAccessKey = s }},
	{Name: "TRAEFIK_RANCHER_SECRET", Group: GroupRancher, Secret: true, trim: true,
		Doc:       "Environment API secret key (falls back to CATTLE_SECRET_KEY).",
		setSecret: func(c *Config, s secrets.Secret) { c.RancherSecret = s }},
	{Name: "CATTLE_ACCESS_KEY", Group: GroupRancher, Secret: true, trim: true,
		Doc:       "Access key injected by Rancher's catalog; used when TRAEFIK_RANCHER_ACCESSKEY is unset.",
		setSecret: func(c *Config, s secrets.Secret) { c.in.cattleAccessKey = s }},
	{Name: "CATTLE_SECRET_KEY", Group: GroupRancher, Secret: true, trim: true,
		Doc:       "Secret key injected by Rancher's catalog; used when TRAEFIK_RANCHER_SECRET is unset.",
		setSecret: func(c *Config, s secrets.Secret) { c.in.cattleSecretKey = s }},
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
	{Name: "TRAEFIK_RANCHER_CERTIFICATES", Default: "none", Group: GroupRancher,
		Doc:   "Certificates of Rancher's store (Infrastructure → Certificates) to serve by SNI, followed while running: none, all, or a comma separated list of names. Needs the API (TRAEFIK_RANCHER_MODE=api, or auto with an endpoint and keys) and a key that may read certificate keys: the environmentAdmin agent role (io.rancher.container.agent.role: environmentAdmin).",
		parse: func(c *Config, v string) (err error) { c.RancherCertificates, err = certificateSelection(v); return }},
	{Name: "TRAEFIK_RANCHER_METADATA_URL", Default: "http://rancher-metadata.rancher.internal/2016-07-29", Group: GroupRancher,
		Doc: "The metadata service, with its version (2015-07-25, 2015-12-19, 2016-07-29 or latest).",
		parse: func(c *Config, v string) error {
			u, err := httpURL(v)
			c.RancherMetadataURL = strings.TrimSuffix(u, "/")
			return err
		}},
	{Name: "TRAEFIK_RANCHER_REFRESH", Default: "15", Group: GroupRancher,
		Doc: "Long-poll maxWait in seconds (1-120): how long one watch of /version waits for a change. In API mode, how often the API (and the certificate store) is read again when no event came.",
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
		Doc: "Which services are published. Traefik v1 constraints on the traefik.tags label: tag==api requires a tag matching api, tag!=internal forbids one matching internal, with * matching any run of characters (tag==ap*), comma separated, all must hold; or a Traefik v2 expression on the service's labels: Label(\"k\",\"v\"), LabelRegex(\"k\",\"re\") (unanchored), combined with &&, ||, ! and parentheses.",
		// Its grammar is routes': the caller checks it (see Check).
		parse: func(c *Config, v string) error { c.RancherConstraints = v; return nil }},
	{Name: "TRAEFIK_RANCHER_DEFAULT_RULE", Group: GroupRancher,
		Doc: "The rule of a router without one, as a Go template like Traefik v2's defaultRule: fields .Service, .Stack, .Environment (\"\" in API mode), .Domain (traefik.domain or TRAEFIK_RANCHER_DOMAIN), .Labels, and .Name (service/stack, as v2's); functions normalize (as v2's), lower, upper, trim, trimPrefix, trimSuffix, replace, default, index. Empty: Host(`{{ lower .Service }}.{{ lower .Stack }}.{{ lower .Domain }}`). A template that cannot run is an error at start; one that gives an invalid rule for a service leaves that service out with a warning.",
		// Its grammar is routes': the caller checks it (see Check).
		parse: func(c *Config, v string) error { c.RancherDefaultRule = v; return nil }},
	{Name: "TRAEFIK_RANCHER_WAIT", Default: "30s", Group: GroupRancher,
		Doc:   "How long start-up waits for Rancher's first answer before starting Traefik without Rancher routes (they follow when Rancher answers).",
		parse: func(c *Config, v string) (err error) { c.RancherWait, err = duration(v); return }},
	// 25ms from BenchmarkChangeToLiveSettings (README, "Choosing the
	// debounce and the throttle"): 0 published each change of a burst 10 ms
	// apart on its own (each a full read and apply by Traefik), 10 ms
	// merged them with no margin, 50 ms cost its whole length every change.
	// Since issue 12's fetch round a change after a quiet spell is not
	// debounced at all (publish.isolated): a burst is written at most twice.
	{Name: "TRAEFIK_RANCHER_DEBOUNCE", Default: "25ms", Group: GroupRancher,
		Doc:   "Quiet period after a change that follows the last publish closely, before routes are rebuilt, so the rest of a burst is published once (at most 10 times this late); a change this long or more after the last publish is published at once, in environments of up to 2,000 routers (above, every change waits: a burst's second write would be a second full apply by Traefik).",
		parse: func(c *Config, v string) (err error) { c.RancherDebounce, err = duration(v); return }},
	// rest: Traefik applies a change about twice as fast at 1,000 and
	// 10,000 services (BenchmarkTraefikApply), at the price of a restarted
	// Traefik having no Rancher routes until the supervisor has pushed them.
	{Name: "TRAEFIK_ROUTES_DELIVERY", Default: "file", Group: GroupRancher,
		Doc: "How Rancher routes reach Traefik: file (rancher.toml in the watched directory) or rest (pushed to Traefik's REST provider on a loopback entry point of its own, behind a per-run credential; rancher.toml kept outside the watched directory as the durable copy, and pushed again to every Traefik the supervisor starts). rest is not available with cluster-wide ACME.",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "file", "rest":
				c.RoutesDelivery = l
				return nil
			}
			return fmt.Errorf("%q is not one of file, rest", v)
		}},
	{Name: "TRAEFIK_RANCHER_GUARD", Default: "0.5", Group: GroupRancher,
		Doc: "Outage guard: an answer that removes this fraction of the routers or more is a mass removal, held for TRAEFIK_RANCHER_GUARD_HOLD; 0 turns the guard off.",
		parse: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("%q is not a fraction from 0 to 1", v)
			}
			c.RancherGuard = f
			return nil
		}},
	// 30 s: a restarted Rancher 1.6 metadata service serves the answers it
	// last saved (it saves them every 30 s; a new container has none: an
	// empty tree) until its download from the server is in, seconds on a
	// healthy server, tens on a busy one. A longer hold delays a real mass
	// deletion: its routes answer 502 meanwhile, not 404.
	{Name: "TRAEFIK_RANCHER_GUARD_HOLD", Default: "30s", Group: GroupRancher,
		Doc: "How long a mass removal (see TRAEFIK_RANCHER_GUARD) is held: it applies only if Rancher still says so at the end, and an answer that restores the routes meanwhile cancels it; other changes are published meanwhile. 0 applies it at once.",
		parse: func(c *Config, v string) error {
			d, err := duration(v)
			if err != nil {
				return err
			}
			if d > time.Hour {
				return fmt.Errorf("%q is longer than an hour: routes to deleted services would stay that long", v)
			}
			c.RancherGuardHold = d
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
		Doc: "tls (TLS-ALPN-01 on the https entry point), http (HTTP-01 on the http entry point) or dns (DNS-01 through TRAEFIK_ACME_DNS_PROVIDER; the only one for wildcard names).",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "tls", "http", "dns":
				c.ACMEChallenge = l
				return nil
			}
			return fmt.Errorf("%q is not one of tls, http, dns", v)
		}},
	{Name: "TRAEFIK_ACME_DNS_PROVIDER", Group: GroupACME,
		Doc: "With TRAEFIK_ACME_CHALLENGE=dns: the DNS provider, by the name Traefik (lego " + LegoVersion + ") knows it (cloudflare, route53, ovh, httpreq, exec, …).",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if !dnsProviders[v] {
				return fmt.Errorf("%q is not a DNS provider Traefik knows (lego %s's names, e.g. cloudflare, route53, ovh, httpreq)", v, LegoVersion)
			}
			c.ACMEDNSProvider = v
			return nil
		}},
	{Name: "TRAEFIK_ACME_DNS_CREDENTIALS", Group: GroupACME,
		Doc: "With TRAEFIK_ACME_CHALLENGE=dns: comma-separated names of the provider's variables (e.g. CF_DNS_API_TOKEN), each read as a secret (NAME, NAME_FILE, or NAME naming a file of TRAEFIK_SECRETS_DIR) and passed to Traefik's environment alone, never logged.",
		parse: func(c *Config, v string) error {
			c.ACMEDNSCredentials = nil
			for n := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
				if !envNameRE.MatchString(n) {
					return fmt.Errorf("%q is not a variable name", n)
				}
				if strings.HasPrefix(n, "TRAEFIK_") || strings.HasPrefix(n, "CATTLE_") {
					return fmt.Errorf("%s cannot be passed to Traefik: TRAEFIK_* and CATTLE_* variables are ours or secret", n)
				}
				c.ACMEDNSCredentials = append(c.ACMEDNSCredentials, n)
			}
			return nil
		}},
	{Name: "TRAEFIK_ACME_DNS_RESOLVERS", Group: GroupACME,
		Doc: "With TRAEFIK_ACME_CHALLENGE=dns: comma-separated DNS servers (host:port) the propagation check asks; empty means the system's.",
		parse: func(c *Config, v string) error {
			c.ACMEDNSResolvers = nil
			for n := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
				if _, port, err := net.SplitHostPort(n); err != nil || port == "" {
					return fmt.Errorf("%q is not host:port", n)
				}
				c.ACMEDNSResolvers = append(c.ACMEDNSResolvers, n)
			}
			return nil
		}},
	{Name: "TRAEFIK_ACME_DNS_PROPAGATION", Default: "check", Group: GroupACME,
		Doc: "With TRAEFIK_ACME_CHALLENGE=dns: check (wait until the TXT record is seen), or a delay to wait instead of checking (e.g. 30s).",
		parse: func(c *Config, v string) error {
			if strings.EqualFold(v, "check") {
				c.ACMEDNSDelay = 0
				return nil
			}
			d, err := duration(v)
			if err != nil || d == 0 {
				return fmt.Errorf("%q is neither check nor a delay above zero (e.g. 30s)", v)
			}
			c.ACMEDNSDelay = d
			return nil
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

	{Name: "TRAEFIK_ACME_CLUSTER", Default: "auto", Group: GroupACME,
		Doc: "Cluster-wide ACME: one instance of this Rancher service (the issuer: the running, not unhealthy container with the lowest create_index) runs the resolver, the others forward HTTP-01 challenges to it and serve the certificates it publishes to Rancher's certificate store. auto: when the service is global or has more than one container (needs TRAEFIK_ACME_CHALLENGE=http); on: always; off: every instance asks for its own certificates.",
		parse: func(c *Config, v string) error {
			switch l := strings.ToLower(v); l {
			case "auto", "on", "off":
				c.ACMECluster = l
				return nil
			}
			return fmt.Errorf("%q is not one of auto, on, off", v)
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
	emailRE      = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	entryPointRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	labelRE      = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// reservedEntryPoints are the names TRAEFIK_ENTRYPOINTS cannot take: the
// built-in entry points and the aliases labels use for them.
var reservedEntryPoints = []string{"http", "https", "traefik", "web", "websecure"}

// entryPoints reads TRAEFIK_ENTRYPOINTS: name:port[/tcp|/udp], comma or
// space separated.
func entryPoints(v string) ([]EntryPoint, error) {
	var out []EntryPoint
	for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		name, rest, ok := strings.Cut(f, ":")
		if !ok || !entryPointRE.MatchString(name) {
			return nil, fmt.Errorf("%q is not name:port[/tcp|/udp] with a name of letters, digits, - and _", f)
		}
		if slices.Contains(reservedEntryPoints, strings.ToLower(name)) {
			return nil, fmt.Errorf("%q: the name %s is taken (http, https, traefik, web and websecure are the built-in entry points and their aliases)", f, name)
		}
		portS, proto, _ := strings.Cut(rest, "/")
		proto = strings.ToLower(proto)
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return nil, fmt.Errorf("%q: protocol %q is not tcp or udp", f, proto)
		}
		n, err := port(portS)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		for _, e := range out {
			switch {
			case strings.EqualFold(e.Name, name):
				return nil, fmt.Errorf("%q: entry point %s is declared twice", f, name)
			case e.Port == n && e.Proto == proto:
				return nil, fmt.Errorf("%q: %s port %d is already used by entry point %s", f, proto, n, e.Name)
			}
		}
		out = append(out, EntryPoint{Name: name, Port: n, Proto: proto})
	}
	return out, nil
}

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

// optionalPort is a port, or 0 when v is empty.
func optionalPort(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	return port(v)
}

// ipList reads IP addresses and CIDR ranges, comma or space separated.
func ipList(v string) ([]string, error) {
	var out []string
	for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if net.ParseIP(f) == nil {
			if _, _, err := net.ParseCIDR(f); err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR range", f)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// tlsVersion reads 1.0-1.3, or Traefik's names VersionTLS10-VersionTLS13
// (rawmind0/alpine-traefik's TRAEFIK_HTTPS_MIN_TLS took those), as "1.x".
func tlsVersion(v string) (string, error) {
	l := strings.ToLower(v)
	switch l {
	case "versiontls10", "versiontls11", "versiontls12", "versiontls13":
		l = "1." + l[len(l)-1:]
	}
	switch l {
	case "1.0", "1.1", "1.2", "1.3":
		return l, nil
	}
	return "", fmt.Errorf("%q is not a TLS version: 1.0, 1.1, 1.2 or 1.3", v)
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

// certificateSelection parses TRAEFIK_RANCHER_CERTIFICATES.
func certificateSelection(v string) (CertificateSelection, error) {
	if err := printable(v); err != nil {
		return CertificateSelection{}, err
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "none":
		return CertificateSelection{}, nil
	case "all":
		return CertificateSelection{All: true}, nil
	}
	var sel CertificateSelection
	seen := map[string]bool{}
	for i, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		switch l := strings.ToLower(n); {
		case n == "":
			return CertificateSelection{}, fmt.Errorf("name %d of %q is empty: give none, all, or certificate names separated by commas", i+1, v)
		case l == "all" || l == "none":
			return CertificateSelection{}, fmt.Errorf("%q mixes %s with names: give none, all, or names", v, l)
		case !seen[n]:
			seen[n] = true
			sel.Names = append(sel.Names, n)
		}
	}
	return sel, nil
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
