package app

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/config"
	"rancher-traefik/internal/testcert"
)

func TestChildEnv(t *testing.T) {
	parent := map[string]string{
		"PATH": "/bin", "HOME": "/root", "TZ": "Europe/Paris",
		"TRAEFIK_RANCHER_SECRET": "s", "CATTLE_SECRET_KEY": "k", "TRAEFIK_HTTP_PORT": "80",
		"AWS_REGION": "eu-west-1", "OTHER": "x",
	}
	lookup := func(k string) (string, bool) { v, ok := parent[k]; return v, ok }
	got := childEnv(lookup, []string{"AWS_REGION", "MISSING"})
	want := []string{"PATH=/bin", "HOME=/root", "TZ=Europe/Paris", "AWS_REGION=eu-west-1"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("childEnv (-got +want):\n%s", diff)
	}
	got = childEnv(func(string) (string, bool) { return "", false }, nil)
	if diff := cmp.Diff(got, []string{"PATH=" + defaultPath}); diff != "" {
		t.Errorf("childEnv without PATH (-got +want):\n%s", diff)
	}
}

// BenchmarkPrepare measures reading the environment, checking the
// certificate and rendering every file (the files are unchanged after the
// first iteration, as on a restart).
func BenchmarkPrepare(b *testing.B) {
	dir := b.TempDir()
	c, err := testcert.New(testcert.Options{Hosts: []string{"bench.example.com"}, RSA: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert"), c.Bundle(), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), c.KeyPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	envm := map[string]string{"TRAEFIK_HOME": filepath.Join(dir, "home"), "TRAEFIK_SECRETS_DIR": dir, "TRAEFIK_SSL_CERT": "cert", "TRAEFIK_SSL_PRIVATE_KEY": "key", "TRAEFIK_ADMIN_AUTH_USERS": "admin:{SHA}x"}
	a := &App{Lookup: func(k string) (string, bool) { v, ok := envm[k]; return v, ok }, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Version: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		cfg, log, err := a.LoadConfig()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Prepare(cfg, log); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPortsInUse: a taken entry point port is named with its variable; the
// REST entry point's (chosen free at start, TRAEFIK_ROUTES_DELIVERY=rest)
// is checked on 127.0.0.1 and named as that; free ports say nothing.
func TestPortsInUse(t *testing.T) {
	hold := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l.Addr().(*net.TCPAddr).Port
	}
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	taken := hold()
	tests := []struct {
		name       string
		http, rest int
		want       []string
	}{
		{"all free", free(), 0, nil},
		{"http taken", taken, 0, []string{fmt.Sprintf("port %d (TRAEFIK_HTTP_PORT) is already in use", taken)}},
		{"rest taken", free(), taken, []string{fmt.Sprintf("port %d (the REST entry point of TRAEFIK_ROUTES_DELIVERY=rest", taken)}},
	}
	for _, tt := range tests {
		cfg := &config.Config{BindAddress: "127.0.0.1", HTTPPort: tt.http, AdminPort: free()}
		got := portsInUse(cfg, tt.rest)
		if len(tt.want) == 0 && got != "" {
			t.Errorf("%s: %q, want nothing", tt.name, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q, want it to say %q", tt.name, got, w)
			}
		}
	}
}
