package config

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/secrets"
)

// TestTableOrderMeansNothing reads environments whose variables depend on
// one another (TRAEFIK_DEBUG on TRAEFIK_LOG_LEVEL, the CATTLE_* fallbacks on
// the TRAEFIK_RANCHER_* variables, secret aliases on TRAEFIK_SECRETS_DIR, a
// Check on its variable) with the rows of Vars in other orders: the Config
// and the problems are the same, only the problems' order follows the rows'.
func TestTableOrderMeansNothing(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"cert": "CERT", "key": "KEY", "ak": "AK-FILE\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	envs := map[string]map[string]string{
		"defaults":                     nil,
		"debug raises the level":       {"TRAEFIK_DEBUG": "true", "TRAEFIK_LOG_LEVEL": "error"},
		"debug does not lower TRACE":   {"TRAEFIK_DEBUG": "yes", "TRAEFIK_LOG_LEVEL": "trace"},
		"debug with a bad level":       {"TRAEFIK_DEBUG": "1", "TRAEFIK_LOG_LEVEL": "loud"},
		"bad debug":                    {"TRAEFIK_DEBUG": "perhaps", "TRAEFIK_LOG_LEVEL": "warning"},
		"debug off":                    {"TRAEFIK_DEBUG": "false", "TRAEFIK_LOG_LEVEL": "warn"},
		"cattle fallbacks":             {"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AK\n", "CATTLE_SECRET_KEY": "SK"},
		"ours win over cattle":         {"TRAEFIK_RANCHER_ENDPOINT": "http://a/v1", "CATTLE_URL": "http://b/v1", "TRAEFIK_RANCHER_ACCESSKEY": "A1", "TRAEFIK_RANCHER_SECRET": "S1", "CATTLE_ACCESS_KEY": "A2", "CATTLE_SECRET_KEY": "S2"},
		"a bad CATTLE_URL unused":      {"TRAEFIK_RANCHER_ENDPOINT": "http://a/v1", "CATTLE_URL": "rancher:8080"},
		"a bad CATTLE_URL used":        {"CATTLE_URL": "rancher:8080", "TRAEFIK_HTTP_PORT": "x", "TRAEFIK_RANCHER_REFRESH": "0"},
		"a bad endpoint, cattle's":     {"TRAEFIK_RANCHER_ENDPOINT": "rancher", "CATTLE_URL": "http://b/v1"},
		"one key ours, one cattle's":   {"TRAEFIK_RANCHER_ACCESSKEY": "A1", "CATTLE_SECRET_KEY": "S2", "TRAEFIK_RANCHER_MODE": "api", "CATTLE_URL": "http://b/v1"},
		"our key unreadable":           {"TRAEFIK_RANCHER_ACCESSKEY": "A1", "TRAEFIK_RANCHER_ACCESSKEY_FILE": "/nonexistent", "CATTLE_ACCESS_KEY": "A2", "CATTLE_SECRET_KEY": "S2"},
		"secrets from the secrets dir": {"TRAEFIK_SECRETS_DIR": dir, "TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key", "CATTLE_ACCESS_KEY": "ak", "CATTLE_SECRET_KEY": "SK"},
		"checked constraints":          {"TRAEFIK_RANCHER_CONSTRAINTS": "tag=api", "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_HTTP3_ENABLE": "true"},
		"everything with a default":    {"TRAEFIK_HTTPS_PORT": "8443", "TRAEFIK_HTTPS_PUBLIC_PORT": "443", "TRAEFIK_ADMIN_AUTH_USERS": "a:b", "TRAEFIK_CHILD_ENV": "A B"},
	}
	checks := []Check{{Var: "TRAEFIK_RANCHER_CONSTRAINTS", Check: func(v string) error {
		if strings.Contains(v, "=") && !strings.Contains(v, "==") {
			return errors.New("not tag==NAME")
		}
		return nil
	}}}
	orders := map[string][]Var{"reversed": slices.Clone(Vars)}
	slices.Reverse(orders["reversed"])
	for seed := range uint64(5) {
		vars := slices.Clone(Vars)
		rand.New(rand.NewPCG(seed, seed)).Shuffle(len(vars), func(i, j int) { vars[i], vars[j] = vars[j], vars[i] })
		orders["shuffled "+string(rune('0'+seed))] = vars
	}
	same := cmp.Options{cmp.AllowUnexported(Config{}), cmp.AllowUnexported(inputs{}),
		cmp.Comparer(func(a, b secrets.Secret) bool { return a.Reveal() == b.Reveal() })}
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			want, wantErr := FromEnv(lookupOf(env), checks...)
			for order, vars := range orders {
				got, err := fromEnv(vars, lookupOf(env), checks)
				if diff := cmp.Diff(got, want, same); diff != "" {
					t.Errorf("%s: Config (-got +want):\n%s", order, diff)
				}
				if diff := cmp.Diff(problemSet(err), problemSet(wantErr)); diff != "" {
					t.Errorf("%s: problems (-got +want):\n%s", order, diff)
				}
			}
		})
	}
}

func problemSet(err error) []string {
	if err == nil {
		return nil
	}
	lines := strings.Split(err.Error(), "\n")
	slices.Sort(lines)
	return lines
}
