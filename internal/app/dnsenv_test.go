package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rancher-traefik/internal/config"
)

func TestDNSCredentials(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cf-token"), []byte("TOKEN-FROM-ALIAS\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("KEY-FROM-FILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "dns", "TRAEFIK_ACME_DNS_PROVIDER": "cloudflare", "TRAEFIK_SECRETS_DIR": dir}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		want     []string
		problems string
	}{
		{"alias, file and value", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN, CF_ZONE_API_TOKEN_X,PLAIN",
			"CF_DNS_API_TOKEN": "cf-token", "CF_ZONE_API_TOKEN_X_FILE": file, "PLAIN": "plain-value"},
			[]string{"CF_DNS_API_TOKEN=TOKEN-FROM-ALIAS", "CF_ZONE_API_TOKEN_X=KEY-FROM-FILE", "PLAIN=plain-value"}, ""},
		{"unset", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN"}, nil,
			"TRAEFIK_ACME_DNS_CREDENTIALS: CF_DNS_API_TOKEN is not set (nor CF_DNS_API_TOKEN_FILE)"},
		{"file missing", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN", "CF_DNS_API_TOKEN_FILE": "/nonexistent/token"}, nil,
			"TRAEFIK_ACME_DNS_CREDENTIALS: CF_DNS_API_TOKEN_FILE"},
		{"both set", map[string]string{"TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN", "CF_DNS_API_TOKEN": "SECRET-VALUE", "CF_DNS_API_TOKEN_FILE": file}, nil,
			"CF_DNS_API_TOKEN"},
		{"http challenge: nothing passed", map[string]string{"TRAEFIK_ACME_CHALLENGE": "http", "TRAEFIK_ACME_DNS_CREDENTIALS": "CF_DNS_API_TOKEN"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := config.FromEnv(lookup)
			if err != nil {
				t.Fatal(err)
			}
			got, problems := dnsCredentials(cfg, lookup)
			var ps []string
			for _, p := range problems {
				ps = append(ps, p.String())
			}
			if !slices.Equal(got, tc.want) || !strings.Contains(strings.Join(ps, "\n"), tc.problems) || (tc.problems == "") != (len(ps) == 0) {
				t.Errorf("got %q, problems %q; want %q, problems containing %q", got, ps, tc.want, tc.problems)
			}
			for _, p := range ps {
				if strings.Contains(p, "SECRET-VALUE") || strings.Contains(p, "KEY-FROM-FILE") {
					t.Errorf("a problem shows a value: %s", p)
				}
			}
		})
	}
}
