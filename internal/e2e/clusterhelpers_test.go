package e2e

// The parts the cluster tests share (TestACMEClusterLoopback on loopback
// addresses, TestACMEClusterDocker on Docker containers): the stack of a
// global service, the certificate every host serves, and HTTPS load that
// tells failures apart by kind.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rancher-traefik/internal/certs"
)

// globalStack is acmeStack's two services plus rancher-traefik's own
// global service, one container on each of hosts (create_index 1, 2, 3 in
// host order); the containers at the addresses in stopped are stopped.
func globalStack(hosts []string, legacy, modern string, stopped ...string) string {
	var b strings.Builder
	b.WriteString(acmeStack(legacy, modern))
	b.WriteString("  - name: lb\n    services:\n      - name: traefik\n        labels:\n          traefik.enable: \"false\"\n          io.rancher.scheduler.global: \"true\"\n        containers:\n")
	for _, h := range hosts {
		b.WriteString("          - ip: " + h + "\n")
		for _, s := range stopped {
			if s == h {
				b.WriteString("            state: stopped\n")
			}
		}
	}
	return b.String()
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
		var phase atomic.Int32
		start := time.Now()
		code, err := tracedGet(c, "https://"+name+"/", &phase)
		if err != nil || code != 200 {
			l.fail[h].Add(1)
			l.lastErr.Store(h, fmt.Sprintf("%d %v", code, err))
			l.mu.Lock()
			l.kinds[h][failureKind(code, err)]++
			if len(l.times[h]) < 10 {
				now := time.Now()
				l.times[h] = append(l.times[h], fmt.Sprintf("%s (begun %s, %s)", now.UTC().Format("15:04:05.000"),
					now.Sub(start).Round(time.Millisecond), requestPhases[phase.Load()]))
			}
			l.mu.Unlock()
		} else {
			l.ok[h].Add(1)
		}
	}
}

func (l *httpsLoad) end() { close(l.stop); l.wg.Wait() }

// requestPhases name how far a request of the load got when it failed:
// which part of the way a connection was dropped tells which part of a
// handover or of a Traefik's life dropped it.
var requestPhases = []string{"before the connection was made", "connected, TLS handshake not done", "TLS handshake done, request not written", "request written, no answer", "answer begun"}

// tracedGet requests url through c, recording in phase how far the
// request got (an index of requestPhases), and reads the whole answer.
func tracedGet(c *http.Client, url string, phase *atomic.Int32) (int, error) {
	// reached records phase p, or the one before it when the step failed.
	reached := func(p int32, err error) {
		if err != nil {
			p--
		}
		phase.Store(p)
	}
	trace := &httptrace.ClientTrace{
		ConnectDone:          func(_, _ string, err error) { reached(1, err) },
		TLSHandshakeDone:     func(_ tls.ConnectionState, err error) { reached(2, err) },
		WroteRequest:         func(i httptrace.WroteRequestInfo) { reached(3, i.Err) },
		GotFirstResponseByte: func() { reached(4, nil) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
