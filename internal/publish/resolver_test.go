package publish

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/rancher"
	"rancher-traefik/internal/routes"
)

// TestResolverFollowsKick: routers that ask for the acme resolver (a v1 and
// a v2 label) lose tls.certResolver while Resolver says the running
// Traefik has none, and get it back — without a change in Rancher — once
// it says so and a kick is acknowledged; TLS stays on throughout.
func TestResolverFollowsKick(t *testing.T) {
	const answers = `stacks:
  - name: s
    services:
      - name: old
        labels: {traefik.enable: "true", traefik.port: "80", traefik.acme: "true", traefik.frontend.rule: "Host:old.example.com"}
        containers:
          - ip: 10.0.0.1
      - name: new
        labels: {traefik.enable: "true", traefik.http.routers.new.rule: "Host(` + "`new.example.com`" + `)", traefik.http.routers.new.tls.certresolver: acme, traefik.http.services.new.loadbalancer.server.port: "80"}
        containers:
          - ip: 10.0.0.2
`
	a, err := metadataserver.Parse([]byte(answers))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(metadataserver.New(a, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(ts.Close)
	var has atomic.Bool
	p := &Publisher{
		Source: &rancher.Client{Base: ts.URL + "/2016-07-29"}, Options: routes.Options{Domain: "example.com", HTTPS: true, ACME: true},
		Path: filepath.Join(t.TempDir(), "rancher.toml"), Refresh: 30, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Resolver: has.Load, Kick: make(chan chan struct{}),
	}
	count := func() (resolvers, tls int) {
		b, err := os.ReadFile(p.Path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), `certResolver = "acme"`), strings.Count(string(b), ".tls]")
	}
	run(t, p)
	wait(t, "the first publish", func() bool { _, err := os.Stat(p.Path); return err == nil })
	if r, tl := count(); r != 0 || tl != 2 {
		t.Fatalf("without the resolver: %d certResolver, %d TLS sections; want 0 and 2", r, tl)
	}
	for _, want := range []bool{true, false} {
		has.Store(want)
		ack := make(chan struct{})
		p.Kick <- ack
		select {
		case <-ack:
		case <-time.After(15 * time.Second):
			t.Fatal("the kick was not acknowledged")
		}
		r, tl := count()
		if (r == 2) != want || tl != 2 {
			t.Errorf("resolver %v: %d certResolver, %d TLS sections", want, r, tl)
		}
	}
}
