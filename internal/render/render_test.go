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
		{"admin-auth.toml", map[string]string{"TRAEFIK_ADMIN_AUTH_USERS": "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"}},
		{"admin-off.toml", map[string]string{"TRAEFIK_ADMIN_ENABLE": "false"}},
		{"dashboard-off.toml", map[string]string{"TRAEFIK_ADMIN_DASHBOARD": "false"}},
		{"retry-off.toml", map[string]string{"TRAEFIK_RETRY_ATTEMPTS": "1"}},
		{"custom-ports.toml", map[string]string{"TRAEFIK_HTTP_PORT": "8080", "TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_ADMIN_PORT": "9000", "TRAEFIK_BIND_ADDRESS": "127.0.0.1", "TRAEFIK_HOME": "/srv/traefik", "TRAEFIK_GRACE_TIMEOUT": "3s", "TRAEFIK_LOG_FORMAT": "json", "TRAEFIK_ACCESS_LOG": "false", "TRAEFIK_DEBUG": "true"}},
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

func TestTLSAndAdminGolden(t *testing.T) {
	main := NewCertFiles("/opt/traefik/certs/traefik.crt", "/opt/traefik/certs/traefik.key")
	got, err := Renderer{}.Render(TLSTemplate, TLSData{
		Certificates: []CertFiles{main, NewCertFiles("/opt/traefik/certs/other.crt", "/opt/traefik/certs/other.key")},
		Default:      &main,
		Fingerprints: String("0a1b 2c3d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tls.toml", got)
	got, err = Renderer{}.Render(AdminTemplate, AdminData{UsersFile: String("/opt/traefik/etc/admin-users")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "admin.toml", got)
	got, err = Renderer{}.Render(RetryTemplate, NewRetryData(3))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "retry.toml", got)
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
