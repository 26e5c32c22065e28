package e2e

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterHosts are the three "hosts" of the loopback cluster: each runs
// rancher-traefik bound to its own address, as a global service's
// containers each have their own primary IP on Rancher's managed network.
var clusterHosts = []string{"127.0.41.1", "127.0.41.2", "127.0.41.3"}

// clusterStack is globalStack on the loopback hosts.
func clusterStack(legacy, modern string, stopped ...string) string {
	return globalStack(clusterHosts, legacy, modern, stopped...)
}

// hostMetadata is the metadata service as the containers of one host reach
// it: a proxy on the host's address whose requests reach the emulator from
// that address. The real metadata server answers /self by the source
// address of the request; so does the emulator.
func hostMetadata(t *testing.T, host, emulator string) string {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(host)}, Timeout: 5 * time.Second}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: emulator})
	rp.Transport = &http.Transport{DialContext: d.DialContext}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String() + "/2016-07-29"
}

// clusterInstance is one host's rancher-traefik: the same http and https
// ports as the others on its own address (Pebble validates one port),
// cluster-wide ACME with HTTP-01, the API for routes and the certificate
// store, its own view of the metadata.
func clusterInstance(t *testing.T, host string, httpPort, httpsPort int, m *emulator, p *pebbleCA) *instance {
	t.Helper()
	i := newInstance(t, map[string]string{
		"TRAEFIK_BIND_ADDRESS":         host,
		"TRAEFIK_HTTP_PORT":            strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT":           strconv.Itoa(httpsPort),
		"TRAEFIK_RANCHER_MODE":         "api",
		"TRAEFIK_RANCHER_ENDPOINT":     "http://" + m.addr + "/v1",
		"TRAEFIK_RANCHER_ACCESSKEY":    "rancher-access",
		"TRAEFIK_RANCHER_SECRET":       "rancher-secret",
		"TRAEFIK_RANCHER_METADATA_URL": hostMetadata(t, host, m.addr),
		"TRAEFIK_RANCHER_CERTIFICATES": "all",
		"TRAEFIK_RANCHER_REFRESH":      "2",
		"TRAEFIK_ACME_ENABLE":          "true",
		"TRAEFIK_ACME_CHALLENGE":       "http",
		"TRAEFIK_ACME_EMAIL":           "ops@example.com",
		"TRAEFIK_ACME_CASERVER":        p.DirURL,
		"LEGO_CA_CERTIFICATES":         p.CAFile,
		"TRAEFIK_CHILD_ENV":            "LEGO_CA_CERTIFICATES",
	})
	i.httpPort, i.httpsPort = httpPort, httpsPort
	i.writeSecret("rancher-access", []byte("AKCLUSTER\n"))
	i.writeSecret("rancher-secret", []byte("SKCLUSTERSECRET\n"))
	return i
}

// hostReady waits until the instance's Traefik answers its ping.
func hostReady(t *testing.T, i *instance, host string) {
	t.Helper()
	eventually(t, 60*time.Second, "Traefik on "+host+" answers its ping", func() error {
		select {
		case <-i.done:
			t.Fatalf("rancher-traefik on %s exited (%d):\n%s", host, i.exitCode, i.stderr.String())
		default:
		}
		code, _, err := get(plainClient(), fmt.Sprintf("http://%s:%d/ping", host, i.admin), nil)
		if err != nil || code != 200 {
			return fmt.Errorf("%d %v", code, err)
		}
		return nil
	})
}

// TestACMEClusterLoopback: three rancher-traefik instances of one global
// service, each on its own loopback address with its own view of the
// metadata, against a real ACME CA (Pebble) whose DNS (pebble-challtestsrv)
// answers every name with the three hosts, a follower first. The instance
// created first is the issuer: it alone orders — one order per
// certificate, though every HTTP-01 validation lands on a follower, which
// forwards it — and publishes to Rancher's store, from which all three
// serve the same certificate. The issuer stopped, the next one becomes
// issuer, renews both certificates (Pebble's are valid 29 days, inside
// Traefik's 30-day renewal window) and publishes them; every survivor
// serves the renewed ones. Neither survivor fails an HTTPS request
// meanwhile — the follower that keeps its role, nor the one that becomes
// issuer, whose Traefik restarts by a handover (README "Several hosts") —
// and no instance logs a nonexistent certificate resolver.
func TestACMEClusterLoopback(t *testing.T) {
	pebbleBinaries(t)
	legacy := backend(t, "127.0.41.11", "legacy", 0)
	modern := backend(t, "127.0.41.12", "modern", 0)
	dir := t.TempDir()
	m := &emulator{t: t, file: filepath.Join(dir, "stack.yml"), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	m.write(clusterStack(legacy, modern))
	m.startWithKeys("AKCLUSTER:SKCLUSTERSECRET")
	t.Cleanup(m.stop)
	httpPort, httpsPort := freePort(t), freePort(t)
	p := startPebble(t, pebbleOptions{Host: "127.0.0.1", HTTPPort: httpPort, TLSPort: httpsPort, DefaultIPv4: clusterHosts[0], ValiditySeconds: 29 * 24 * 3600})
	names := []string{"legacy.example.com", "modern.example.com"}
	p.setA(names[0], clusterHosts[1], clusterHosts[0], clusterHosts[2])
	p.setA(names[1], clusterHosts[2], clusterHosts[0], clusterHosts[1])

	var insts []*instance
	for _, h := range clusterHosts {
		i := clusterInstance(t, h, httpPort, httpsPort, m, p)
		i.start("run")
		insts = append(insts, i)
	}
	for n, h := range clusterHosts {
		hostReady(t, insts[n], h)
	}
	insts[0].waitLog(0, `msg="ACME role" component=acme-cluster role=issuer`, 10*time.Second)
	for _, i := range insts[1:] {
		i.waitLog(0, `msg="ACME role" component=acme-cluster role="follower of lb-traefik-1 (127.0.41.1)"`, 10*time.Second)
	}

	first := waitSameCertificate(t, p, clusterHosts, httpsPort, names, nil)
	if n := p.orders(); n != 2 {
		t.Errorf("Pebble took %d orders, want 2 (one per certificate)", n)
	}
	// Each name's validations went to a follower (first in its DNS answer),
	// which forwarded them: its access log shows the forwarding router.
	for n, i := range insts[1:] {
		if !strings.Contains(i.stdout.String(), "rancher-traefik-acme-challenge@file") {
			t.Errorf("%s forwarded no challenge to the issuer", clusterHosts[n+1])
		}
	}
	if strings.Contains(insts[0].stdout.String(), "rancher-traefik-acme-challenge@file") {
		t.Errorf("the issuer forwarded a challenge")
	}

	root, _ := p.issuers()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	survivors := clusterHosts[1:]
	l := startHTTPSLoad(survivors, httpsPort, roots, names[0])
	mark := len(insts[1].stderr.String())
	insts[0].signal(syscall.SIGTERM)
	insts[0].wait(30 * time.Second)
	m.write(clusterStack(legacy, modern, clusterHosts[0]))
	insts[1].waitLog(mark, `msg="ACME role changed" component=acme-cluster from="follower of lb-traefik-1 (127.0.41.1)" to=issuer`, 30*time.Second)
	renewed := waitSameCertificate(t, p, survivors, httpsPort, names, first)
	hostReady(t, insts[1], clusterHosts[1])
	l.end()
	if n := p.orders(); n != 4 {
		t.Errorf("Pebble took %d orders in all, want 4 (one per certificate, then one per renewal)", n)
	}
	insts[2].waitLog(0, `to="follower of lb-traefik-2 (127.0.41.2)"`, 10*time.Second)
	for _, h := range survivors {
		e, _ := l.lastErr.Load(h)
		t.Logf("HTTPS requests to %s during the change of issuer: %d answered, %d failed %v (last error %v; at %v)", h, l.ok[h].Load(), l.fail[h].Load(), l.kinds[h], e, l.times[h])
	}
	// Every survivor, the new issuer included, fails no request: its
	// Traefik's restart is a handover (README "Several hosts"). The kinds
	// say which phase of a restart went wrong if one does.
	for _, h := range survivors {
		if f := l.fail[h].Load(); f != 0 || l.ok[h].Load() == 0 {
			t.Errorf("%s failed %d HTTPS requests (%d answered) while the issuer changed, want 0: %v", h, f, l.ok[h].Load(), l.kinds[h])
		}
	}
	if !strings.Contains(insts[1].stderr.String(), `msg="traefik handed over`) {
		t.Errorf("the new issuer %s restarted its Traefik without a handover:\n%s", clusterHosts[1], insts[1].stderr.String())
	}
	// A follower's routers do not ask for the resolver its Traefik lacks
	// (Traefik would log it for each router at every apply), nor does the
	// new issuer's before its Traefik with the resolver serves.
	for n, i := range insts {
		for _, out := range []string{i.stdout.String(), i.stderr.String()} {
			if strings.Contains(out, "nonexistent certificate resolver") {
				t.Errorf("%s logged a nonexistent certificate resolver", clusterHosts[n])
			}
		}
	}
	t.Logf("certificates %v renewed as %v", first, renewed)
}
