package app

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"rancher-traefik/internal/routes"
	"rancher-traefik/internal/secrets"
)

// TestRoutesOptions: each setting that shapes routes lands in its option;
// redirects name the public HTTPS port.
func TestRoutesOptions(t *testing.T) {
	home := t.TempDir()
	cfg, err := readConfig(func(k string) (string, bool) {
		v, ok := map[string]string{
			"TRAEFIK_HOME": home, "TRAEFIK_RANCHER_DOMAIN": "Example.com", "TRAEFIK_RANCHER_EXPOSED": "true",
			"TRAEFIK_RANCHER_HEALTHCHECK": "true", "TRAEFIK_RANCHER_SYSTEM": "true", "TRAEFIK_RANCHER_CONSTRAINTS": "tag==api tag!=internal",
			"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_HTTPS_PUBLIC_PORT": "443",
			"TRAEFIK_RANCHER_DEFAULT_RULE": "Host(`{{ normalize .Name }}.{{ .Domain }}`)", "TRAEFIK_ENTRYPOINTS": "pg:5432,dns:53/udp",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := routesOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := routes.Options{
		Domain: "example.com", ExposedByDefault: true, ServiceFilter: true, IncludeSystem: true,
		HTTPS: true, ACME: true, CredentialDir: filepath.Join(home, "etc", "auth"), HTTPSPort: 443,
		EntryPoints: map[string]string{"pg": "tcp", "dns": "udp"},
	}
	if diff := cmp.Diff(got, want, cmpopts.IgnoreTypes(secrets.Secret{}), cmpopts.IgnoreFields(routes.Options{}, "Constraints", "DefaultRule"), cmpopts.IgnoreUnexported(routes.Options{})); diff != "" {
		t.Errorf("options (-got +want):\n%s", diff)
	}
	if got.Constraints.String() != "tag==api tag!=internal" || got.DefaultRule.String() != "Host(`{{ normalize .Name }}.{{ .Domain }}`)" {
		t.Errorf("constraints %q, default rule %q", got.Constraints, got.DefaultRule)
	}
	if len(got.CredentialKey.Reveal()) != 64 {
		t.Error("no credential key")
	}

	// Without a public port, redirects name the https entry point's own.
	cfg.HTTPSPublicPort, cfg.HTTPS = 0, "false"
	if got, err := routesOptions(cfg); err != nil || got.HTTPSPort != 8443 || got.HTTPS {
		t.Errorf("options %+v (%v), want HTTPSPort 8443 and no HTTPS", got, err)
	}
}
