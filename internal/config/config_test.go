package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := FromEnv(lookupOf(nil))
	if err != nil {
		t.Fatalf("FromEnv(empty): %v", err)
	}
	got := map[string]any{
		"home": c.Home, "secrets": c.SecretsDir, "binary": c.Binary,
		"http": c.HTTPPort, "https": c.HTTPSPort, "admin": c.AdminPort,
		"mode": c.HTTPS, "redirect": c.Redirect(), "admin enable": c.AdminEnable,
		"level": c.LogLevel, "format": c.LogFormat, "access": c.AccessLog,
		"grace": c.GraceTimeout, "acme": c.ACMEEnable, "challenge": c.ACMEChallenge,
		"static": c.StaticFile(), "dynamic": c.DynamicDir(), "certs": c.CertsDir(), "acme storage": c.ACMEStorage(),
	}
	want := map[string]any{
		"home": "/opt/traefik", "secrets": "/run/secrets", "binary": "traefik",
		"http": 80, "https": 443, "admin": 8000,
		"mode": HTTPSOn, "redirect": true, "admin enable": true,
		"level": "INFO", "format": "text", "access": true,
		"grace": 8 * time.Second, "acme": false, "challenge": "tls",
		"static": "/opt/traefik/etc/traefik.toml", "dynamic": "/opt/traefik/etc/dynamic", "certs": "/opt/traefik/certs", "acme storage": "/opt/traefik/acme/acme.json",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("defaults (-got +want):\n%s", diff)
	}
}

// valueCase is one row of TestValues: an environment, and what the Config
// read from it must say.
type valueCase struct {
	name  string
	env   map[string]string
	check func(t *testing.T, c *Config)
}

// valueCases are TestValues' rows.
var valueCases = []valueCase{
	{"entry points", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:5432/tcp, dns:53/UDP,alt:8080 web2:80/udp", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_HTTPS_PORT": "5432"}, func(t *testing.T, c *Config) {
		want := []EntryPoint{{"pg", 5432, "tcp"}, {"dns", 53, "udp"}, {"alt", 8080, "tcp"}, {"web2", 80, "udp"}}
		if diff := cmp.Diff(c.EntryPoints, want); diff != "" {
			t.Errorf("entry points (-got +want):\n%s", diff)
		}
	}},
	{"https only forces redirect", map[string]string{"TRAEFIK_HTTPS_ENABLE": "ONLY", "TRAEFIK_HTTPS_REDIRECT": "false"}, func(t *testing.T, c *Config) {
		if c.HTTPS != HTTPSOnly || !c.Redirect() {
			t.Errorf("mode %q redirect %v, want only/true", c.HTTPS, c.Redirect())
		}
	}},
	{"redirect off", map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false"}, func(t *testing.T, c *Config) {
		if c.Redirect() || !c.HTTPSEnabled() {
			t.Errorf("redirect %v https %v, want false/true", c.Redirect(), c.HTTPSEnabled())
		}
	}},
	{"https off: no redirect, https port may collide", map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_HTTPS_PORT": "80"}, func(t *testing.T, c *Config) {
		if c.Redirect() || c.HTTPSEnabled() {
			t.Errorf("redirect %v https %v, want false/false", c.Redirect(), c.HTTPSEnabled())
		}
	}},
	{"debug means DEBUG", map[string]string{"TRAEFIK_DEBUG": "true", "TRAEFIK_LOG_LEVEL": "error"}, func(t *testing.T, c *Config) {
		if c.LogLevel != "DEBUG" {
			t.Errorf("level %q, want DEBUG", c.LogLevel)
		}
	}},
	{"debug does not lower TRACE", map[string]string{"TRAEFIK_DEBUG": "1", "TRAEFIK_LOG_LEVEL": "trace"}, func(t *testing.T, c *Config) {
		if c.LogLevel != "TRACE" {
			t.Errorf("level %q, want TRACE", c.LogLevel)
		}
	}},
	{"warning is WARN", map[string]string{"TRAEFIK_LOG_LEVEL": "warning"}, func(t *testing.T, c *Config) {
		if c.LogLevel != "WARN" {
			t.Errorf("level %q, want WARN", c.LogLevel)
		}
	}},
	{"duration in seconds", map[string]string{"TRAEFIK_GRACE_TIMEOUT": "3"}, func(t *testing.T, c *Config) {
		if c.GraceTimeout != 3*time.Second {
			t.Errorf("grace %v, want 3s", c.GraceTimeout)
		}
	}},
	{"cattle fallbacks", map[string]string{"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AK\n", "CATTLE_SECRET_KEY": "SK"}, func(t *testing.T, c *Config) {
		if c.RancherEndpoint != "http://rancher:8080/v1" || c.RancherAccessKey.Reveal() != "AK" || c.RancherSecret.Reveal() != "SK" {
			t.Errorf("endpoint %q, keys not taken from CATTLE_*", c.RancherEndpoint)
		}
	}},
	{"ours win over cattle", map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "http://a/v1", "CATTLE_URL": "http://b/v1", "TRAEFIK_RANCHER_ACCESSKEY": "A1", "TRAEFIK_RANCHER_SECRET": "S1", "CATTLE_ACCESS_KEY": "A2", "CATTLE_SECRET_KEY": "S2"}, func(t *testing.T, c *Config) {
		if c.RancherEndpoint != "http://a/v1" || c.RancherAccessKey.Reveal() != "A1" || c.RancherSecret.Reveal() != "S1" {
			t.Errorf("endpoint %q: TRAEFIK_RANCHER_* did not win", c.RancherEndpoint)
		}
	}},
	{"domain normalised", map[string]string{"TRAEFIK_RANCHER_DOMAIN": ".Example.COM."}, func(t *testing.T, c *Config) {
		if c.RancherDomain != "example.com" {
			t.Errorf("domain %q", c.RancherDomain)
		}
	}},
	{"htpasswd lines", map[string]string{"TRAEFIK_ADMIN_AUTH_USERS": "a:$2y$05$x\r\nb:{SHA}y=, c:z\n"}, func(t *testing.T, c *Config) {
		if diff := cmp.Diff(c.AdminUserLines(), []string{"a:$2y$05$x", "b:{SHA}y=", "c:z"}); diff != "" {
			t.Errorf("users (-got +want):\n%s", diff)
		}
	}},
	{"retry on by default, off at 0 and 1", nil, func(t *testing.T, c *Config) {
		if c.RetryAttempts != 7 || !c.Retry() {
			t.Errorf("attempts %d retry %v, want 7/true", c.RetryAttempts, c.Retry())
		}
		for _, v := range []string{"0", "1"} {
			c, err := FromEnv(lookupOf(map[string]string{"TRAEFIK_RETRY_ATTEMPTS": v}))
			if err != nil || c.Retry() {
				t.Errorf("TRAEFIK_RETRY_ATTEMPTS=%s: retry %v, err %v; want off", v, c.Retry(), err)
			}
		}
	}},
	{"child env list", map[string]string{"TRAEFIK_CHILD_ENV": "AWS_REGION, LEGO_CA_CERTIFICATES  GODEBUG"}, func(t *testing.T, c *Config) {
		if diff := cmp.Diff(c.ChildEnv, []string{"AWS_REGION", "LEGO_CA_CERTIFICATES", "GODEBUG"}); diff != "" {
			t.Errorf("child env (-got +want):\n%s", diff)
		}
	}},
}

func TestValues(t *testing.T) {
	for _, tt := range valueCases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(lookupOf(tt.env))
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// badCase is one row of TestBadInput: an environment, and every line of
// the error reading it gives, in order.
type badCase struct {
	name string
	env  map[string]string
	want []string
}

// badPortCases: ports and entry points.
func badPortCases() []badCase {
	return []badCase{
		{"non-numeric port", map[string]string{"TRAEFIK_HTTP_PORT": "eighty"}, []string{`TRAEFIK_HTTP_PORT: "eighty" is not a port number`}},
		{"port 0", map[string]string{"TRAEFIK_HTTPS_PORT": "0"}, []string{`TRAEFIK_HTTPS_PORT: port 0 is out of range 1-65535`}},
		{"port too big", map[string]string{"TRAEFIK_ADMIN_PORT": "65536"}, []string{`TRAEFIK_ADMIN_PORT: port 65536 is out of range 1-65535`}},
		{"two entry points on one port", map[string]string{"TRAEFIK_HTTPS_PORT": "8000"}, []string{`TRAEFIK_HTTPS_PORT: port 8000 is already used by TRAEFIK_ADMIN_PORT: two entry points cannot share a port`}},
		{"entry point: no port", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg"}, []string{`TRAEFIK_ENTRYPOINTS: "pg" is not name:port[/tcp|/udp] with a name of letters, digits, - and _`}},
		{"entry point: bad name", map[string]string{"TRAEFIK_ENTRYPOINTS": "p.g:5432"}, []string{`TRAEFIK_ENTRYPOINTS: "p.g:5432" is not name:port[/tcp|/udp] with a name of letters, digits, - and _`}},
		{"entry point: TOML injection", map[string]string{"TRAEFIK_ENTRYPOINTS": `a"]:1`}, []string{`TRAEFIK_ENTRYPOINTS: "a\"]:1" is not name:port[/tcp|/udp] with a name of letters, digits, - and _`}},
		{"entry point: bad port", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:70000/tcp"}, []string{`TRAEFIK_ENTRYPOINTS: "pg:70000/tcp": port 70000 is out of range 1-65535`}},
		{"entry point: bad protocol", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:5432/sctp"}, []string{`TRAEFIK_ENTRYPOINTS: "pg:5432/sctp": protocol "sctp" is not tcp or udp`}},
		{"entry point: a built-in name", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:5432,WebSecure:8443"}, []string{`TRAEFIK_ENTRYPOINTS: "WebSecure:8443": the name WebSecure is taken (http, https, traefik, web and websecure are the built-in entry points and their aliases)`}},
		{"entry point: twice", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:5432 PG:5433"}, []string{`TRAEFIK_ENTRYPOINTS: "PG:5433": entry point PG is declared twice`}},
		{"entry point: one port twice", map[string]string{"TRAEFIK_ENTRYPOINTS": "a:5432,b:5432/tcp"}, []string{`TRAEFIK_ENTRYPOINTS: "b:5432/tcp": tcp port 5432 is already used by entry point a`}},
		{"entry point: a built-in port", map[string]string{"TRAEFIK_ENTRYPOINTS": "a:8000,b:80/udp,c:443", "TRAEFIK_HTTP3_ENABLE": "true"}, []string{
			`TRAEFIK_ENTRYPOINTS: entry point a: tcp port 8000 is already used by TRAEFIK_ADMIN_PORT`,
			`TRAEFIK_ENTRYPOINTS: entry point c: tcp port 443 is already used by TRAEFIK_HTTPS_PORT`,
		}},
		{"entry point: the HTTP/3 port", map[string]string{"TRAEFIK_ENTRYPOINTS": "q:443/udp", "TRAEFIK_HTTP3_ENABLE": "true"}, []string{
			`TRAEFIK_ENTRYPOINTS: entry point q: udp port 443 is already used by TRAEFIK_HTTPS_PORT (HTTP/3)`,
		}},
	}
}

// badValueCases: one variable's value each.
func badValueCases() []badCase {
	return []badCase{
		{"unknown https mode", map[string]string{"TRAEFIK_HTTPS_ENABLE": "maybe"}, []string{`TRAEFIK_HTTPS_ENABLE: "maybe" is not one of true, only, false`}},
		{"bad boolean", map[string]string{"TRAEFIK_ACCESS_LOG": "sometimes"}, []string{`TRAEFIK_ACCESS_LOG: "sometimes" is not a boolean (true or false)`}},
		{"bad dashboard switch", map[string]string{"TRAEFIK_ADMIN_DASHBOARD": "maybe"}, []string{`TRAEFIK_ADMIN_DASHBOARD: "maybe" is not a boolean (true or false)`}},
		{"bad insecure switch", map[string]string{"TRAEFIK_ADMIN_INSECURE": "open"}, []string{`TRAEFIK_ADMIN_INSECURE: "open" is not a boolean (true or false)`}},
		{"insecure with users", map[string]string{"TRAEFIK_ADMIN_INSECURE": "true", "TRAEFIK_ADMIN_AUTH_USERS": "admin:SECRETVALUE"}, []string{
			`TRAEFIK_ADMIN_INSECURE: true serves the API without authentication, but TRAEFIK_ADMIN_AUTH_USERS is set: set one of them`,
		}},
		{"bad level", map[string]string{"TRAEFIK_LOG_LEVEL": "loud"}, []string{`TRAEFIK_LOG_LEVEL: "loud" is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC`}},
		{"bad duration", map[string]string{"TRAEFIK_GRACE_TIMEOUT": "soon"}, []string{`TRAEFIK_GRACE_TIMEOUT: "soon" is not a duration (e.g. 10s, 500ms, or seconds)`}},
		{"negative duration", map[string]string{"TRAEFIK_GRACE_TIMEOUT": "-1s"}, []string{`TRAEFIK_GRACE_TIMEOUT: "-1s" is negative`}},
		{"guard hold too long", map[string]string{"TRAEFIK_RANCHER_GUARD_HOLD": "2h"}, []string{`TRAEFIK_RANCHER_GUARD_HOLD: "2h" is longer than an hour: routes to deleted services would stay that long`}},
		{"relative home", map[string]string{"TRAEFIK_HOME": "opt"}, []string{`TRAEFIK_HOME: "opt" is not an absolute path`}},
		{"bad endpoint", map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "rancher:8080"}, []string{`TRAEFIK_RANCHER_ENDPOINT: "rancher:8080" is not an http(s) URL`}},
		{"endpoint with credentials", map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "http://AK:SECRETSK@rancher/v1"}, []string{`TRAEFIK_RANCHER_ENDPOINT: the URL holds credentials (user:password@): remove them; the API key has variables of its own`}},
		{"bad domain", map[string]string{"TRAEFIK_RANCHER_DOMAIN": "exa mple.com"}, []string{`TRAEFIK_RANCHER_DOMAIN: "exa mple.com" is not a DNS domain name`}},
		{"bad bind address", map[string]string{"TRAEFIK_BIND_ADDRESS": "localhost"}, []string{`TRAEFIK_BIND_ADDRESS: "localhost" is not an IP address`}},
		{"retry attempts out of range", map[string]string{"TRAEFIK_RETRY_ATTEMPTS": "11"}, []string{`TRAEFIK_RETRY_ATTEMPTS: "11" is not a whole number from 0 to 10`}},
		{"retry attempts not a number", map[string]string{"TRAEFIK_RETRY_ATTEMPTS": "-1"}, []string{`TRAEFIK_RETRY_ATTEMPTS: "-1" is not a whole number from 0 to 10`}},
		{"bad routes delivery", map[string]string{"TRAEFIK_ROUTES_DELIVERY": "push"}, []string{`TRAEFIK_ROUTES_DELIVERY: "push" is not one of file, rest`}},
		{"bad child env", map[string]string{"TRAEFIK_CHILD_ENV": "TRAEFIK_RANCHER_SECRET"}, []string{`TRAEFIK_CHILD_ENV: TRAEFIK_RANCHER_SECRET cannot be passed to Traefik: TRAEFIK_* and CATTLE_* variables are ours or secret`}},
	}
}

// badCombinationCases: secrets and pairs of variables (certFile exists),
// ACME, injection attempts, and several problems at once.
func badCombinationCases(certFile string) []badCase {
	return []badCase{
		{"missing secret file", map[string]string{"TRAEFIK_SSL_CERT": "/nonexistent/cert", "TRAEFIK_SSL_PRIVATE_KEY": "/nonexistent/key"}, []string{
			`TRAEFIK_SSL_CERT: reading secret file /nonexistent/cert: no such file or directory`,
			`TRAEFIK_SSL_PRIVATE_KEY: reading secret file /nonexistent/key: no such file or directory`,
		}},
		{"VAR and VAR_FILE", map[string]string{"TRAEFIK_RANCHER_SECRET": "SECRETVALUE", "TRAEFIK_RANCHER_SECRET_FILE": certFile, "TRAEFIK_RANCHER_ACCESSKEY": "AK"}, []string{
			`TRAEFIK_RANCHER_SECRET: TRAEFIK_RANCHER_SECRET_FILE is also set: set only one of them`,
		}},
		{"rest delivery with cluster ACME", map[string]string{"TRAEFIK_ROUTES_DELIVERY": "rest", "TRAEFIK_ACME_ENABLE": "true"}, []string{
			`TRAEFIK_ROUTES_DELIVERY: rest cannot be combined with cluster-wide ACME (TRAEFIK_ACME_CLUSTER=auto): its handover of a restarted Traefik does not wait for pushed routes; set TRAEFIK_ROUTES_DELIVERY=file or TRAEFIK_ACME_CLUSTER=off`,
		}},
		{"cert without key", map[string]string{"TRAEFIK_SSL_CERT": certFile}, []string{`TRAEFIK_SSL_PRIVATE_KEY: not set, but TRAEFIK_SSL_CERT is: set both or neither`}},
		{"key without cert", map[string]string{"TRAEFIK_SSL_PRIVATE_KEY": certFile}, []string{`TRAEFIK_SSL_CERT: not set, but TRAEFIK_SSL_PRIVATE_KEY is: set both or neither`}},
		{"access key without secret", map[string]string{"TRAEFIK_RANCHER_ACCESSKEY": "SECRETAK"}, []string{`TRAEFIK_RANCHER_SECRET: not set (nor CATTLE_SECRET_KEY), but an access key is: set both or neither`}},
		{"tls challenge in cluster mode", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CLUSTER": "on", "TRAEFIK_RANCHER_ENDPOINT": "http://r/v1", "TRAEFIK_RANCHER_ACCESSKEY": "a", "TRAEFIK_RANCHER_SECRET": "b"}, []string{`TRAEFIK_ACME_CHALLENGE: tls (TLS-ALPN-01) cannot be forwarded to the issuer, but TRAEFIK_ACME_CLUSTER=on: use http or dns (or set TRAEFIK_ACME_CLUSTER=off to let every instance ask for its own certificates)`}},
		{"cluster mode without the API", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CLUSTER": "on", "TRAEFIK_ACME_CHALLENGE": "http"}, []string{`TRAEFIK_ACME_CLUSTER: on publishes certificates to Rancher's certificate store through the API: set TRAEFIK_RANCHER_ENDPOINT and TRAEFIK_RANCHER_ACCESSKEY/SECRET (or CATTLE_URL and its keys)`}},
		{"dns without provider", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "dns"}, []string{`TRAEFIK_ACME_DNS_PROVIDER: TRAEFIK_ACME_CHALLENGE=dns needs the DNS provider (a name Traefik knows, e.g. cloudflare)`}},
		{"unknown DNS provider", map[string]string{"TRAEFIK_ACME_DNS_PROVIDER": "cloudflair"}, []string{`TRAEFIK_ACME_DNS_PROVIDER: "cloudflair" is not a DNS provider Traefik knows (lego v4.33.0's names, e.g. cloudflare, route53, ovh, httpreq)`}},
		{"DNS credential of ours", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN,TRAEFIK_RANCHER_SECRET"}, []string{`TRAEFIK_ACME_DNS_CREDENTIALS: TRAEFIK_RANCHER_SECRET cannot be passed to Traefik: TRAEFIK_* and CATTLE_* variables are ours or secret`}},
		{"DNS credential not a name", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF-TOKEN"}, []string{`TRAEFIK_ACME_DNS_CREDENTIALS: "CF-TOKEN" is not a variable name`}},
		{"DNS resolver without port", map[string]string{"TRAEFIK_ACME_DNS_RESOLVERS": "1.1.1.1"}, []string{`TRAEFIK_ACME_DNS_RESOLVERS: "1.1.1.1" is not host:port`}},
		{"DNS propagation", map[string]string{"TRAEFIK_ACME_DNS_PROPAGATION": "0s"}, []string{`TRAEFIK_ACME_DNS_PROPAGATION: "0s" is neither check nor a delay above zero (e.g. 30s)`}},
		{"unknown challenge", map[string]string{"TRAEFIK_ACME_CHALLENGE": "dns01"}, []string{`TRAEFIK_ACME_CHALLENGE: "dns01" is not one of tls, http, dns`}},
		{"bad cluster mode", map[string]string{"TRAEFIK_ACME_CLUSTER": "yes"}, []string{`TRAEFIK_ACME_CLUSTER: "yes" is not one of auto, on, off`}},
		{"tls challenge without https", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_HTTPS_ENABLE": "false"}, []string{`TRAEFIK_ACME_CHALLENGE: the tls challenge needs the https entry point, but TRAEFIK_HTTPS_ENABLE=false: use http or enable HTTPS`}},
		{"bad htpasswd", map[string]string{"TRAEFIK_ADMIN_AUTH_USERS": "admin:$apr1$x$SECRETVALUE,nohash,:SECRETVALUE"}, []string{
			`TRAEFIK_ADMIN_AUTH_USERS: entry 2 is not of the form user:hash (htpasswd -nB user)`,
			`TRAEFIK_ADMIN_AUTH_USERS: entry 3 is not of the form user:hash (htpasswd -nB user)`,
		}},
		{"TOML injection in e-mail", map[string]string{"TRAEFIK_ACME_EMAIL": "a\"\n[x]"}, []string{`TRAEFIK_ACME_EMAIL: "a\"\n[x]" is not an e-mail address`}},
		{"TOML injection in path", map[string]string{"TRAEFIK_HOME": "/a\"\n[x]"}, []string{`TRAEFIK_HOME: "/a\"\n[x]" holds control characters`}},
		{"TOML injection in URL", map[string]string{"TRAEFIK_ACME_CASERVER": "https://a\"\n[x]"}, []string{`TRAEFIK_ACME_CASERVER: "https://a\"\n[x]" holds control characters`}},
		{"every problem at once", map[string]string{"TRAEFIK_HTTP_PORT": "x", "TRAEFIK_HTTPS_ENABLE": "y", "TRAEFIK_LOG_FORMAT": "xml"}, []string{
			`TRAEFIK_HTTP_PORT: "x" is not a port number`,
			`TRAEFIK_HTTPS_ENABLE: "y" is not one of true, only, false`,
			`TRAEFIK_LOG_FORMAT: "xml" is not one of text, json`,
		}},
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := slices.Concat(badPortCases(), badValueCases(), badCombinationCases(certFile))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(lookupOf(tt.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
			for _, secret := range []string{"SECRETVALUE", "SECRETAK", "SECRETSK"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes a secret value: %v", err)
				}
			}
		})
	}
}

func TestVarsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars {
		if seen[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[v.Name] = true
		if v.Doc == "" || v.Group == "" {
			t.Errorf("%s has no doc or group", v.Name)
		}
		if (v.Secret && (v.setSecret == nil || v.parse != nil)) || (!v.Secret && (v.parse == nil || v.setSecret != nil || v.trim)) {
			t.Errorf("%s is not wired: secret=%v parse=%v setSecret=%v", v.Name, v.Secret, v.parse != nil, v.setSecret != nil)
		}
		if !strings.HasPrefix(v.Name, "TRAEFIK_") && !strings.HasPrefix(v.Name, "CATTLE_") {
			t.Errorf("%s: every variable starts TRAEFIK_ or CATTLE_ (the child environment scrub relies on it)", v.Name)
		}
	}
}

// FuzzFromEnv feeds arbitrary values to every variable: FromEnv must not
// panic, and a failure must name a variable on every line.
func FuzzFromEnv(f *testing.F) {
	f.Add("80", "true", "10s", "example.com", "a@b.c")
	f.Add("x", "maybe", "-1", "a b", "a\"\n[x]")
	f.Fuzz(func(t *testing.T, p, b, d, dom, mail string) {
		// Every variable of the table gets one of the inputs (new rows are
		// fuzzed without being listed here); the ones below pick theirs.
		env := map[string]string{}
		for i, v := range Vars {
			env[v.Name] = []string{p, b, d, dom, mail}[i%5]
		}
		for k, v := range map[string]string{
			"TRAEFIK_RANCHER_CONSTRAINTS": dom, "TRAEFIK_ADMIN_AUTH_USERS": mail, "TRAEFIK_RANCHER_GUARD": d, "TRAEFIK_RANCHER_MODE": b,
			"TRAEFIK_HTTP_PORT": p, "TRAEFIK_HTTPS_ENABLE": b, "TRAEFIK_ACCESS_LOG": b,
			"TRAEFIK_GRACE_TIMEOUT": d, "TRAEFIK_RANCHER_DOMAIN": dom, "TRAEFIK_ACME_EMAIL": mail,
			"TRAEFIK_RANCHER_ENDPOINT": dom, "TRAEFIK_CHILD_ENV": mail, "TRAEFIK_ADMIN_DASHBOARD": b,
			"TRAEFIK_ADMIN_INSECURE": b,
		} {
			env[k] = v
		}
		_, err := FromEnv(lookupOf(env))
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("err %T, want *Error", err)
		}
		for _, p := range ce.Problems {
			if _, ok := env[p.Var]; !ok && !strings.HasPrefix(p.Var, "TRAEFIK_") {
				t.Fatalf("problem names no variable: %q", p)
			}
			if strings.Contains(p.Msg, "\n") {
				t.Fatalf("problem spans lines: %q", p.Msg)
			}
		}
	})
}
