package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rancher-traefik/internal/app"
	"rancher-traefik/internal/config"
	"rancher-traefik/internal/testcert"
)

// TestEnvEffective: the value in force and its source for every variable;
// a secret's value never appears, whether given as a value, a file, a
// NAME_FILE or a Rancher secret, nor the credentials of a URL.
func TestEnvEffective(t *testing.T) {
	dir := t.TempDir()
	chain, err := testcert.New(testcert.Options{Hosts: []string{"a.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	for name, b := range map[string][]byte{keyFile: chain.KeyPEM, filepath.Join(dir, "ak"): []byte("AKSECRETALIAS\n"), filepath.Join(dir, "users"): []byte("admin:$apr1$SECRETHASH\n")} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{
		"TRAEFIK_SECRETS_DIR":           dir,
		"TRAEFIK_HTTP_PORT":             "8080",
		"TRAEFIK_SSL_CERT":              string(chain.Bundle()), // PEM text as the value
		"TRAEFIK_SSL_PRIVATE_KEY_FILE":  keyFile,
		"TRAEFIK_RANCHER_ACCESSKEY":     "ak", // a Rancher secret alias
		"TRAEFIK_RANCHER_SECRET":        "SKSECRETLITERAL",
		"TRAEFIK_ADMIN_AUTH_USERS":      filepath.Join(dir, "users"),
		"TRAEFIK_RANCHER_METADATA_URL":  "http://USRSECRET:PWSECRET@rancher-metadata/2016-07-29",
		"TRAEFIK_RANCHER_REFRESH":       "999",
		"CATTLE_URL":                    "http://rancher:8080/v1",
		"TRAEFIK_UNKNOWN_IS_NOT_LISTED": "x",
	}
	code, out, errb := execute(t, vars, "env", "--effective")
	if code != app.ExitOK {
		t.Fatalf("env --effective: %d %s", code, errb)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := regexp.MustCompile(`\s{2,}`).Split(l, 3)
		for len(f) < 3 { // an empty value column
			f = append(f[:1], append([]string{""}, f[1:]...)...)
		}
		rows[f[0]] = f[1] + " | " + f[2]
	}
	for name, want := range map[string]string{
		"TRAEFIK_HTTP_PORT":            "8080 | environment",
		"TRAEFIK_HTTPS_PORT":           "443 | default",
		"TRAEFIK_HTTPS_PUBLIC_PORT":    "443 | TRAEFIK_HTTPS_PORT",
		"TRAEFIK_BIND_ADDRESS":         " | unset",
		"TRAEFIK_SSL_CERT":             "[redacted] | environment",
		"TRAEFIK_SSL_PRIVATE_KEY":      "[redacted] | file " + keyFile + " (TRAEFIK_SSL_PRIVATE_KEY_FILE)",
		"TRAEFIK_RANCHER_ACCESSKEY":    "[redacted] | Rancher secret " + filepath.Join(dir, "ak"),
		"TRAEFIK_RANCHER_SECRET":       "[redacted] | environment",
		"TRAEFIK_ADMIN_AUTH_USERS":     "[redacted] | file " + filepath.Join(dir, "users"),
		"TRAEFIK_RANCHER_METADATA_URL": "http://[redacted]@rancher-metadata/2016-07-29 | environment (invalid: TRAEFIK_RANCHER_METADATA_URL: the URL holds credentials (user:password@): remove them; the API key has variables of its own)",
		"TRAEFIK_RANCHER_REFRESH":      `999 | environment (invalid: TRAEFIK_RANCHER_REFRESH: "999" is not a number of seconds from 1 to 120)`,
		"TRAEFIK_RANCHER_ENDPOINT":     "http://rancher:8080/v1 | CATTLE_URL",
	} {
		if rows[name] != want {
			t.Errorf("%s: %q, want %q", name, rows[name], want)
		}
	}
	if len(rows) != len(config.Vars) {
		t.Errorf("%d rows for %d variables", len(rows), len(config.Vars))
	}
	for _, s := range []string{"BEGIN", "AKSECRETALIAS", "SKSECRETLITERAL", "SECRETHASH", "PWSECRET", "USRSECRET"} {
		if strings.Contains(out+errb, s) {
			t.Errorf("env --effective shows %q:\n%s", s, out)
		}
	}
	if code, _, _ := execute(t, vars, "env", "--effective", "--markdown"); code != app.ExitUsage {
		t.Errorf("env --effective --markdown: exit %d, want %d", code, app.ExitUsage)
	}
}
