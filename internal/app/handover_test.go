package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSocketHolder: the sockets held are traefik.toml's entry points by
// name — https twice with HTTP/3 (TCP and UDP), the extra ones with their
// protocol — and none are held outside cluster ACME, or when traefik.toml
// (a template override) lacks one of them.
func TestSocketHolder(t *testing.T) {
	cluster := map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "http", "TRAEFIK_ACME_EMAIL": "ops@example.com"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range cluster {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		edit   func(string) string
		want   []string // names, or nil: no holder
		probes bool     // the probe router file written
	}{
		{"cluster ACME", cluster, nil, []string{"http/tcp", "https/tcp", "traefik/tcp", "rancher-traefik-probe"}, true},
		{"HTTP/3 and extra entry points", with(map[string]string{"TRAEFIK_HTTP3_ENABLE": "true", "TRAEFIK_ENTRYPOINTS": "pg:5432/tcp,dns:5353/udp"}),
			nil, []string{"http/tcp", "https/tcp", "https/udp", "traefik/tcp", "pg/tcp", "dns/udp", "rancher-traefik-probe"}, true},
		{"ACME off", map[string]string{}, nil, nil, false},
		{"cluster off", with(map[string]string{"TRAEFIK_ACME_CLUSTER": "off"}), nil, nil, false},
		{"an override without the probe", cluster, func(s string) string { return strings.ReplaceAll(s, "[entryPoints.rancher-traefik-probe]", "") }, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TRAEFIK_HOME": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			a, _, _ := testApp(env)
			cfg, _, err := a.LoadConfig()
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			if _, err := a.prepare(cfg, log, true, nil); err != nil {
				t.Fatal(err)
			}
			if err := writeProbe(cfg); err != nil {
				t.Fatal(err)
			}
			static := string(readStatic(cfg))
			if tc.edit != nil {
				static = tc.edit(static)
			}
			h := socketHolder(cfg, []byte(static), log)
			var got []string
			if h != nil {
				for _, s := range h.Specs() {
					got = append(got, s.Name+"/"+s.Network)
				}
				got = append(got, "rancher-traefik-probe")
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("held %v, want %v", got, tc.want)
			}
			_, err = os.Stat(filepath.Join(cfg.DynamicDir(), probeFile))
			if (err == nil) != tc.probes {
				t.Errorf("probe router file: %v, want written %v", err, tc.probes)
			}
		})
	}
}

// TestHandoverChallengeDelay: with handovers, the issuer's HTTP-01
// challenge waits handoverChallengeDelay before the CA validates (a new
// issuer's renewals at start would otherwise be validated against the
// previous Traefik); not for TLS-ALPN or DNS-01, nor without handovers,
// nor on a follower, which has no resolver.
func TestHandoverChallengeDelay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		resolver bool
		want     bool
	}{
		{"issuer, HTTP-01", map[string]string{"TRAEFIK_ACME_CHALLENGE": "http"}, true, true},
		{"follower", map[string]string{"TRAEFIK_ACME_CHALLENGE": "http"}, false, false},
		{"TLS-ALPN-01", map[string]string{"TRAEFIK_ACME_CHALLENGE": "tls", "TRAEFIK_ACME_CLUSTER": "auto"}, true, false},
		{"cluster off", map[string]string{"TRAEFIK_ACME_CHALLENGE": "http", "TRAEFIK_ACME_CLUSTER": "off"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TRAEFIK_HOME": t.TempDir(), "TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_EMAIL": "ops@example.com"}
			for k, v := range tc.env {
				env[k] = v
			}
			a, _, _ := testApp(env)
			cfg, _, err := a.LoadConfig()
			if err != nil {
				t.Fatal(err)
			}
			b, err := renderStatic(cfg, "test", tc.resolver, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Contains(string(b), `delay = "`+handoverChallengeDelay.String()+`"`)
			if got != tc.want {
				t.Errorf("httpChallenge delay present %v, want %v:\n%s", got, tc.want, b)
			}
		})
	}
}
