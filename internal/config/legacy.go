package config

// Images whose TRAEFIK_* variables operators bring along when they migrate.
const (
	// ImageMch1307 is the seed: Traefik 1.3/1.4 configured by
	// opt/opt/traefik/bin/traefik.toml.sh (and traefik-service.sh).
	ImageMch1307 = "mch1307/rancher-traefik"
	// ImageAlpineTraefik is Traefik 1.x configured by
	// root/opt/traefik/bin/traefik.toml.sh, documented in its README.md and
	// set by its Rancher catalog templates (rancher/docker-compose.yml,
	// templates/traefik/0 and 1/docker-compose.yml).
	ImageAlpineTraefik = "rawmind0/alpine-traefik"
)

// rawmind0/rancher-traefik is the confd/rancher-template sidekick that ran
// beside rawmind0/alpine-traefik and wrote rules.toml: its templates
// (root/opt/tools/confd/etc/templates/*.tmpl,
// root/opt/tools/rancher-template/tmpl/traefik.tmpl) read only Rancher
// metadata and service labels, and its Dockerfile sets no TRAEFIK_*
// variable (its refresh is rancher-tools' CONF_INTERVAL). Its stack's
// TRAEFIK_* variables are alpine-traefik's, listed below.

// LegacyVar is a variable of an image rancher-traefik replaces that
// rancher-traefik does not read under that name.
type LegacyVar struct {
	Name string
	// From names the images that read it.
	From []string
	// Use is the variable that does its job here; empty means not supported.
	Use string
	// Note says what differs, or what to do instead.
	Note string
}

// Legacy lists the peers' variables, read in their entrypoint scripts,
// READMEs and catalog templates (paths above). A name the peers share with
// rancher-traefik (TRAEFIK_HTTP_PORT, TRAEFIK_HTTPS_ENABLE, TRAEFIK_SSL_CERT,
// TRAEFIK_RANCHER_DOMAIN, TRAEFIK_ACME_CASERVER, …) is read here and is not
// listed; nor are the names their scripts only assign to themselves
// (TRAEFIK_ENTRYPOINTS_*, TRAEFIK_ACME_CFG, …).
var Legacy = []LegacyVar{
	// mch1307/rancher-traefik, opt/opt/traefik/bin/traefik.toml.sh.
	{Name: "TRAEFIK_REFRESH_INTERVAL", From: []string{ImageMch1307}, Use: "TRAEFIK_RANCHER_REFRESH",
		Note: "seconds a watch of Rancher waits for a change"},

	// Both: mch1307's traefik.toml.sh and traefik-service.sh, alpine-traefik's traefik.toml.sh.
	{Name: "TRAEFIK_LOG_FILE", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "Traefik's log and rancher-traefik's go to the container's output"},
	{Name: "TRAEFIK_ACCESS_FILE", From: []string{ImageMch1307, ImageAlpineTraefik}, Use: "TRAEFIK_ACCESS_LOG",
		Note: "the access log goes to the container's output; TRAEFIK_ACCESS_LOG=false turns it off"},
	{Name: "TRAEFIK_SSL_PATH", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "put extra NAME.crt/NAME.key pairs in $TRAEFIK_HOME/certs (a volume); they are served by SNI"},
	{Name: "TRAEFIK_ACME_ONDEMAND", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "Traefik v2 and later have no on-demand certificates"},
	{Name: "TRAEFIK_ACME_ONHOSTRULE", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "a router asks for a certificate with the label traefik.acme=true (or tls.certresolver=acme)"},
	{Name: "TRAEFIK_K8S_ENABLE", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "rancher-traefik reads Rancher only"},
	{Name: "TRAEFIK_K8S_OPTS", From: []string{ImageMch1307, ImageAlpineTraefik},
		Note: "rancher-traefik reads Rancher only"},

	// rawmind0/alpine-traefik, root/opt/traefik/bin/traefik.toml.sh (and README.md).
	{Name: "TRAEFIK_HTTP_COMPRESSION", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_COMPRESSION",
		Note: "one setting for every entry point"},
	{Name: "TRAEFIK_HTTPS_COMPRESSION", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_COMPRESSION",
		Note: "one setting for every entry point"},
	{Name: "TRAEFIK_MIN_TLS", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_HTTPS_MIN_TLS"},
	{Name: "TRAEFIK_TRUSTEDIPS", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_TRUSTED_IPS",
		Note: "alpine-traefik also accepted the PROXY protocol from them: see TRAEFIK_PROXY_PROTOCOL"},
	{Name: "TRAEFIK_INSECURE_SKIP", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_INSECURE_SKIP_VERIFY"},
	{Name: "TRAEFIK_WWW_REDIRECT", From: []string{ImageAlpineTraefik},
		Note: "redirect per service with the labels traefik.frontend.redirect.regex and .replacement"},
	{Name: "TRAEFIK_ADMIN_SSL", From: []string{ImageAlpineTraefik},
		Note: "the admin port serves plain HTTP"},
	{Name: "TRAEFIK_ADMIN_STATISTICS", From: []string{ImageAlpineTraefik},
		Note: "Traefik v2 and later keep no statistics; see TRAEFIK_METRICS_ENABLE"},
	{Name: "TRAEFIK_ADMIN_AUTH_METHOD", From: []string{ImageAlpineTraefik},
		Note: "the API takes basic auth only, from TRAEFIK_ADMIN_AUTH_USERS"},
	{Name: "TRAEFIK_ADMIN_BASIC_AUTH_USERS", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_ADMIN_AUTH_USERS"},
	{Name: "TRAEFIK_ADMIN_DIGEST_AUTH_USERS", From: []string{ImageAlpineTraefik},
		Note: "no digest auth: give htpasswd lines to TRAEFIK_ADMIN_AUTH_USERS"},
	{Name: "TRAEFIK_ADMIN_READ_ONLY", From: []string{ImageAlpineTraefik},
		Note: "not needed: Traefik v3's API is read-only"},
	{Name: "TRAEFIK_CONSTRAINTS", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_RANCHER_CONSTRAINTS",
		Note: `written tag==api,tag!=internal, without alpine-traefik's quotes`},
	{Name: "TRAEFIK_SSL_KEY", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_SSL_PRIVATE_KEY",
		Note: "it takes the PEM text too, or a file or Rancher secret"},
	{Name: "TRAEFIK_SSL_CRT", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_SSL_CERT",
		Note: "it takes the PEM text too, or a file or Rancher secret"},
	{Name: "TRAEFIK_SSL_KEY_FILE", From: []string{ImageAlpineTraefik},
		Note: "the key is written to $TRAEFIK_HOME/certs/traefik.key; to read it from a file, use TRAEFIK_SSL_PRIVATE_KEY_FILE"},
	{Name: "TRAEFIK_SSL_CRT_FILE", From: []string{ImageAlpineTraefik},
		Note: "the certificate is written to $TRAEFIK_HOME/certs/traefik.crt; to read it from a file, use TRAEFIK_SSL_CERT_FILE"},
	{Name: "TRAEFIK_ACME_CHALLENGE_HTTP_ENTRYPOINT", From: []string{ImageAlpineTraefik},
		Note: "TRAEFIK_ACME_CHALLENGE=http always answers on the http entry point"},
	// root/opt/traefik/bin/traefik-export_acme_credentials.sh split
	// TRAEFIK_ACME_CHALLENGE_DNS_CREDENTIALS (key1=value1;key2=value2) into
	// the provider's variables.
	{Name: "TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_ACME_DNS_PROVIDER",
		Note: "with TRAEFIK_ACME_CHALLENGE=dns; the provider names are Traefik v3's (lego's)"},
	{Name: "TRAEFIK_ACME_CHALLENGE_DNS_DELAY", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_ACME_DNS_PROPAGATION",
		Note: "a delay waited instead of checking that the TXT record is seen: 30s, or bare seconds"},
	{Name: "TRAEFIK_ACME_CHALLENGE_DNS_CREDENTIALS", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_ACME_DNS_CREDENTIALS",
		Note: "it takes the names of the provider's variables, each set on its own (CF_DNS_API_TOKEN=…, NAME_FILE or a Rancher secret), not key=value;key=value"},
	{Name: "TRAEFIK_ACME_KEYTYPE", From: []string{ImageAlpineTraefik},
		Note: "Traefik's default key type is used"},
	{Name: "TRAEFIK_PROMETHEUS_ENABLE", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_METRICS_ENABLE"},
	{Name: "TRAEFIK_PROMETHEUS_BUCKETS", From: []string{ImageAlpineTraefik},
		Note: "Traefik's default buckets are used"},
	{Name: "TRAEFIK_METRICS_EXPORTER", From: []string{ImageAlpineTraefik},
		Note: "Prometheus only, on the admin port (TRAEFIK_METRICS_ENABLE)"},
	{Name: "TRAEFIK_METRICS_PUSH", From: []string{ImageAlpineTraefik},
		Note: "Prometheus only, scraped from the admin port (TRAEFIK_METRICS_ENABLE)"},
	{Name: "TRAEFIK_METRICS_ADDRESS", From: []string{ImageAlpineTraefik},
		Note: "Prometheus only, scraped from the admin port (TRAEFIK_METRICS_ENABLE)"},
	{Name: "TRAEFIK_METRICS_PROMETHEUS_BUCKETS", From: []string{ImageAlpineTraefik},
		Note: "Traefik's default buckets are used"},
	{Name: "TRAEFIK_TIMEOUT_READ", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_READ_TIMEOUT"},
	{Name: "TRAEFIK_TIMEOUT_WRITE", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_WRITE_TIMEOUT"},
	{Name: "TRAEFIK_TIMEOUT_IDLE", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_IDLE_TIMEOUT"},
	{Name: "TRAEFIK_TIMEOUT_DIAL", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_DIAL_TIMEOUT"},
	{Name: "TRAEFIK_TIMEOUT_HEADER", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_RESPONSE_HEADER_TIMEOUT"},
	{Name: "TRAEFIK_TIMEOUT_GRACE", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_GRACE_TIMEOUT",
		Note: "bare seconds (10) work as before"},
	{Name: "TRAEFIK_TIMEOUT_ACCEPT", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_REQUEST_ACCEPT_GRACE",
		Note: "bare seconds (5) work as before"},
	{Name: "TRAEFIK_RANCHER_ENABLE", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_RANCHER_MODE",
		Note: "discovery is on by default; TRAEFIK_RANCHER_MODE=off turns it off"},
	{Name: "TRAEFIK_RANCHER_HEALTHCHEK", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_RANCHER_HEALTHCHECK"},
	{Name: "TRAEFIK_RANCHER_INTERVALPOLL", From: []string{ImageAlpineTraefik},
		Note: "the metadata service is long-polled; TRAEFIK_RANCHER_REFRESH sets how long a watch waits"},
	{Name: "TRAEFIK_RANCHER_PREFIX", From: []string{ImageAlpineTraefik}, Use: "TRAEFIK_RANCHER_METADATA_URL",
		Note: "the metadata version is the last part of the URL"},
	{Name: "TRAEFIK_RANCHER_OPTS", From: []string{ImageAlpineTraefik},
		Note: "each Rancher setting has its own TRAEFIK_RANCHER_* variable (rancher-traefik env)"},
	{Name: "TRAEFIK_USAGE_ENABLE", From: []string{ImageAlpineTraefik},
		Note: "Traefik's anonymous usage report stays off"},
	{Name: "TRAEFIK_FILE_ENABLE", From: []string{ImageAlpineTraefik},
		Note: "your own .toml files in $TRAEFIK_HOME/etc/dynamic are always served"},
	{Name: "TRAEFIK_FILE_NAME", From: []string{ImageAlpineTraefik},
		Note: "your own .toml files in $TRAEFIK_HOME/etc/dynamic are always served"},
	{Name: "TRAEFIK_FILE_OPTS", From: []string{ImageAlpineTraefik},
		Note: "your own .toml files in $TRAEFIK_HOME/etc/dynamic are always served"},
	{Name: "TRAEFIK_DOCKER_ENABLE", From: []string{ImageAlpineTraefik},
		Note: "rancher-traefik reads Rancher only"},
	{Name: "TRAEFIK_DOCKER_ENDPOINT", From: []string{ImageAlpineTraefik},
		Note: "rancher-traefik reads Rancher only"},
}
