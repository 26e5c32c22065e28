package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rancher-traefik/internal/acmejson"
	"rancher-traefik/internal/metadataserver"
	"rancher-traefik/internal/secrets"
)

// clusterStack is a global rancher-traefik service on three "hosts"; the
// container at stopped is stopped.
func clusterStack(t *testing.T, stopped string) metadataserver.Answers {
	t.Helper()
	var b strings.Builder
	b.WriteString("stacks:\n  - name: lb\n    services:\n      - name: traefik\n        labels:\n          io.rancher.scheduler.global: \"true\"\n        containers:\n")
	for _, ip := range []string{"127.0.32.1", "127.0.32.2", "127.0.32.3"} {
		b.WriteString("          - ip: " + ip + "\n")
		if ip == stopped {
			b.WriteString("            state: stopped\n")
		}
	}
	a, err := metadataserver.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestACMEClusterRoles: the instance at 127.0.32.2 of a global service
// follows the one created first (127.0.32.1): no resolver in traefik.toml,
// HTTP-01 challenges forwarded to 127.0.32.1. When that one stops, it is
// the issuer: the resolver is rendered, the forwarding removed, and a
// restart asked of the supervisor. TLS-ALPN-01 keeps a resolver on every
// instance, as before cluster mode.
func TestACMEClusterRoles(t *testing.T) {
	srv := metadataserver.New(clusterStack(t, ""), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.API = &metadataserver.APIKeys{Access: "AK", Secret: "SK"}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, l) }()
	home := t.TempDir()
	a, _, _ := testApp(map[string]string{
		"TRAEFIK_HOME": home, "TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_CHALLENGE": "http", "TRAEFIK_HTTP_PORT": "8080",
		"TRAEFIK_RANCHER_METADATA_URL": "http://" + l.Addr().String() + "/2016-07-29", "TRAEFIK_RANCHER_REFRESH": "1",
		"TRAEFIK_RANCHER_ENDPOINT": "http://" + l.Addr().String() + "/v1", "TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK",
	})
	cfg, log, err := a.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	ac := newACMECluster(cfg, log, "test")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.32.2")}}
	ac.meta.HTTP = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ac.first(ctx)
	if _, err := a.prepare(cfg, log, ac.resolver(), nil); err != nil {
		t.Fatal(err)
	}
	if err := ac.writeForward(); err != nil {
		t.Fatal(err)
	}
	static := func() string { b, _ := os.ReadFile(cfg.StaticFile()); return string(b) }
	forward := filepath.Join(cfg.DynamicDir(), forwardFile)
	if strings.Contains(static(), "certificatesResolvers") {
		t.Errorf("a follower's traefik.toml has the resolver:\n%s", static())
	}
	if b, err := os.ReadFile(forward); err != nil || !strings.Contains(string(b), `url = "http://127.0.32.1:8080"`) {
		t.Errorf("forwarding: %v\n%s", err, b)
	}
	// What the first issuer published: the new one renews it.
	old := newChain(t, "old.example.com")
	if _, err := ac.api.PutCertificate(ctx, "acme-old.example.com", "test", old.LeafPEM, old.CAPEM, secrets.New(string(old.KeyPEM))); err != nil {
		t.Fatal(err)
	}
	go func() { _ = ac.run(ctx) }()
	go func() { _ = ac.publishLoop(ctx) }()
	srv.Set(clusterStack(t, "127.0.32.1"))
	select {
	case why := <-ac.restarts:
		if why != "this instance is now the ACME issuer" {
			t.Errorf("restart asked because %q", why)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no restart asked after the issuer stopped")
	}
	if !strings.Contains(static(), "[certificatesResolvers.acme.acme]") {
		t.Errorf("the new issuer's traefik.toml lacks the resolver:\n%s", static())
	}
	// Traefik restarts by a handover: traefik.toml declares the probe's
	// entry point. The routers ask for the resolver once the supervisor
	// says the Traefik with it serves alone, and not before.
	if !strings.Contains(static(), "[entryPoints.rancher-traefik-probe]") {
		t.Errorf("traefik.toml lacks the probe entry point:\n%s", static())
	}
	if ac.live.Load() || !ac.static.Load() {
		t.Errorf("before the restart: live %v, static %v; want false, true", ac.live.Load(), ac.static.Load())
	}
	go func() { _ = ac.followRestarts(ctx) }()
	ac.onRestarted()
	select {
	case ack := <-ac.kick: // the publisher's part
		close(ack)
	case <-time.After(30 * time.Second):
		t.Fatal("the routes were not republished after the restart")
	}
	if !ac.live.Load() {
		t.Error("after the restart the routers still do not ask for the resolver")
	}
	if _, err := os.Stat(forward); !os.IsNotExist(err) {
		t.Errorf("the issuer still forwards challenges: %v", err)
	}
	// The store's certificate is in Traefik's storage (0600, as Traefik
	// requires), for Traefik to renew.
	b, err := os.ReadFile(cfg.ACMEStorage())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg.ACMEStorage()); fi.Mode().Perm() != 0o600 {
		t.Errorf("acme.json has mode %v", fi.Mode().Perm())
	}
	seeded, err := acmejson.Parse(b, "acme")
	if err != nil || len(seeded) != 1 || seeded[0].Main != "old.example.com" || !bytes.HasPrefix(seeded[0].Bundle, old.LeafPEM) {
		t.Errorf("seeded storage: %+v %v", seeded, err)
	}
	// A certificate Traefik obtains is published to the store by name.
	fresh := newChain(t, "new.example.com")
	b, err = acmejson.Merge(b, "acme", []acmejson.Cert{{Main: "new.example.com", Bundle: fresh.Bundle(), Key: fresh.KeyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.ACMEStorage(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc, err := ac.api.CertificateByName(ctx, "acme-new.example.com")
		if err == nil && sc != nil && sc.Cert == string(fresh.LeafPEM) && strings.TrimSpace(sc.CertChain) == strings.TrimSpace(string(fresh.CAPEM)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acme-new.example.com not in the store: %+v %v", sc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// TLS-ALPN-01 cannot be forwarded: auto leaves every resolver in place.
	cfg.ACMEChallenge = "tls"
	ac2 := newACMECluster(cfg, log, "test")
	ac2.meta.HTTP = ac.meta.HTTP
	srv.Set(clusterStack(t, ""))
	ac2.first(ctx)
	if !ac2.resolver() || ac2.role.Cluster {
		t.Errorf("with tls: role %s, resolver %v; want the single-host behaviour", ac2.role, ac2.resolver())
	}
}
