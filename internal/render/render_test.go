package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"rancher-traefik/internal/config"
	goldenfile "rancher-traefik/internal/golden"
	"rancher-traefik/internal/secrets"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

func cfg(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	c, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	return c
}

func TestStaticGolden(t *testing.T) {
	tests := []struct {
		golden string
		env    map[string]string
	}{
		{"defaults.toml", nil},
		{"https-only.toml", map[string]string{"TRAEFIK_HTTPS_ENABLE": "only", "TRAEFIK_HTTPS_REDIRECT": "false"}},
		{"https-false.toml", map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"}},
		{"redirect-off.toml", map[string]string{"TRAEFIK_HTTPS_REDIRECT": "false"}},
		{"acme.toml", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_EMAIL": "ops@example.com", "TRAEFIK_ACME_CASERVER": "https://acme-staging-v02.api.letsencrypt.org/directory"}},
		{"acme-http.toml", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "http", "TRAEFIK_HTTPS_ENABLE": "false"}},
		{"acme-dns.toml", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "dns", "TRAEFIK_ACME_DNS_PROVIDER": "cloudflare"}},
		{"acme-dns-delay.toml", map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "dns", "TRAEFIK_ACME_DNS_PROVIDER": "httpreq",
			"TRAEFIK_ACME_DNS_RESOLVERS": "10.0.0.53:53, [fd00::53]:53", "TRAEFIK_ACME_DNS_PROPAGATION": "30s"}},
		{"admin-auth.toml", map[string]string{"TRAEFIK_ADMIN_AUTH_USERS": "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"}},
		{"admin-off.toml", map[string]string{"TRAEFIK_ADMIN_ENABLE": "false"}},
		{"admin-insecure.toml", map[string]string{"TRAEFIK_ADMIN_INSECURE": "true"}},
		{"dashboard-off.toml", map[string]string{"TRAEFIK_ADMIN_DASHBOARD": "false"}},
		{"retry-off.toml", map[string]string{"TRAEFIK_RETRY_ATTEMPTS": "1"}},
		{"custom-ports.toml", map[string]string{"TRAEFIK_HTTP_PORT": "8080", "TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_ADMIN_PORT": "9000", "TRAEFIK_BIND_ADDRESS": "127.0.0.1", "TRAEFIK_HOME": "/srv/traefik", "TRAEFIK_GRACE_TIMEOUT": "3s", "TRAEFIK_LOG_FORMAT": "json", "TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_DEBUG": "true"}},
		{"public-port.toml", map[string]string{"TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_HTTPS_PUBLIC_PORT": "443"}},
		{"knobs.toml", map[string]string{
			"TRAEFIK_HTTPS_PUBLIC_PORT": "8443", "TRAEFIK_HTTP3_ENABLE": "true", "TRAEFIK_COMPRESSION": "true",
			"TRAEFIK_TRUSTED_IPS": "10.0.0.0/8, 192.168.1.1", "TRAEFIK_PROXY_PROTOCOL": "172.16.0.0/12,fd00::/8",
			"TRAEFIK_READ_TIMEOUT": "30s", "TRAEFIK_WRITE_TIMEOUT": "1m", "TRAEFIK_IDLE_TIMEOUT": "90",
			"TRAEFIK_INSECURE_SKIP_VERIFY": "true", "TRAEFIK_DIAL_TIMEOUT": "5s", "TRAEFIK_RESPONSE_HEADER_TIMEOUT": "20s",
			"TRAEFIK_METRICS_ENABLE": "true",
		}},
		{"metrics-auth.toml", map[string]string{"TRAEFIK_METRICS_ENABLE": "true", "TRAEFIK_ADMIN_AUTH_USERS": "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"}},
		{"compress-redirect-off.toml", map[string]string{"TRAEFIK_COMPRESSION": "true", "TRAEFIK_HTTPS_REDIRECT": "false"}},
		{"compress-http-only.toml", map[string]string{"TRAEFIK_COMPRESSION": "true", "TRAEFIK_HTTPS_ENABLE": "false"}},
		{"entrypoints.toml", map[string]string{"TRAEFIK_ENTRYPOINTS": "pg:5432/tcp,dns:53/udp,alt-http:8081", "TRAEFIK_BIND_ADDRESS": "127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := Renderer{}.Render(StaticTemplate, NewStaticData(cfg(t, tt.env), "test"))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, tt.golden, got)
		})
	}
}

// TestRESTGolden: TRAEFIK_ROUTES_DELIVERY=rest declares the REST provider
// (not insecure: not on the admin entry point), its loopback entry point,
// and makes the serving entry points the default ones (asDefault), so that
// a router without entry points never lands on the REST one.
func TestRESTGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		env    map[string]string
	}{
		{"rest.toml", map[string]string{"TRAEFIK_ROUTES_DELIVERY": "rest"}},
		{"rest-entrypoints.toml", map[string]string{"TRAEFIK_ROUTES_DELIVERY": "rest", "TRAEFIK_ENTRYPOINTS": "pg:5432/tcp,dns:53/udp", "TRAEFIK_HTTPS_ENABLE": "false"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			d := NewStaticData(cfg(t, tt.env), "test")
			d.REST = NewREST(41999)
			got, err := Renderer{}.Render(StaticTemplate, d)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, tt.golden, got)
		})
	}
	got, err := Renderer{}.Render(RESTTemplate, RESTData{UsersFile: String("/opt/traefik/etc/rest-users")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "rest-router.toml", got)
}

func TestTLSAndAdminGolden(t *testing.T) {
	main := NewCertFiles("/opt/traefik/certs/traefik.crt", "/opt/traefik/certs/traefik.key")
	options := NewTLSOptions("1.2")
	got, err := Renderer{}.Render(TLSTemplate, TLSData{
		Certificates: []CertFiles{main, NewCertFiles("/opt/traefik/certs/other.crt", "/opt/traefik/certs/other.key")},
		Default:      &main,
		Fingerprints: String("0a1b 2c3d"),
		Options:      &options,
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tls.toml", got)
	// No TRAEFIK_SSL_CERT, HTTP only: the stand-in default certificate alone.
	fallback := NewCertFiles("/opt/traefik/etc/default-certificate/default.crt", "/opt/traefik/etc/default-certificate/default.key")
	got, err = Renderer{}.Render(TLSTemplate, TLSData{Default: &fallback, Fallback: true, Fingerprints: String("4e5f")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tls-fallback.toml", got)
	for _, tc := range []struct{ golden, users string }{{"admin.toml", ""}, {"admin-metrics.toml", "metrics"}} {
		got, err = Renderer{}.Render(AdminTemplate, AdminData{UsersFile: String("/opt/traefik/etc/admin-users"), Metrics: tc.users != ""})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, tc.golden, got)
	}
	got, err = Renderer{}.Render(AdminTemplate, AdminData{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "admin-loopback.toml", got)
	got, err = Renderer{}.Render(RetryTemplate, NewRetryData(3))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "retry.toml", got)
	got, err = Renderer{}.Render(ForwardTemplate, NewForwardData("10.42.7.9", 80))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "acme-forward.toml", got)
}

// TestMiddlewaresGolden: the middlewares TRAEFIK_COMPRESSION asks for.
func TestMiddlewaresGolden(t *testing.T) {
	got, err := Renderer{}.Render(MiddlewaresTemplate, MiddlewaresData{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "middlewares.toml", got)
	if !bytes.Contains(got, []byte("[http.middlewares."+CompressMiddleware+".compress]")) {
		t.Errorf("middlewares.toml does not define %s, which the entry points use", CompressMiddleware)
	}
}

// TestTLSOptionsGolden: each TRAEFIK_HTTPS_MIN_TLS gives its version and
// cipher policy, with or without certificates of our own.
func TestTLSOptionsGolden(t *testing.T) {
	for _, v := range []string{"1.0", "1.1", "1.2", "1.3"} {
		t.Run(v, func(t *testing.T) {
			o := NewTLSOptions(v)
			got, err := Renderer{}.Render(TLSTemplate, TLSData{Options: &o, Fingerprints: String("")})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "tls-options-"+v+".toml", got)
		})
	}
}

func TestStringCannotInject(t *testing.T) {
	hostile := []string{
		"a\"\n[x]\ny = 1",
		`a\"` + "\n[x]",
		"a'''\n[x]",
		"a\u0000b\u007f\u001b[x]",
		"\\",
		`"""`,
		"é ✓ \u2028",
	}
	for _, h := range hostile {
		c := cfg(t, nil)
		c.Home = h // bypass validation on purpose
		c.LogLevel = h
		c.TrustedIPs = []string{h, "10.0.0.1"}
		out, err := Renderer{}.Render(StaticTemplate, NewStaticData(c, h))
		if err != nil {
			t.Fatalf("Render(%q): %v", h, err)
		}
		var v map[string]any
		if _, err := toml.Decode(string(out), &v); err != nil {
			t.Fatalf("output for %q does not parse: %v", h, err)
		}
		if _, ok := v["x"]; ok {
			t.Errorf("value %q injected a table", h)
		}
		if got := v["log"].(map[string]any)["level"]; got != h {
			t.Errorf("round trip of %q gave %q", h, got)
		}
		ips := v["entryPoints"].(map[string]any)["http"].(map[string]any)["forwardedHeaders"].(map[string]any)["trustedIPs"].([]any)
		if len(ips) != 2 || ips[0] != h {
			t.Errorf("round trip of %q in a list gave %q", h, ips)
		}
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StaticTemplate), []byte("# mine\n[log]\n  level = {{.LogLevel}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Renderer{Dir: dir}.Render(StaticTemplate, NewStaticData(cfg(t, nil), "test"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "# mine\n[log]\n  level = \"INFO\"\n" {
		t.Errorf("override not used: %q", got)
	}
	// Templates not overridden still come from the built-in set.
	if _, err := (Renderer{Dir: dir}).Render(TLSTemplate, TLSData{}); err != nil {
		t.Errorf("built-in fallback: %v", err)
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"bad syntax", "{{.Nope", "parsing template"},
		{"unknown field", "x = {{.Nope}}", "executing template"},
		{"invalid TOML", "[x\n", "produced invalid TOML"},
		{"pasted value breaks out", "level = \"{{.Version}}\"\n", "produced invalid TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, StaticTemplate)
			if err := os.WriteFile(p, []byte(tt.tmpl), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Renderer{Dir: dir}.Render(StaticTemplate, NewStaticData(cfg(t, nil), "v"))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want %q naming %s", err, tt.want, p)
			}
		})
	}
}

func TestAdminUsersNotInStatic(t *testing.T) {
	c := cfg(t, nil)
	c.AdminUsers = secrets.New("admin:CANARYHASH")
	out, err := Renderer{}.Render(StaticTemplate, NewStaticData(c, "v"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("CANARYHASH")) {
		t.Error("users in traefik.toml")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"\n[x]", "\\u0000", "\x00\x7f", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v struct{ K string }
		if _, err := toml.Decode("K = "+string(String(s)), &v); err != nil {
			t.Fatalf("String(%q) = %s does not parse: %v", s, String(s), err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if v.K != want {
			t.Fatalf("round trip of %q gave %q", s, v.K)
		}
	})
}

// FuzzKnobs feeds arbitrary values to the knobs that reach traefik.toml and
// tls.toml as lists, ports and versions: what the configuration accepts
// renders to TOML that parses, with nothing injected.
func FuzzKnobs(f *testing.F) {
	f.Add("10.0.0.0/8, ::1", "127.0.0.1", "1.2", "8443", "30s")
	f.Add("a\"]\n[x]", "1.2.3.4/33", "VersionTLS13", "0", "-1")
	f.Fuzz(func(t *testing.T, trusted, proxy, minTLS, public, timeout string) {
		env := map[string]string{
			"TRAEFIK_TRUSTED_IPS": trusted, "TRAEFIK_PROXY_PROTOCOL": proxy, "TRAEFIK_HTTPS_MIN_TLS": minTLS,
			"TRAEFIK_HTTPS_PUBLIC_PORT": public, "TRAEFIK_READ_TIMEOUT": timeout, "TRAEFIK_HTTP3_ENABLE": "true",
			"TRAEFIK_COMPRESSION": "true", "TRAEFIK_METRICS_ENABLE": "true",
		}
		c, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			return
		}
		static, err := Renderer{}.Render(StaticTemplate, NewStaticData(c, "v"))
		if err != nil {
			t.Fatalf("traefik.toml: %v", err)
		}
		o := NewTLSOptions(c.HTTPSMinTLS)
		tlsFile, err := Renderer{}.Render(TLSTemplate, TLSData{Options: &o, Fingerprints: String("")})
		if err != nil {
			t.Fatalf("tls.toml: %v", err)
		}
		for _, b := range [][]byte{static, tlsFile} {
			var v map[string]any
			if _, err := toml.Decode(string(b), &v); err != nil {
				t.Fatalf("does not parse: %v\n%s", err, b)
			}
			if _, ok := v["x"]; ok {
				t.Fatalf("a table was injected:\n%s", b)
			}
		}
	})
}
