package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/certs"
)

// clusterHosts are the three "hosts" of the loopback cluster: each runs
// rancher-traefik bound to its own address, as a global service's
// containers each have their own primary IP on Rancher's managed network.
var clusterHosts = []string{"127.0.41.1", "127.0.41.2", "127.0.41.3"}

// clusterStack is acmeStack's two services plus rancher-traefik's own
// global service, one container a host (create_index 1, 2, 3 in host
// order); the containers at the addresses in stopped are stopped.
func clusterStack(legacy, modern string, stopped ...string) string {
	var b strings.Builder
	b.WriteString(acmeStack(legacy, modern))
	b.WriteString("  - name: lb\n    services:\n      - name: traefik\n        labels:\n          traefik.enable: \"false\"\n          io.rancher.scheduler.global: \"true\"\n        containers:\n")
	for _, h := range clusterHosts {
		b.WriteString("          - ip: " + h + "\n")
		for _, s := range stopped {
			if s == h {
				b.WriteString("            state: stopped\n")
			}
		}
	}
	return b.String()
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

// servedLeaf is the leaf host serves for name on port.
func servedLeaf(host string, port int, name string) (*x509.Certificate, []*x509.Certificate, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", net.JoinHostPort(host, strconv.Itoa(port)), &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	chain := c.ConnectionState().PeerCertificates
	return chain[0], chain, nil
}

// waitSameCertificate waits until every host serves, for each name, one
// certificate Pebble issued, the same on all, other than not (the
// fingerprints of an earlier one), and returns the fingerprints by name.
func waitSameCertificate(t *testing.T, p *pebbleCA, hosts []string, port int, names []string, not map[string]string) map[string]string {
	t.Helper()
	got := map[string]string{}
	eventually(t, 150*time.Second, fmt.Sprintf("one certificate from Pebble for %v served by %v", names, hosts), func() error {
		for _, name := range names {
			fps := map[string]bool{}
			for _, h := range hosts {
				leaf, chain, err := servedLeaf(h, port, name)
				if err != nil {
					return fmt.Errorf("%s %s: %w", h, name, err)
				}
				if err := p.issued(chain, name); err != nil {
					return fmt.Errorf("%s: %w", h, err)
				}
				fps[certs.Fingerprint(leaf)] = true
				got[name] = certs.Fingerprint(leaf)
			}
			if len(fps) != 1 {
				return fmt.Errorf("%s: %d different certificates across the hosts", name, len(fps))
			}
			if got[name] == not[name] {
				return fmt.Errorf("%s: still the certificate %.12s", name, not[name])
			}
		}
		return nil
	})
	return got
}

// httpsLoad sends HTTPS requests to each host until stop, trusting Pebble's
// root alone, and counts the failures per host.
type httpsLoad struct {
	wg       sync.WaitGroup
	stop     chan struct{}
	ok, fail map[string]*atomic.Int64
	lastErr  sync.Map
	mu       sync.Mutex
	kinds    map[string]map[string]int // host → failureKind → count
	times    map[string][]string       // host → when each failure happened (the first ones)
}

// The ways a request fails while a host's Traefik restarts without a
// handover, in order (a failure's kind says which phase a handover let
// through): the
// old one has closed its entry points and the new one has not opened them
// (refused); the new one accepts before any configuration is applied —
// Traefik opens its entry points first — and closes the connection
// (closed); a configuration without the file provider's part is applied
// for a moment, so the handshake gets Traefik's generated default
// certificate (default certificate).
const (
	failRefused     = "refused"
	failClosed      = "closed"
	failDefaultCert = "default certificate"
)

// failureKind names how one request failed.
func failureKind(code int, err error) string {
	var cv *tls.CertificateVerificationError
	switch {
	case err == nil:
		return "HTTP " + strconv.Itoa(code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return failRefused
	case errors.As(err, &cv):
		// Traefik's generated certificate names <hex>.<hex>.traefik.default.
		if len(cv.UnverifiedCertificates) > 0 && strings.HasSuffix(strings.Join(cv.UnverifiedCertificates[0].DNSNames, ","), ".traefik.default") {
			return failDefaultCert
		}
		return "certificate: " + cv.Err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return failClosed
	default:
		return "other: " + err.Error()
	}
}

func startHTTPSLoad(hosts []string, port int, roots *x509.CertPool, name string) *httpsLoad {
	l := &httpsLoad{stop: make(chan struct{}), ok: map[string]*atomic.Int64{}, fail: map[string]*atomic.Int64{}, kinds: map[string]map[string]int{}, times: map[string][]string{}}
	for _, h := range hosts {
		l.ok[h], l.fail[h] = &atomic.Int64{}, &atomic.Int64{}
		l.kinds[h] = map[string]int{}
		d := &net.Dialer{Timeout: 5 * time.Second}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, net.JoinHostPort(h, strconv.Itoa(port)))
			},
		}}
		for range httpsLoadWorkers {
			l.wg.Add(1)
			go l.run(c, h, name)
		}
	}
	return l
}

// httpsLoadWorkers is the number of clients per host, each requesting
// without pause on a new connection: several connections are in flight at
// any moment, as the handover's switch and drain meet them.
const httpsLoadWorkers = 4

// run requests name from host h through c until the load ends.
func (l *httpsLoad) run(c *http.Client, h, name string) {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		code, _, err := get(c, "https://"+name+"/", nil)
		if err != nil || code != 200 {
			l.fail[h].Add(1)
			l.lastErr.Store(h, fmt.Sprintf("%d %v", code, err))
			l.mu.Lock()
			l.kinds[h][failureKind(code, err)]++
			if len(l.times[h]) < 10 {
				l.times[h] = append(l.times[h], time.Now().UTC().Format("15:04:05.000"))
			}
			l.mu.Unlock()
		} else {
			l.ok[h].Add(1)
		}
	}
}

func (l *httpsLoad) end() { close(l.stop); l.wg.Wait() }

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
